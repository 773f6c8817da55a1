package blt4j.compute;

/**
 * One contiguous index range {@code [lo[i], hi[i])} per row, kept both on the backend (for kernels) and on
 * the host (for checks and FLOP counts). Every mask BLT needs is of this form: causal, sliding-window and
 * document masks give each query one run of keys, and a patch is one run of bytes.
 */
public final class Ranges {
    private final Tensor lo;
    private final Tensor hi;
    private final int[] hostLo;
    private final int[] hostHi;
    private final long total;
    private final int maxHi;

    private Ranges(Backend backend, int[] lo, int[] hi) {
        if (lo.length != hi.length) {
            throw new IllegalArgumentException("ranges: " + lo.length + " starts but " + hi.length + " ends");
        }
        long sum = 0;
        int max = 0;
        for (int i = 0; i < lo.length; i++) {
            if (lo[i] < 0 || hi[i] < lo[i]) {
                throw new IllegalArgumentException("ranges: row " + i + " has invalid range [" + lo[i] + ", " + hi[i] + ")");
            }
            sum += Math.max(0, hi[i] - lo[i]);
            max = Math.max(max, hi[i]);
        }
        this.hostLo = lo.clone();
        this.hostHi = hi.clone();
        this.total = sum;
        this.maxHi = max;
        this.lo = backend.fromHost(hostLo, lo.length);
        this.hi = backend.fromHost(hostHi, hi.length);
    }

    /** Ranges from explicit bounds; a range with hi ≤ lo is empty (stored as hi == lo). */
    public static Ranges of(Backend backend, int[] lo, int[] hi) {
        int[] h = hi.clone();
        for (int i = 0; i < h.length; i++) {
            if (h[i] < lo[i]) {
                h[i] = lo[i];
            }
        }
        return new Ranges(backend, lo, h);
    }

    public Tensor lo() {
        return lo;
    }

    public Tensor hi() {
        return hi;
    }

    public int lo(int row) {
        return hostLo[row];
    }

    public int hi(int row) {
        return hostHi[row];
    }

    /** Number of rows. */
    public int count() {
        return hostLo.length;
    }

    /** Total number of covered indices (attention: (query, key) pairs per head). */
    public long total() {
        return total;
    }

    public int maxHi() {
        return maxHi;
    }
}
