package blt4j.compute;

/**
 * The oracle, written as lane bodies: each method computes the outputs of one parallel index (one element, row,
 * query, key or column) and {@link ReferenceBackend} loops over that index. A TornadoVM task can run the same
 * bodies unchanged inside a {@code @Parallel} loop, so the shape rules are strict: static, flat arrays, every int
 * scalar (offsets first, then sizes and 0/1 flags) in one {@code int[] dims} holder, float scalars as arguments,
 * at most 15 arguments, no return value, no exception, no allocation, no null arrays, and transcendental math
 * through {@link KernelMath}. Indices are valid by contract ({@link Backend} checks them). Backward bodies follow
 * the OpenCL decomposition: no two indices write one element, so no body needs atomics. Obviously correct first,
 * fast never: every other backend is tested against these.
 */
public final class ReferenceKernels {
    private ReferenceKernels() {}

    // ------------------------------------------------------------------ elementwise: one element per index

    /** dims = {ao, bo, oo}. */
    public static void addItem(float[] a, float[] b, float[] out, int[] dims, int i) {
        out[dims[2] + i] = a[dims[0] + i] + b[dims[1] + i];
    }

    /** dims = {xo, yo}. */
    public static void axpyItem(float alpha, float[] x, float[] y, int[] dims, int i) {
        y[dims[1] + i] += alpha * x[dims[0] + i];
    }

    /** dims = {xo, oo}. */
    public static void scaleItem(float[] x, float s, float[] out, int[] dims, int i) {
        out[dims[1] + i] = s * x[dims[0] + i];
    }

    /** dims = {gto, uo, oo}. */
    public static void swigluItem(float[] gate, float[] up, float[] out, int[] dims, int i) {
        float g = gate[dims[0] + i];
        out[dims[2] + i] = g * KernelMath.sigmoid(g) * up[dims[1] + i];
    }

    /** dims = {go, gto, uo, dgo, duo}. */
    public static void swigluBackwardItem(float[] dout, float[] gate, float[] up, float[] dgate, float[] dup, int[] dims, int i) {
        float g = gate[dims[1] + i];
        float sg = KernelMath.sigmoid(g);
        float d = dout[dims[0] + i];
        dgate[dims[3] + i] = d * up[dims[2] + i] * sg * (1f + g * (1f - sg));
        dup[dims[4] + i] = d * g * sg;
    }

    /**
     * One AdamW element; bc1, bc2 are the bias corrections 1 − β^step. dims = {po, go, mo, vo}.
     */
    public static void adamwItem(float[] p, float[] g, float[] m, float[] v, int[] dims, float lr, float beta1, float beta2,
                                 float eps, float wd, float bc1, float bc2, int i) {
        int pi = dims[0] + i, mi = dims[2] + i, vi = dims[3] + i;
        float grad = g[dims[1] + i];
        float param = p[pi] * (1f - lr * wd);
        float mv = beta1 * m[mi] + (1f - beta1) * grad;
        float vv = beta2 * v[vi] + (1f - beta2) * grad * grad;
        m[mi] = mv;
        v[vi] = vv;
        p[pi] = param - (lr / bc1) * mv / (KernelMath.sqrt(vv / bc2) + eps);
    }

    /** partials[ch] = Σ x² over chunk ch of {@code chunk} elements, in double. dims = {xo, n, chunk}. */
    public static void sumOfSquaresChunk(float[] x, double[] partials, int[] dims, int ch) {
        int from = ch * dims[2];
        int to = Math.min(dims[1], from + dims[2]);
        double s = 0;
        for (int i = from; i < to; i++) {
            float v = x[dims[0] + i];
            s += (double) v * v;
        }
        partials[ch] = s;
    }

    // ------------------------------------------------------------------ matmul: one output element per index

