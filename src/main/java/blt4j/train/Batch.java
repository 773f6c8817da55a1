package blt4j.train;

/** Rows of next-byte prediction: inputs[i] predicts targets[i]; weight 0 marks padding that is not scored. */
public record Batch(int[] inputs, int[] targets, float[] weights, int rows, int seqLen) {

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
