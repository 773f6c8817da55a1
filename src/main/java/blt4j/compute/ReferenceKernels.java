package blt4j.compute;

/**
 * The oracle: every op as plain loops over flat arrays, in TornadoVM's style (static methods, arrays plus
 * offsets, one outer loop over an independent index that a parallel runtime could split). Obviously correct
 * first, fast never; every other backend is tested against these.
 */
public final class ReferenceKernels {
    private ReferenceKernels() {}

    public static void add(float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i++) {
            out[oo + i] = a[ao + i] + b[bo + i];
        }
    }

    public static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) {
            y[yo + i] += alpha * x[xo + i];
        }
    }

    public static void scale(float[] x, int xo, float s, float[] out, int oo, int n) {
        for (int i = 0; i < n; i++) {
            out[oo + i] = s * x[xo + i];
        }
    }

    /** C[m,n] (+)= Σ_k op(A)[m,k]·op(B)[k,n]; one outer index over the M·N outputs. */
    public static void matmul(float[] a, int ao, boolean ta, float[] b, int bo, boolean tb, float[] c, int co,
                              boolean acc, int m, int n, int k) {
        for (int idx = 0; idx < m * n; idx++) {
            int i = idx / n;
            int j = idx % n;
            float sum = 0f;
            for (int p = 0; p < k; p++) {
                float av = ta ? a[ao + p * m + i] : a[ao + i * k + p];
                float bv = tb ? b[bo + j * k + p] : b[bo + p * n + j];
                sum += av * bv;
            }
            c[co + idx] = acc ? c[co + idx] + sum : sum;
        }
    }

    public static void rmsNorm(float[] x, int xo, float[] w, int wo, float[] out, int oo, float[] rstd, int ro,
                               int rows, int d, float eps) {
        for (int r = 0; r < rows; r++) {
            float ss = 0f;
            for (int c = 0; c < d; c++) {
                float v = x[xo + r * d + c];
                ss += v * v;
            }
            float s = (float) (1.0 / Math.sqrt(ss / d + eps));
            rstd[ro + r] = s;
            for (int c = 0; c < d; c++) {
                out[oo + r * d + c] = x[xo + r * d + c] * s * w[wo + c];
            }
        }
    }

    /** dx += s·(w⊙g − x·s²·mean(x⊙w⊙g)), dw += Σ_rows g⊙x·s. */
    public static void rmsNormBackward(float[] dout, int go, float[] x, int xo, float[] w, int wo, float[] rstd, int ro,
                                       float[] dx, int dxo, float[] dw, int dwo, int rows, int d) {
        for (int r = 0; r < rows; r++) {
            float s = rstd[ro + r];
            float dot = 0f;
            for (int c = 0; c < d; c++) {
                dot += dout[go + r * d + c] * w[wo + c] * x[xo + r * d + c];
            }
            float coef = dot * s * s * s / d;
            for (int c = 0; c < d; c++) {
                float g = dout[go + r * d + c];
                dx[dxo + r * d + c] += g * w[wo + c] * s - x[xo + r * d + c] * coef;
            }
        }
        for (int c = 0; c < d; c++) {
            float sum = 0f;
            for (int r = 0; r < rows; r++) {
                sum += dout[go + r * d + c] * x[xo + r * d + c] * rstd[ro + r];
            }
            dw[dwo + c] += sum;
        }
    }

    static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    public static void swiglu(float[] gate, int gto, float[] up, int uo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[gto + i];
            out[oo + i] = g * sigmoid(g) * up[uo + i];
        }
    }

    public static void swigluBackward(float[] dout, int go, float[] gate, int gto, float[] up, int uo,
                                      float[] dgate, int dgo, float[] dup, int duo, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[gto + i];
            float sg = sigmoid(g);
            float d = dout[go + i];
            dgate[dgo + i] += d * up[uo + i] * sg * (1f + g * (1f - sg));
            dup[duo + i] += d * g * sg;
        }
    }

    /** Rotates interleaved pairs; backward applies the inverse rotation and accumulates. */
    public static void rope(float[] x, int xo, int[] pos, int po, float[] cos, int co, float[] sin, int so,
                            float[] out, int oo, int rows, int nHeads, int headDim, boolean backward) {
        int half = headDim / 2;
        int width = nHeads * headDim;
        for (int r = 0; r < rows; r++) {
            int p = pos[po + r];
            for (int h = 0; h < nHeads; h++) {
                for (int i = 0; i < half; i++) {
                    int at = r * width + h * headDim + 2 * i;
                    float c = cos[co + p * half + i];
                    float s = sin[so + p * half + i];
                    float x0 = x[xo + at];
                    float x1 = x[xo + at + 1];
                    if (backward) {
                        out[oo + at] += x0 * c + x1 * s;
                        out[oo + at + 1] += -x0 * s + x1 * c;
                    } else {
                        out[oo + at] = x0 * c - x1 * s;
                        out[oo + at + 1] = x0 * s + x1 * c;
                    }
                }
            }
        }
    }

    /** One (head, query) pair per outer index; scores, softmax and weighted sum over the query's key range. */
    public static void attention(float[] q, int qo, float[] k, int ko, float[] v, int vo, float[] out, int oo,
                                 float[] lse, int lo, int[] keyLo, int klo, int[] keyHi, int kho,
                                 int tq, int nHeads, int headDim) {
        int width = nHeads * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (int idx = 0; idx < nHeads * tq; idx++) {
            int h = idx / tq;
            int i = idx % tq;
            int from = keyLo[klo + i];
            int to = keyHi[kho + i];
            int qrow = qo + i * width + h * headDim;
            int orow = oo + i * width + h * headDim;
            for (int d = 0; d < headDim; d++) {
                out[orow + d] = 0f;
            }
            if (to <= from) {
                lse[lo + idx] = Float.NEGATIVE_INFINITY;
                continue;
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int j = from; j < to; j++) {
                max = Math.max(max, score(q, qrow, k, ko + j * width + h * headDim, headDim, scale));
            }
            float sum = 0f;
            for (int j = from; j < to; j++) {
                float p = (float) Math.exp(score(q, qrow, k, ko + j * width + h * headDim, headDim, scale) - max);
                sum += p;
                int vrow = vo + j * width + h * headDim;
                for (int d = 0; d < headDim; d++) {
                    out[orow + d] += p * v[vrow + d];
                }
            }
            for (int d = 0; d < headDim; d++) {
                out[orow + d] /= sum;
            }
            lse[lo + idx] = max + (float) Math.log(sum);
        }
    }

    static float score(float[] q, int qrow, float[] k, int krow, int headDim, float scale) {
        float s = 0f;
        for (int d = 0; d < headDim; d++) {
            s += q[qrow + d] * k[krow + d];
        }
        return s * scale;
    }

    /** Gradients of {@link #attention}; sequential over queries so the dk/dv scatter needs no atomics. */
    public static void attentionBackward(float[] dout, int go, float[] q, int qo, float[] k, int ko, float[] v, int vo,
                                         float[] out, int oo, float[] lse, int lo, int[] keyLo, int klo, int[] keyHi, int kho,
                                         float[] dq, int dqo, float[] dk, int dko, float[] dv, int dvo,
                                         int tq, int nHeads, int headDim) {
        int width = nHeads * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (int h = 0; h < nHeads; h++) {
            for (int i = 0; i < tq; i++) {
                int from = keyLo[klo + i];
                int to = keyHi[kho + i];
                if (to <= from) {
                    continue;
                }
                int qrow = i * width + h * headDim;
                float l = lse[lo + h * tq + i];
                float dsum = 0f;
                for (int d = 0; d < headDim; d++) {
                    dsum += dout[go + qrow + d] * out[oo + qrow + d];
                }
                for (int j = from; j < to; j++) {
                    int krow = j * width + h * headDim;
                    float p = (float) Math.exp(score(q, qo + qrow, k, ko + krow, headDim, scale) - l);
                    float dp = 0f;
                    for (int d = 0; d < headDim; d++) {
                        dp += dout[go + qrow + d] * v[vo + krow + d];
                    }
                    float ds = p * (dp - dsum) * scale;
                    for (int d = 0; d < headDim; d++) {
                        dq[dqo + qrow + d] += ds * k[ko + krow + d];
                        dk[dko + krow + d] += ds * q[qo + qrow + d];
                        dv[dvo + krow + d] += p * dout[go + qrow + d];
                    }
                }
            }
        }
    }

    /** log Σ exp over one row, stable. */
    static float logSumExp(float[] x, int from, int cols) {
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < cols; c++) {
            max = Math.max(max, x[from + c]);
        }
        float sum = 0f;
        for (int c = 0; c < cols; c++) {
            sum += (float) Math.exp(x[from + c] - max);
        }
        return max + (float) Math.log(sum);
    }

    public static void crossEntropy(float[] logits, int lo, int[] targets, int to, float[] weights, int wo,
                                    float[] losses, int so, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int t = targets[to + r];
            float w = weights == null ? 1f : weights[wo + r];
            if (t < 0 || w == 0f) {
                losses[so + r] = 0f;
                continue;
            }
            losses[so + r] = w * (logSumExp(logits, lo + r * cols, cols) - logits[lo + r * cols + t]);
        }
    }

    public static void crossEntropyBackward(float[] logits, int lo, int[] targets, int to, float[] weights, int wo,
                                            float scale, float[] dlogits, int dlo, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int t = targets[to + r];
            float w = weights == null ? 1f : weights[wo + r];
            if (t < 0 || w == 0f) {
                continue;
            }
            float lse = logSumExp(logits, lo + r * cols, cols);
            float f = scale * w;
            for (int c = 0; c < cols; c++) {
                float p = (float) Math.exp(logits[lo + r * cols + c] - lse);
                dlogits[dlo + r * cols + c] += f * (c == t ? p - 1f : p);
            }
        }
    }

    /** H = −Σ p ln p = log Z − Σ p·(x − max), with Z = Σ exp(x − max). */
    public static void entropy(float[] logits, int lo, float[] out, int oo, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int base = lo + r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, logits[base + c]);
            }
            float z = 0f;
            float wsum = 0f;
            for (int c = 0; c < cols; c++) {
                float sh = logits[base + c] - max;
                float e = (float) Math.exp(sh);
                z += e;
                wsum += e * sh;
            }
            out[oo + r] = (float) Math.log(z) - wsum / z;
        }
    }

    public static void embedding(float[] table, int tbo, int[] ids, int io, float[] out, int oo, int n, int d,
                                 int tableRows, boolean acc) {
        for (int i = 0; i < n; i++) {
            int id = ids[io + i];
            for (int c = 0; c < d; c++) {
                float v = table[tbo + id * d + c];
                out[oo + i * d + c] = acc ? out[oo + i * d + c] + v : v;
            }
        }
    }

    public static void embeddingBackward(float[] dout, int go, int[] ids, int io, float[] dtable, int dto, int n, int d,
                                         int tableRows) {
        for (int i = 0; i < n; i++) {
            int id = ids[io + i];
            for (int c = 0; c < d; c++) {
                dtable[dto + id * d + c] += dout[go + i * d + c];
            }
        }
    }

    /** Ties keep the first (lowest) row, so the gradient goes to one row. */
    public static void segmentMax(float[] x, int xo, int[] segLo, int slo, int[] segHi, int sho, float[] out, int oo,
                                  int[] argmax, int ao, int segments, int d) {
        for (int idx = 0; idx < segments * d; idx++) {
            int s = idx / d;
            int c = idx % d;
            int from = segLo[slo + s];
            int to = segHi[sho + s];
            float best = 0f;
            int arg = -1;
            for (int r = from; r < to; r++) {
                float v = x[xo + r * d + c];
                if (arg < 0 || v > best) {
                    best = v;
                    arg = r;
                }
            }
            out[oo + idx] = best;
            argmax[ao + idx] = arg;
        }
    }

    public static void segmentMaxBackward(float[] dout, int go, int[] argmax, int ao, float[] dx, int dxo, int segments, int d) {
        for (int idx = 0; idx < segments * d; idx++) {
            int r = argmax[ao + idx];
            if (r >= 0) {
                dx[dxo + r * d + idx % d] += dout[go + idx];
            }
        }
    }

    public static void adamw(float[] p, int po, float[] g, int go, float[] m, int mo, float[] v, int vo, int n,
                             float lr, float beta1, float beta2, float eps, float wd, float bc1, float bc2) {
        for (int i = 0; i < n; i++) {
            float grad = g[go + i];
            float param = p[po + i] * (1f - lr * wd);
            float mi = beta1 * m[mo + i] + (1f - beta1) * grad;
            float vi = beta2 * v[vo + i] + (1f - beta2) * grad * grad;
            m[mo + i] = mi;
            v[vo + i] = vi;
            p[po + i] = param - (lr / bc1) * mi / ((float) Math.sqrt(vi / bc2) + eps);
        }
    }

    public static double sumOfSquares(float[] x, int xo, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += (double) x[xo + i] * x[xo + i];
        }
        return s;
    }
}