    /**
     * C[b, i, j] (+)= Σ_p op(A)[b, i, p]·op(B)[b, p, j] for idx = (b·M + i)·N + j.
     * dims = {ao, bo, co, m, n, k, transA, transB, accumulate}.
     */
    public static void matmulItem(float[] a, float[] b, float[] c, int[] dims, int idx) {
        int m = dims[3], n = dims[4], k = dims[5];
        boolean ta = dims[6] != 0, tb = dims[7] != 0;
        int bi = idx / (m * n);
        int i = idx / n % m;
        int j = idx % n;
        int ab = dims[0] + bi * m * k;
        int bb = dims[1] + bi * k * n;
        float sum = 0f;
        for (int p = 0; p < k; p++) {
            float av = ta ? a[ab + p * m + i] : a[ab + i * k + p];
            float bv = tb ? b[bb + j * k + p] : b[bb + p * n + j];
            sum += av * bv;
        }
        int at = dims[2] + idx;
        c[at] = dims[8] != 0 ? c[at] + sum : sum;
    }

    /**
     * C[b, i, j] (+)= Σ_p A[b, i, p]·W[b, j, p] with W in bfloat16 bits (an inference weight, widened exactly to fp32),
     * for idx = (b·M + i)·N + j. dims = {ao, wo, co, m, n, k, accumulate}.
     */
    public static void matmulBf16Item(float[] a, short[] w, float[] c, int[] dims, int idx) {
        int m = dims[3], n = dims[4], k = dims[5];
        int bi = idx / (m * n);
        int i = idx / n % m;
        int j = idx % n;
        int ab = dims[0] + bi * m * k + i * k;
        int wb = dims[1] + bi * k * n + j * k;
        float sum = 0f;
        for (int p = 0; p < k; p++) {
            sum += a[ab + p] * KernelMath.bf16(w[wb + p]);
        }
        int at = dims[2] + idx;
        c[at] = dims[6] != 0 ? c[at] + sum : sum;
    }

    // ------------------------------------------------------------------ RMSNorm

    /** One row. dims = {xo, wo, oo, ro, d}. */
    public static void rmsNormRow(float[] x, float[] w, float[] out, float[] rstd, int[] dims, float eps, int r) {
        int d = dims[4];
        int xr = dims[0] + r * d, or = dims[2] + r * d;
        float ss = 0f;
        for (int c = 0; c < d; c++) {
            float v = x[xr + c];
            ss += v * v;
        }
        float s = KernelMath.invSqrt(ss / d + eps);
        rstd[dims[3] + r] = s;
        for (int c = 0; c < d; c++) {
            out[or + c] = x[xr + c] * s * w[dims[1] + c];
        }
    }

    /** dx of one row: dx += s·(w⊙g) − x·s³·mean(x⊙w⊙g). dims = {go, xo, wo, ro, dxo, d}. */
    public static void rmsNormBackwardRow(float[] dout, float[] x, float[] w, float[] rstd, float[] dx, int[] dims, int r) {
        int d = dims[5];
        int gr = dims[0] + r * d, xr = dims[1] + r * d, wo = dims[2], dxr = dims[4] + r * d;
        float s = rstd[dims[3] + r];
        float dot = 0f;
        for (int c = 0; c < d; c++) {
            dot += dout[gr + c] * w[wo + c] * x[xr + c];
        }
        float coef = dot * s * s * s / d;
        for (int c = 0; c < d; c++) {
            dx[dxr + c] += dout[gr + c] * w[wo + c] * s - x[xr + c] * coef;
        }
    }

    /** dw of one column: dw[c] += Σ_rows g⊙x·s, rows in order. dims = {go, xo, ro, dwo, rows, d}. */
    public static void rmsNormBackwardColumn(float[] dout, float[] x, float[] rstd, float[] dw, int[] dims, int c) {
        int rows = dims[4], d = dims[5];
        float sum = 0f;
        for (int r = 0; r < rows; r++) {
            sum += dout[dims[0] + r * d + c] * x[dims[1] + r * d + c] * rstd[dims[2] + r];
        }
        dw[dims[3] + c] += sum;
    }

    // ------------------------------------------------------------------ RoPE: one interleaved pair per index

