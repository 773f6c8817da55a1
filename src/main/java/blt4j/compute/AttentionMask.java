package blt4j.compute;

/**
 * Builds the key ranges of the attention masks BLT uses (BLT-REFERENCE §8). Because documents are contiguous
 * and windows count back from the query, "causal ∧ same document ∧ q − k &lt; window" is one range per query.
 */
public final class AttentionMask {
    private AttentionMask() {}

    /**
     * Self-attention over a sequence of length t: causal, a sliding window that counts the query itself
     * ({@code window <= 0}: unlimited), and documents that end <em>after</em> each position where
     * {@code docEnd[i]} is true (null: one document).
     */
    public static Ranges selfAttention(Backend backend, int t, int window, boolean[] docEnd) {
        int[] lo = new int[t];
        int[] hi = new int[t];
        int docStart = 0;
        for (int i = 0; i < t; i++) {
            int start = docStart;
            if (window > 0) {
                start = Math.max(start, i - window + 1);
            }
            lo[i] = start;
            hi[i] = i + 1;
            if (docEnd != null && docEnd[i]) {
                docStart = i + 1;
            }
        }
        return Ranges.of(backend, lo, hi);
    }

    /** Documents split after every token equal to {@code eosId} (the local models' rule). */
    public static boolean[] splitAfter(int[] tokens, int eosId) {
        boolean[] end = new boolean[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            end[i] = tokens[i] == eosId;
        }
        return end;
    }

    /** Several independent sequences of length t stacked as rows [b·t, (b+1)·t): each row's ranges shifted. */
    public static Ranges batched(Backend backend, int batch, int t, int window, boolean[] docEnd) {
        int[] lo = new int[batch * t];
        int[] hi = new int[batch * t];
        fillBatched(batch, t, window, docEnd, lo, hi);
        return Ranges.of(backend, lo, hi);
    }

    /** {@link #batched} into caller-owned bound arrays (rows [0, batch·t)). */
    public static void fillBatched(int batch, int t, int window, boolean[] docEnd, int[] lo, int[] hi) {
        for (int b = 0; b < batch; b++) {
            int docStart = 0;
            for (int i = 0; i < t; i++) {
                int start = window > 0 ? Math.max(docStart, i - window + 1) : docStart;
                lo[b * t + i] = b * t + start;
                hi[b * t + i] = b * t + i + 1;
                if (docEnd != null && docEnd[b * t + i]) {
                    docStart = i + 1;
                }
            }
        }
    }

    /**
     * Cross-attention where query i sees exactly keys [lo[i], hi[i]) — e.g. the encoder's patch slots see
     * their patch's bytes, the decoder's bytes see their patch's k slots. Empty ranges are allowed.
     */
    public static Ranges cross(Backend backend, int[] lo, int[] hi) {
        return Ranges.of(backend, lo, hi);
    }
}
