package blt4j.model;

/**
 * Rows of next-token prediction: inputs[i] predicts targets[i]; weight 0 marks padding that is not scored.
 * For BLT, patchLengths holds each row's patch lengths (next-byte-slot convention); null for plain LMs.
 * {@code positions} is the number of byte-stream positions the scored targets stand for: for byte models the
 * scored count itself (pass -1), for the BPE model the bytes (and specials) of its scored tokens, the divisor of
 * bits per byte.
 */
public record Batch(int[] inputs, int[] targets, float[] weights, int rows, int seqLen, int[][] patchLengths, long positions) {

    public Batch(int[] inputs, int[] targets, float[] weights, int rows, int seqLen, int[][] patchLengths) {
        this(inputs, targets, weights, rows, seqLen, patchLengths, -1);
    }

    public Batch(int[] inputs, int[] targets, float[] weights, int rows, int seqLen) {
        this(inputs, targets, weights, rows, seqLen, null, -1);
    }

    /** Number of scored positions. */
    public int counted() {
        int n = 0;
        for (int i = 0; i < targets.length; i++) {
            if (weights[i] != 0f && targets[i] >= 0) {
                n++;
            }
        }
        return n;
    }

    /** Byte-stream positions of the scored targets: {@link #counted()} for byte models. */
    public long predictedBytes() {
        return positions < 0 ? counted() : positions;
    }
}