    /**
     * Rotates pair idx = (row·nHeads + head)·(headDim/2) + i; the backward applies the inverse rotation and
     * accumulates. In place is safe: each index reads and writes only its own pair.
     * dims = {xo, po, co, so, oo, nHeads, headDim, backward}.
     */
    public static void ropePair(float[] x, int[] pos, float[] cos, float[] sin, float[] out, int[] dims, int idx) {
        int nHeads = dims[5], headDim = dims[6];
        int half = headDim / 2;
        int i = idx % half;
        int h = idx / half % nHeads;
        int r = idx / (half * nHeads);
        int p = pos[dims[1] + r];
        int at = r * nHeads * headDim + h * headDim + 2 * i;
        float c = cos[dims[2] + p * half + i];
        float s = sin[dims[3] + p * half + i];
        float x0 = x[dims[0] + at];
        float x1 = x[dims[0] + at + 1];
        int o = dims[4] + at;
        if (dims[7] != 0) {
            out[o] += x0 * c + x1 * s;
            out[o + 1] += -x0 * s + x1 * c;
        } else {
            out[o] = x0 * c - x1 * s;
            out[o + 1] = x0 * s + x1 * c;
        }
    }

    // ------------------------------------------------------------------ attention

    static float score(float[] q, int qrow, float[] k, int krow, int headDim, float scale) {
        float s = 0f;
        for (int d = 0; d < headDim; d++) {
            s += q[qrow + d] * k[krow + d];
        }
        return s * scale;
    }

    static float dotRow(float[] a, int ao, float[] b, int bo, int n) {
        float s = 0f;
        for (int d = 0; d < n; d++) {
            s += a[ao + d] * b[bo + d];
        }
        return s;
    }

    /**
     * One (head, query) pair, idx = h·Tq + i: scores, softmax and weighted sum over keys [keyLo[i], keyHi[i]);
     * an empty range gives out 0 and lse −∞. dims = {qo, ko, vo, oo, lseo, klo, kho, tq, nHeads, headDim}.
     */
    public static void attentionQuery(float[] q, float[] k, float[] v, float[] out, float[] lse, int[] keyLo, int[] keyHi,
                                      int[] dims, float scale, int idx) {
        int tq = dims[7], nHeads = dims[8], headDim = dims[9];
        int width = nHeads * headDim;
        int h = idx / tq;
        int i = idx % tq;
        int from = keyLo[dims[5] + i];
        int to = keyHi[dims[6] + i];
        int qrow = dims[0] + i * width + h * headDim;
        int orow = dims[3] + i * width + h * headDim;
        for (int d = 0; d < headDim; d++) {
            out[orow + d] = 0f;
        }
        if (to <= from) {
            lse[dims[4] + idx] = Float.NEGATIVE_INFINITY;
            return;
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int j = from; j < to; j++) {
            max = Math.max(max, score(q, qrow, k, dims[1] + j * width + h * headDim, headDim, scale));
        }
        float sum = 0f;
        for (int j = from; j < to; j++) {
            float p = KernelMath.exp(score(q, qrow, k, dims[1] + j * width + h * headDim, headDim, scale) - max);
            sum += p;
            int vrow = dims[2] + j * width + h * headDim;
            for (int d = 0; d < headDim; d++) {
                out[orow + d] += p * v[vrow + d];
            }
        }
        for (int d = 0; d < headDim; d++) {
            out[orow + d] /= sum;
        }
        lse[dims[4] + idx] = max + KernelMath.log(sum);
    }

    /**
     * Backward step 1, one (head, query) pair: delta[idx] = dO_i · O_i (0 for an empty range).
     * dims = {go, oo, klo, kho, tq, nHeads, headDim}; delta is [nHeads·Tq] without offset.
     */
    public static void attentionDelta(float[] dout, float[] out, float[] delta, int[] keyLo, int[] keyHi, int[] dims, int idx) {
        int tq = dims[4], nHeads = dims[5], headDim = dims[6];
        int i = idx % tq;
        int row = i * nHeads * headDim + idx / tq * headDim;
        delta[idx] = keyHi[dims[3] + i] > keyLo[dims[2] + i] ? dotRow(dout, dims[0] + row, out, dims[1] + row, headDim) : 0f;
    }

