package blt4j.model;

/**
 * Analytic forward FLOPs (multiply-adds counted as 2) of the matrix products and attention a BLT forward
 * runs, following the paper's accounting (BLT-REFERENCE §11): projections 2·d² per token per matrix, SwiGLU
 * 3 matrices of d × hidden, attention 4·d per (query, key) pair, embeddings free. The attention context of
 * each module is computed from the sequence and patch shape in closed form (causal, windowed), so this
 * predicts what the backend's FLOP counter measures without running anything.
 */
public final class FlopModel {
    private FlopModel() {}

    /** FLOPs of one forward over one row of n bytes cut into the given number of patches (next-slot included). */
    public static double bltForward(BltConfig c, int n, int patches) {
        int k = c.crossAttnK;
        double dl = c.dimLocalEncoder;
        double dd = c.dimLocalDecoder;
        double dg = c.dimGlobal;
        double localPairs = causalPairs(n, c.window());
        double encoder = c.nLayersLocalEncoder * (n * block(dl, c.hiddenLocalEncoder()) + 4 * dl * localPairs);
        // pooled queries → k slots; cross-attention: q/o on P·k slots, k/v on the n bytes, each slot sees its patch's bytes
        double encoderCross = 2 * dl * dl * k * patches
                + 2 * dl * dl * (2.0 * patches * k + 2.0 * n) + 4 * dl * k * (double) n;
        double globalIn = c.globalInputProjection() ? 2 * (k * dl) * dg * patches : 0;
        double global = c.nLayersGlobal * (patches * block(dg, c.hiddenGlobal()) + 4 * dg * causalPairs(patches, 0)) + globalIn;
        int crossLayers = c.crossAttnAllLayersDecoder ? c.nLayersLocalDecoder : 1;
        double decoderCross = 2 * dg * dd * k * patches
                + crossLayers * (2 * dd * dd * (2.0 * n + 2.0 * patches * k) + 4 * dd * k * (double) n);
        double decoder = c.nLayersLocalDecoder * (n * block(dd, c.hiddenLocalDecoder()) + 4 * dd * localPairs)
                + 2 * dd * c.vocabSize * (double) n;
        return encoder + encoderCross + global + decoder + decoderCross;
    }

    /** FLOPs of one forward of a plain byte LM (the entropy model or the byte-transformer baseline) over n bytes. */
    public static double lmForward(EntropyModelConfig c, int n) {
        return c.nLayers * (n * block(c.dim, c.hiddenDim()) + 4.0 * c.dim * causalPairs(n, c.window()))
                + 2.0 * c.dim * c.vocabSize * n;
    }

    /** QKVO (4 matrices d×d) and SwiGLU (3 matrices d×hidden) per token. */
    private static double block(double d, int hidden) {
        return 2 * 4 * d * d + 2 * 3 * d * hidden;
    }

    /** Number of (query, key) pairs of causal attention over n positions with a window counting the query itself. */
    public static double causalPairs(long n, int window) {
        if (window <= 0 || n <= window) {
            return n * (n + 1) / 2.0;
        }
        return window * (window + 1) / 2.0 + (double) (n - window) * window;
    }
}
