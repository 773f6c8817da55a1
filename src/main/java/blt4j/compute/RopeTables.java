package blt4j.compute;

/**
 * cos/sin tables for rotary embeddings, built on the host in fp32 exactly as the reference does
 * (freq = 1/θ^(2i/d) in fp32, angle = fp32(pos)·freq in fp32), so every backend rotates by identical angles.
 */
public final class RopeTables {
    private final Tensor cos;
    private final Tensor sin;
    private final int maxPositions;
    private final int headDim;
    private final double theta;

    private RopeTables(Tensor cos, Tensor sin, int maxPositions, int headDim, double theta) {
        this.cos = cos;
        this.sin = sin;
        this.maxPositions = maxPositions;
        this.headDim = headDim;
        this.theta = theta;
    }

    public static RopeTables build(Backend backend, double theta, int headDim, int maxPositions) {
        float[][] cs = hostTables(theta, headDim, maxPositions);
        int half = headDim / 2;
        return new RopeTables(backend.fromHost(cs[0], maxPositions, half), backend.fromHost(cs[1], maxPositions, half),
                maxPositions, headDim, theta);
    }

    /** {cos, sin}, each [maxPositions · headDim/2]. */
    public static float[][] hostTables(double theta, int headDim, int maxPositions) {
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("RoPE head dim must be even, got " + headDim);
        }
        int half = headDim / 2;
        float[] freq = new float[half];
        float th = (float) theta;
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / (float) headDim;
            freq[i] = 1f / (float) StrictMath.pow(th, exponent);
        }
        float[] cos = new float[maxPositions * half];
        float[] sin = new float[maxPositions * half];
        for (int p = 0; p < maxPositions; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) p * freq[i];
                cos[p * half + i] = (float) StrictMath.cos(angle);
                sin[p * half + i] = (float) StrictMath.sin(angle);
            }
        }
        return new float[][] {cos, sin};
    }

    public Tensor cos() {
        return cos;
    }

    public Tensor sin() {
        return sin;
    }

    public int maxPositions() {
        return maxPositions;
    }

    public int headDim() {
        return headDim;
    }

    public double theta() {
        return theta;
    }
}