    /**
     * Backward step 2, one (head, query) pair: dq_i += Σ_j p_ij (dO_i·v_j − delta_i)·scale·k_j over the query's keys.
     * dims = {go, qo, ko, vo, lseo, klo, kho, dqo, tq, nHeads, headDim}.
     */
    public static void attentionBackwardQuery(float[] dout, float[] q, float[] k, float[] v, float[] lse, float[] delta,
                                              int[] keyLo, int[] keyHi, float[] dq, int[] dims, float scale, int idx) {
        int tq = dims[8], nHeads = dims[9], headDim = dims[10];
        int width = nHeads * headDim;
        int h = idx / tq;
        int i = idx % tq;
        int from = keyLo[dims[5] + i];
        int to = keyHi[dims[6] + i];
        int qrow = i * width + h * headDim;
        float l = lse[dims[4] + idx];
        float dsum = delta[idx];
        for (int j = from; j < to; j++) {
            int krow = j * width + h * headDim;
            float p = KernelMath.exp(score(q, dims[1] + qrow, k, dims[2] + krow, headDim, scale) - l);
            float dp = dotRow(dout, dims[0] + qrow, v, dims[3] + krow, headDim);
            float ds = p * (dp - dsum) * scale;
            for (int d = 0; d < headDim; d++) {
                dq[dims[7] + qrow + d] += ds * k[dims[2] + krow + d];
            }
        }
    }

    /**
     * Backward step 3, one (head, key) pair, idx = h·Tk + j: dk_j and dv_j summed over the queries (in order) whose
     * range holds key j, so keys run in parallel without a scatter.
     * dims = {go, qo, ko, vo, lseo, klo, kho, dko, dvo, tq, tk, nHeads, headDim}.
     */
    public static void attentionBackwardKey(float[] dout, float[] q, float[] k, float[] v, float[] lse, float[] delta,
                                            int[] keyLo, int[] keyHi, float[] dk, float[] dv, int[] dims, float scale, int idx) {
        int tq = dims[9], tk = dims[10], nHeads = dims[11], headDim = dims[12];
        int width = nHeads * headDim;
        int h = idx / tk;
        int j = idx % tk;
        int krow = j * width + h * headDim;
        for (int i = 0; i < tq; i++) {
            if (j < keyLo[dims[5] + i] || j >= keyHi[dims[6] + i]) {
                continue;
            }
            int qrow = i * width + h * headDim;
            float p = KernelMath.exp(score(q, dims[1] + qrow, k, dims[2] + krow, headDim, scale) - lse[dims[4] + h * tq + i]);
            float dp = dotRow(dout, dims[0] + qrow, v, dims[3] + krow, headDim);
            float ds = p * (dp - delta[h * tq + i]) * scale;
            for (int d = 0; d < headDim; d++) {
                dk[dims[7] + krow + d] += ds * q[dims[1] + qrow + d];
                dv[dims[8] + krow + d] += p * dout[dims[0] + qrow + d];
            }
        }
    }

    // ------------------------------------------------------------------ loss, entropy: one row per index

