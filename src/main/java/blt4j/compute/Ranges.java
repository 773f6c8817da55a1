package blt4j.compute;

import java.util.Arrays;

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

    private Ranges(Tensor loDevice, Tensor hiDevice, int[] lo, int[] hi) {
        this(loDevice, hiDevice, lo, hi, true);
    }

    private Ranges(Tensor loDevice, Tensor hiDevice, int[] lo, int[] hi, boolean upload) {
        long sum = 0;
        int max = 0;
        for (int i = 0; i < lo.length; i++) {
            if (lo[i] < 0 || hi[i] < lo[i]) {
                throw new IllegalArgumentException("ranges: row " + i + " has invalid range [" + lo[i] + ", " + hi[i] + ")");
            }
            sum += hi[i] - lo[i];
            max = Math.max(max, hi[i]);
        }
        this.hostLo = lo;
        this.hostHi = hi;
        this.total = sum;
        this.maxHi = max;
        if (upload) {
            loDevice.backend().upload(lo, loDevice);
            hiDevice.backend().upload(hi, hiDevice);
        }
        this.lo = loDevice;
        this.hi = hiDevice;
    }

    /** Ranges from explicit bounds; a range with hi ≤ lo is empty (stored as hi == lo). */
    public static Ranges of(Backend backend, int[] lo, int[] hi) {
        requireSameLength(lo.length, hi.length);
        return new Ranges(backend.allocate(DType.I32, lo.length), backend.allocate(DType.I32, lo.length), lo.clone(),
                clampedHi(lo, hi, lo.length));
    }

    /**
     * The first {@code count} bounds written into existing I32 buffers of at least that size (a model state's
     * mask buffers), so building a mask uploads but never allocates on the backend.
     */
    public static Ranges into(Tensor loBuffer, Tensor hiBuffer, int[] lo, int[] hi, int count) {
        if (count > lo.length || count > hi.length || count > loBuffer.size() || count > hiBuffer.size()) {
            throw new IllegalArgumentException("ranges: " + count + " rows do not fit bounds of " + lo.length + "/" + hi.length
                    + " and buffers of " + loBuffer.size() + "/" + hiBuffer.size());
        }
        return new Ranges(loBuffer.view(0, count), hiBuffer.view(0, count), Arrays.copyOf(lo, count),
                clampedHi(lo, hi, count));
    }

    private static int[] clampedHi(int[] lo, int[] hi, int count) {
        int[] h = Arrays.copyOf(hi, count);
        for (int i = 0; i < count; i++) {
            if (h[i] < lo[i]) {
                h[i] = lo[i];
            }
        }
        return h;
    }

    private static void requireSameLength(int lo, int hi) {
        if (lo != hi) {
            throw new IllegalArgumentException("ranges: " + lo + " starts but " + hi + " ends");
        }
    }

    public Tensor lo() {
        return lo;
    }

    public Tensor hi() {
        return hi;
    }

    /** Row i alone, a view of the same backend buffers (nothing is uploaded). */
    public Ranges row(int i) {
        return new Ranges(lo.view(i, 1), hi.view(i, 1), new int[] {hostLo[i]}, new int[] {hostHi[i]}, false);
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
