package blt4j.model;

/**
 * Hash n-gram ids for the local encoder's hash embeddings (BLT-REFERENCE §5.1). Written in a flat-array,
 * single-loop-index style so the same code can be moved to a GPU kernel (TornadoVM/OpenCL).
 */
public final class HashNgram {
    /** Primes indexed by hash-function number (§5.1); released models use only the first. */
    public static final long[] PRIMES = {
        1000000007L, 5915587277L, 1500450271L, 3267000013L, 5754853343L, 4093082899L,
        9576890767L, 3628273133L, 2860486313L, 5463458053L, 3367900313L,
    };
    /** n-gram sizes used by every released BLT model. */
    public static final int[] DEFAULT_GROUP_SIZES = {3, 4, 5, 6, 7, 8};
    /** Rows per hash table in released models (500 002, not the paper's 500 000). */
    public static final int DEFAULT_VOCAB = 500002;

    private HashNgram() {}

    /**
     * Polynomial hash of the n ids ending at {@code pos}, oldest first: sum of window[k]·prime^k.
     * Positions before 0 read as id 0. Arithmetic wraps in signed 64 bits like the reference's int64
     * tensors (§15.3: oldest × prime⁰, the paper writes the reverse).
     */
    public static long rollingHash(int[] ids, int pos, int n, long prime) {
        long h = 0L;
        long pw = 1L;
        for (int k = 0; k < n; k++) {
            int src = pos - n + 1 + k;
            long v = src >= 0 ? ids[src] : 0L;
            h += v * pw;
            pw *= prime;
        }
        return h;
    }

    /** Hash ids of size-{@code n} windows for every position; {@code out.length >= ids.length}. */
    public static void hashIds(int[] ids, int n, int functionIndex, int vocab, int[] out) {
        long prime = PRIMES[functionIndex];
        for (int pos = 0; pos < ids.length; pos++) {
            // floorMod, not %: the wrapped hash is often negative and torch's % is a floor modulo.
            out[pos] = (int) Math.floorMod(rollingHash(ids, pos, n, prime), (long) vocab);
        }
    }

    /** Table index of (function f, size index s): function-major, as the reference orders its tables. */
    public static int tableIndex(int functionIndex, int sizeIndex, int nbSizes) {
        return functionIndex * nbSizes + sizeIndex;
    }

    /** All tables' ids: result[f * groupSizes.length + s][pos]. */
    public static int[][] allHashIds(int[] ids, int[] groupSizes, int nbFunctions, int vocab) {
        int[][] out = new int[nbFunctions * groupSizes.length][ids.length];
        for (int f = 0; f < nbFunctions; f++) {
            for (int s = 0; s < groupSizes.length; s++) {
                hashIds(ids, groupSizes[s], f, vocab, out[tableIndex(f, s, groupSizes.length)]);
            }
        }
        return out;
    }

    /**
     * Flat variant for kernels: {@code out[t * N + pos]} for table t, one loop over t·N + pos.
     * {@code out.length >= nbFunctions * groupSizes.length * N}.
     */
    public static void allHashIdsFlat(int[] ids, int[] groupSizes, int nbFunctions, int vocab, int[] out) {
        int n = ids.length;
        int total = nbFunctions * groupSizes.length * n;
        for (int i = 0; i < total; i++) {
            int t = i / n;
            int pos = i - t * n;
            int f = t / groupSizes.length;
            int size = groupSizes[t - f * groupSizes.length];
            out[i] = (int) Math.floorMod(rollingHash(ids, pos, size, PRIMES[f]), (long) vocab);
        }
    }
}