    /** log Σ exp over one row, stable. */
    static float logSumExp(float[] x, int from, int cols) {
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < cols; c++) {
            max = Math.max(max, x[from + c]);
        }
        float sum = 0f;
        for (int c = 0; c < cols; c++) {
            sum += KernelMath.exp(x[from + c] - max);
        }
        return max + KernelMath.log(sum);
    }

    /**
     * Loss of one row: w·(logsumexp − logit[target]), 0 for a negative target or a zero weight. weights is read
     * only when hasWeights (else any array, weight 1). dims = {lo, to, wo, so, cols, hasWeights}.
     */
    public static void crossEntropyRow(float[] logits, int[] targets, float[] weights, float[] losses, int[] dims, int r) {
        int cols = dims[4];
        int t = targets[dims[1] + r];
        float w = dims[5] != 0 ? weights[dims[2] + r] : 1f;
        if (t < 0 || w == 0f) {
            losses[dims[3] + r] = 0f;
        } else {
            int row = dims[0] + r * cols;
            losses[dims[3] + r] = w * (logSumExp(logits, row, cols) - logits[row + t]);
        }
    }

    /** dlogits of one row += scale·w·(softmax − onehot(target)). dims = {lo, to, wo, dlo, cols, hasWeights}. */
    public static void crossEntropyBackwardRow(float[] logits, int[] targets, float[] weights, float[] dlogits, int[] dims,
                                               float scale, int r) {
        int cols = dims[4];
        int t = targets[dims[1] + r];
        float w = dims[5] != 0 ? weights[dims[2] + r] : 1f;
        if (t < 0 || w == 0f) {
            return;
        }
        int row = dims[0] + r * cols;
        int drow = dims[3] + r * cols;
        float lse = logSumExp(logits, row, cols);
        float f = scale * w;
        for (int c = 0; c < cols; c++) {
            float p = KernelMath.exp(logits[row + c] - lse);
            dlogits[drow + c] += f * (c == t ? p - 1f : p);
        }
    }

    /** H = −Σ p ln p = log Z − Σ p·(x − max) with Z = Σ exp(x − max), for one row. dims = {lo, oo, cols}. */
    public static void entropyRow(float[] logits, float[] out, int[] dims, int r) {
        int cols = dims[2];
        int base = dims[0] + r * cols;
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < cols; c++) {
            max = Math.max(max, logits[base + c]);
        }
        float z = 0f;
        float wsum = 0f;
        for (int c = 0; c < cols; c++) {
            float sh = logits[base + c] - max;
            float e = KernelMath.exp(sh);
            z += e;
            wsum += e * sh;
        }
        out[dims[1] + r] = KernelMath.log(z) - wsum / z;
    }

    // ------------------------------------------------------------------ embedding and pooling

    /** out[i] (+)= table[ids[i]], one output row. dims = {tbo, io, oo, d, accumulate}. */
    public static void embeddingRow(float[] table, int[] ids, float[] out, int[] dims, int i) {
        int d = dims[3];
        int src = dims[0] + ids[dims[1] + i] * d;
        int dst = dims[2] + i * d;
        for (int c = 0; c < d; c++) {
            out[dst + c] = dims[4] != 0 ? out[dst + c] + table[src + c] : table[src + c];
        }
    }

    /** Column c of dtable[ids[i]] += dout[i] over all i in order, so repeated ids need no atomics. dims = {go, io, dto, n, d}. */
    public static void embeddingBackwardColumn(float[] dout, int[] ids, float[] dtable, int[] dims, int c) {
        int n = dims[3], d = dims[4];
        for (int i = 0; i < n; i++) {
            dtable[dims[2] + ids[dims[1] + i] * d + c] += dout[dims[0] + i * d + c];
        }
    }

    /**
     * Max of column c over the rows of segment s, idx = s·d + c; ties keep the first (lowest) row, an empty
     * segment gives 0 and argmax −1. dims = {xo, slo, sho, oo, ao, d}.
     */
    public static void segmentMaxItem(float[] x, int[] segLo, int[] segHi, float[] out, int[] argmax, int[] dims, int idx) {
        int d = dims[5];
        int s = idx / d;
        int c = idx % d;
        int from = segLo[dims[1] + s];
        int to = segHi[dims[2] + s];
        float best = 0f;
        int arg = -1;
        for (int r = from; r < to; r++) {
            float v = x[dims[0] + r * d + c];
            if (arg < 0 || v > best) {
                best = v;
                arg = r;
            }
        }
        out[dims[3] + idx] = best;
        argmax[dims[4] + idx] = arg;
    }

    /** Column c of dx[argmax[s, c], c] += dout[s, c] over all segments in order. dims = {go, ao, dxo, segments, d}. */
    public static void segmentMaxBackwardColumn(float[] dout, int[] argmax, float[] dx, int[] dims, int c) {
        int segments = dims[3], d = dims[4];
        for (int s = 0; s < segments; s++) {
            int r = argmax[dims[1] + s * d + c];
            if (r >= 0) {
                dx[dims[2] + r * d + c] += dout[dims[0] + s * d + c];
            }
        }
    }
}
