package blt4j.compute;

/**
 * Double-precision forwards of the backend ops, written independently of {@link ReferenceKernels}: the ground
 * truth for finite-difference gradients and for checking the float forwards. Same layouts and conventions as
 * {@link Backend} (row-major, per-query key ranges, empty range gives 0).
 */
final class DoubleOps {
    private DoubleOps() {}

    /** C = op(A)·op(B) for one batch slice; A is [M,K] or [K,M] (transA), B is [K,N] or [N,K] (transB). */
    static double[] matmul(double[] a, boolean ta, double[] b, boolean tb, int batch, int m, int n, int k) {
        double[] c = new double[batch * m * n];
        for (int bi = 0; bi < batch; bi++) {
            int ao = bi * m * k;
            int bo = bi * k * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        double av = ta ? a[ao + p * m + i] : a[ao + i * k + p];
                        double bv = tb ? b[bo + j * k + p] : b[bo + p * n + j];
                        s += av * bv;
                    }
                    c[bi * m * n + i * n + j] = s;
                }
            }
        }
        return c;
    }

    static double[] rmsNorm(double[] x, double[] w, int rows, int d, double eps) {
        double[] out = new double[rows * d];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int c = 0; c < d; c++) {
                ss += x[r * d + c] * x[r * d + c];
            }
            double s = 1.0 / Math.sqrt(ss / d + eps);
            for (int c = 0; c < d; c++) {
                out[r * d + c] = x[r * d + c] * s * w[c];
            }
        }
        return out;
    }

    static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    static double[] swiglu(double[] gate, double[] up) {
        double[] out = new double[gate.length];
        for (int i = 0; i < gate.length; i++) {
            out[i] = gate[i] * sigmoid(gate[i]) * up[i];
        }
        return out;
    }

    /** Interleaved-pair rotation by the (given) cos/sin tables [maxPos, headDim/2]. */
    static double[] rope(double[] x, int[] pos, double[] cos, double[] sin, int rows, int nHeads, int headDim) {
        int half = headDim / 2;
        int width = nHeads * headDim;
        double[] out = new double[x.length];
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < nHeads; h++) {
                for (int i = 0; i < half; i++) {
                    int at = r * width + h * headDim + 2 * i;
                    double c = cos[pos[r] * half + i];
                    double s = sin[pos[r] * half + i];
                    out[at] = x[at] * c - x[at + 1] * s;
                    out[at + 1] = x[at] * s + x[at + 1] * c;
                }
            }
        }
        return out;
    }

    /** Multi-head attention, query i attends keys [lo[i], hi[i]); empty range gives 0. */
    static double[] attention(double[] q, double[] k, double[] v, int[] lo, int[] hi, int tq, int nHeads, int headDim) {
        int width = nHeads * headDim;
        double scale = 1.0 / Math.sqrt(headDim);
        double[] out = new double[tq * width];
        for (int h = 0; h < nHeads; h++) {
            for (int i = 0; i < tq; i++) {
                if (hi[i] <= lo[i]) {
                    continue;
                }
                int n = hi[i] - lo[i];
                double[] s = new double[n];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    double dot = 0;
                    for (int d = 0; d < headDim; d++) {
                        dot += q[i * width + h * headDim + d] * k[(lo[i] + j) * width + h * headDim + d];
                    }
                    s[j] = dot * scale;
                    max = Math.max(max, s[j]);
                }
                double z = 0;
                for (int j = 0; j < n; j++) {
                    s[j] = Math.exp(s[j] - max);
                    z += s[j];
                }
                for (int j = 0; j < n; j++) {
                    for (int d = 0; d < headDim; d++) {
                        out[i * width + h * headDim + d] += s[j] / z * v[(lo[i] + j) * width + h * headDim + d];
                    }
                }
            }
        }
        return out;
    }

    static double[] softmax(double[] x, int rows, int cols) {
        double[] out = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, x[r * cols + c]);
            }
            double z = 0;
            for (int c = 0; c < cols; c++) {
                out[r * cols + c] = Math.exp(x[r * cols + c] - max);
                z += out[r * cols + c];
            }
            for (int c = 0; c < cols; c++) {
                out[r * cols + c] /= z;
            }
        }
        return out;
    }

    static double logSumExp(double[] x, int from, int cols) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < cols; c++) {
            max = Math.max(max, x[from + c]);
        }
        double z = 0;
        for (int c = 0; c < cols; c++) {
            z += Math.exp(x[from + c] - max);
        }
        return max + Math.log(z);
    }

    /** Per-row weight·(logsumexp − logit[target]); 0 for a negative target or a zero weight. weights may be null. */
    static double[] crossEntropy(double[] logits, int[] targets, double[] weights, int rows, int cols) {
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double w = weights == null ? 1 : weights[r];
            if (targets[r] < 0 || w == 0) {
                continue;
            }
            out[r] = w * (logSumExp(logits, r * cols, cols) - logits[r * cols + targets[r]]);
        }
        return out;
    }

    /** −Σ p ln p per row. */
    static double[] entropy(double[] logits, int rows, int cols) {
        double[] p = softmax(logits, rows, cols);
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double pi = p[r * cols + c];
                if (pi > 0) {
                    out[r] -= pi * Math.log(pi);
                }
            }
        }
        return out;
    }

    static double[] embedding(double[] table, int[] ids, int d) {
        double[] out = new double[ids.length * d];
        for (int i = 0; i < ids.length; i++) {
            System.arraycopy(table, ids[i] * d, out, i * d, d);
        }
        return out;
    }

    /** Element-wise max over rows [lo[j], hi[j]); 0 for an empty segment. */
    static double[] segmentMax(double[] x, int[] lo, int[] hi, int d) {
        double[] out = new double[lo.length * d];
        for (int j = 0; j < lo.length; j++) {
            for (int c = 0; c < d; c++) {
                double best = Double.NEGATIVE_INFINITY;
                for (int r = lo[j]; r < hi[j]; r++) {
                    best = Math.max(best, x[r * d + c]);
                }
                out[j * d + c] = hi[j] > lo[j] ? best : 0;
            }
        }
        return out;
    }
}
