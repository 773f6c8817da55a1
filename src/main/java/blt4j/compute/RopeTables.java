package blt4j.compute;

/**
 * cos/sin tables for rotary embeddings, built on the host in fp32 exactly as the reference does
 * (freq = 1/θ^(2i/d) in fp32, angle = fp32(pos)·freq in fp32), so every backend rotates by identical angles.
 */
public final class RopeTables {
    private final Tensor cos;
    private final Tensor sin;
    private Tensor inverseSin;   // built on first use: only training needs it
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
        float[] freq = frequencies(theta, headDim);
        int half = headDim / 2;
        float[] cos = new float[maxPositions * half];
        float[] sin = new float[maxPositions * half];
        for (int p = 0; p < maxPositions; p++) {
            angles(freq, p, cos, sin, p * half);
        }
        return new float[][] {cos, sin};
    }

    /**
     * A table of {@code rows} rows refilled by {@link #fillRows} with the angles of any positions, for positions past
     * a model's table (generation beyond max_seqlen); each row equals that position's row of a table built large enough.
     */
    public static RopeTables rowsFor(Backend backend, double theta, int headDim, int rows) {
        frequencies(theta, headDim);
        int half = headDim / 2;
        return new RopeTables(backend.zeros(rows, half), backend.zeros(rows, half), rows, headDim, theta);
    }

    /** Row i of this table gets the angles of position positions[i], for i &lt; n. */
    public void fillRows(int[] positions, int n) {
        float[] freq = frequencies(theta, headDim);
        int half = headDim / 2;
        float[] c = new float[n * half];
        float[] s = new float[n * half];
        for (int i = 0; i < n; i++) {
            angles(freq, positions[i], c, s, i * half);
        }
        Backend b = cos.backend();
        b.upload(c, 0, cos.rowSlice(0, n));
        b.upload(s, 0, sin.rowSlice(0, n));
        if (inverseSin != null) {
            for (int i = 0; i < s.length; i++) {
                s[i] = -s[i];
            }
            b.upload(s, 0, inverseSin.rowSlice(0, n));
        }
    }

    private static float[] frequencies(double theta, int headDim) {
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
        return freq;
    }

    private static void angles(float[] freq, int p, float[] cos, float[] sin, int at) {
        for (int i = 0; i < freq.length; i++) {
            float angle = (float) p * freq[i];
            cos[at + i] = (float) StrictMath.cos(angle);
            sin[at + i] = (float) StrictMath.sin(angle);
        }
    }

    public Tensor cos() {
        return cos;
    }

    public Tensor sin() {
        return sin;
    }

    /**
     * −sin: {@link Backend#rope} with this table rotates by −angle, the transpose of the forward rotation, so a
     * backward can turn dq into the gradient before RoPE in place (negation is exact: the same products as
     * {@link Backend#ropeBackward} into a zeroed buffer, without that buffer).
     */
    public Tensor inverseSin() {
        if (inverseSin == null) {
            Backend b = sin.backend();
            Tensor t = b.zeros(sin.rows(), sin.cols());
            b.axpy(-1f, sin, t);   // 0 + (−1)·sin: exactly −sin
            inverseSin = t;
        }
        return inverseSin;
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
