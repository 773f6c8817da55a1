package blt4j.model;

/**
 * Rows of next-byte prediction: inputs[i] predicts targets[i]; weight 0 marks padding that is not scored.
 * For BLT, patchLengths holds each row's patch lengths (next-byte-slot convention); null for plain byte LMs.
 */
public record Batch(int[] inputs, int[] targets, float[] weights, int rows, int seqLen, int[][] patchLengths) {

    public Batch(int[] inputs, int[] targets, float[] weights, int rows, int seqLen) {
        this(inputs, targets, weights, rows, seqLen, null);
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
}
