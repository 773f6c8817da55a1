package blt4j.compute;

/**
 * The oracle backend: every kernel is a plain loop over the parallel index of a {@link ReferenceKernels} lane body,
 * single-threaded. The loops are exactly what a TornadoVM task would mark {@code @Parallel}.
 */
public final class ReferenceBackend extends HostBackend {

    /** Elements per sumOfSquares partial. */
    private static final int SSQ_CHUNK = 4096;
    /** Stands in for an absent weights tensor (never read: hasWeights is 0). */
    private static final float[] NO_WEIGHTS = new float[1];

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public String describe() {
        return "reference (plain Java loops, 1 thread)";
    }

    private static int flag(boolean b) {
        return b ? 1 : 0;
    }

    @Override
    protected void addKernel(Tensor a, Tensor b, Tensor out) {
        int[] dims = {a.offset(), b.offset(), out.offset()};
        float[] av = f(a), bv = f(b), ov = f(out);
        for (int i = 0; i < a.size(); i++) {
            ReferenceKernels.addItem(av, bv, ov, dims, i);
        }
    }

    @Override
    protected void axpyKernel(float alpha, Tensor x, Tensor y) {
        int[] dims = {x.offset(), y.offset()};
        float[] xv = f(x), yv = f(y);
        for (int i = 0; i < x.size(); i++) {
            ReferenceKernels.axpyItem(alpha, xv, yv, dims, i);
        }
    }

    @Override
    protected void scaleKernel(Tensor x, float s, Tensor out) {
        int[] dims = {x.offset(), out.offset()};
        float[] xv = f(x), ov = f(out);
        for (int i = 0; i < x.size(); i++) {
            ReferenceKernels.scaleItem(xv, s, ov, dims, i);
        }
    }

    @Override
    protected void matmulKernel(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c, boolean accumulate,
                                int batch, int m, int n, int k) {
        if (b.dtype() == DType.BF16) {
            int[] dims = {a.offset(), b.offset(), c.offset(), m, n, k, flag(accumulate)};
            float[] av = f(a), cv = f(c);
            short[] wv;
            if (mapped(b) != null) { // a weight read in place: the oracle takes a plain copy of the elements it needs
                wv = new short[b.size()];
                bf16Range(b, b.offset(), wv, b.size());
                dims[1] = 0;
            } else {
                wv = h(b);
            }
            for (int idx = 0; idx < batch * m * n; idx++) {
                ReferenceKernels.matmulBf16Item(av, wv, cv, dims, idx);
            }
            return;
        }
        int[] dims = {a.offset(), b.offset(), c.offset(), m, n, k, flag(transA), flag(transB), flag(accumulate)};
        float[] av = f(a), bv = f(b), cv = f(c);
        for (int idx = 0; idx < batch * m * n; idx++) {
            ReferenceKernels.matmulItem(av, bv, cv, dims, idx);
        }
    }

    @Override
    protected void rmsNormKernel(Tensor x, Tensor w, Tensor out, Tensor rstd, int rows, int d, float eps) {
        int[] dims = {x.offset(), w.offset(), out.offset(), rstd.offset(), d};
        float[] xv = f(x), wv = f(w), ov = f(out), rv = f(rstd);
        for (int r = 0; r < rows; r++) {
            ReferenceKernels.rmsNormRow(xv, wv, ov, rv, dims, eps, r);
        }
    }

    @Override
    protected void rmsNormBackwardKernel(Tensor dout, Tensor x, Tensor w, Tensor rstd, Tensor dx, Tensor dw, int rows, int d) {
        float[] gv = f(dout), xv = f(x), wv = f(w), rv = f(rstd), dxv = f(dx), dwv = f(dw);
        int[] rowDims = {dout.offset(), x.offset(), w.offset(), rstd.offset(), dx.offset(), d};
        for (int r = 0; r < rows; r++) {
            ReferenceKernels.rmsNormBackwardRow(gv, xv, wv, rv, dxv, rowDims, r);
        }
        int[] colDims = {dout.offset(), x.offset(), rstd.offset(), dw.offset(), rows, d};
        for (int c = 0; c < d; c++) {
            ReferenceKernels.rmsNormBackwardColumn(gv, xv, rv, dwv, colDims, c);
        }
    }

    @Override
    protected void swigluKernel(Tensor gate, Tensor up, Tensor out) {
        int[] dims = {gate.offset(), up.offset(), out.offset()};
        float[] gv = f(gate), uv = f(up), ov = f(out);
        for (int i = 0; i < gate.size(); i++) {
            ReferenceKernels.swigluItem(gv, uv, ov, dims, i);
        }
    }

    @Override
    protected void swigluBackwardKernel(Tensor dout, Tensor gate, Tensor up, Tensor dgate, Tensor dup) {
        int[] dims = {dout.offset(), gate.offset(), up.offset(), dgate.offset(), dup.offset()};
        float[] dv = f(dout), gv = f(gate), uv = f(up), dgv = f(dgate), duv = f(dup);
        for (int i = 0; i < gate.size(); i++) {
            ReferenceKernels.swigluBackwardItem(dv, gv, uv, dgv, duv, dims, i);
        }
    }

    @Override
    protected void ropeKernel(Tensor x, Tensor positions, Tensor cos, Tensor sin, Tensor out, int rows, int nHeads,
                              int headDim, boolean backward) {
        int[] dims = {x.offset(), positions.offset(), cos.offset(), sin.offset(), out.offset(), nHeads, headDim, flag(backward)};
        float[] xv = f(x), cv = f(cos), sv = f(sin), ov = f(out);
        int[] pv = i(positions);
        for (int idx = 0; idx < rows * nHeads * (headDim / 2); idx++) {
            ReferenceKernels.ropePair(xv, pv, cv, sv, ov, dims, idx);
        }
    }

    private static float attentionScale(int headDim) {
        return KernelMath.invSqrt(headDim);
    }

    @Override
    protected void attentionKernel(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor keyLo, Tensor keyHi,
                                   int tq, int tk, int nHeads, int headDim) {
        int[] dims = {q.offset(), k.offset(), v.offset(), out.offset(), lse.offset(), keyLo.offset(), keyHi.offset(),
                tq, nHeads, headDim};
        float[] qv = f(q), kv = f(k), vv = f(v), ov = f(out), lv = f(lse);
        int[] lo = i(keyLo), hi = i(keyHi);
        float scale = attentionScale(headDim);
        for (int idx = 0; idx < nHeads * tq; idx++) {
            ReferenceKernels.attentionQuery(qv, kv, vv, ov, lv, lo, hi, dims, scale, idx);
        }
    }

    @Override
    protected void attentionBackwardKernel(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse,
                                           Tensor keyLo, Tensor keyHi, Tensor dq, Tensor dk, Tensor dv,
                                           int tq, int tk, int nHeads, int headDim) {
        float[] gv = f(dout), qv = f(q), kv = f(k), vv = f(v), lv = f(lse);
        int[] lo = i(keyLo), hi = i(keyHi);
        float scale = attentionScale(headDim);
        float[] delta = new float[nHeads * tq];
        int[] deltaDims = {dout.offset(), out.offset(), keyLo.offset(), keyHi.offset(), tq, nHeads, headDim};
        for (int idx = 0; idx < nHeads * tq; idx++) {
            ReferenceKernels.attentionDelta(gv, f(out), delta, lo, hi, deltaDims, idx);
        }
        int[] qDims = {dout.offset(), q.offset(), k.offset(), v.offset(), lse.offset(), keyLo.offset(), keyHi.offset(),
                dq.offset(), tq, nHeads, headDim};
        for (int idx = 0; idx < nHeads * tq; idx++) {
            ReferenceKernels.attentionBackwardQuery(gv, qv, kv, vv, lv, delta, lo, hi, f(dq), qDims, scale, idx);
        }
        int[] kDims = {dout.offset(), q.offset(), k.offset(), v.offset(), lse.offset(), keyLo.offset(), keyHi.offset(),
                dk.offset(), dv.offset(), tq, tk, nHeads, headDim};
        for (int idx = 0; idx < nHeads * tk; idx++) {
            ReferenceKernels.attentionBackwardKey(gv, qv, kv, vv, lv, delta, lo, hi, f(dk), f(dv), kDims, scale, idx);
        }
    }

    @Override
    protected void crossEntropyKernel(Tensor logits, Tensor targets, Tensor weights, Tensor losses, int rows, int cols) {
        int[] dims = {logits.offset(), targets.offset(), o(weights), losses.offset(), cols, flag(weights != null)};
        float[] lv = f(logits), wv = weights == null ? NO_WEIGHTS : f(weights), sv = f(losses);
        int[] tv = i(targets);
        for (int r = 0; r < rows; r++) {
            ReferenceKernels.crossEntropyRow(lv, tv, wv, sv, dims, r);
        }
    }

    @Override
    protected void crossEntropyBackwardKernel(Tensor logits, Tensor targets, Tensor weights, float scale, Tensor dlogits,
                                              int rows, int cols) {
        int[] dims = {logits.offset(), targets.offset(), o(weights), dlogits.offset(), cols, flag(weights != null)};
        float[] lv = f(logits), wv = weights == null ? NO_WEIGHTS : f(weights), dv = f(dlogits);
        int[] tv = i(targets);
        for (int r = 0; r < rows; r++) {
            ReferenceKernels.crossEntropyBackwardRow(lv, tv, wv, dv, dims, scale, r);
        }
    }

    @Override
    protected void entropyKernel(Tensor logits, Tensor out, int rows, int cols) {
        int[] dims = {logits.offset(), out.offset(), cols};
        float[] lv = f(logits), ov = f(out);
        for (int r = 0; r < rows; r++) {
            ReferenceKernels.entropyRow(lv, ov, dims, r);
        }
    }

    @Override
    protected void embeddingKernel(Tensor table, Tensor ids, Tensor out, int n, int d, int tableRows, boolean accumulate) {
        int[] dims = {table.offset(), ids.offset(), out.offset(), d, flag(accumulate)};
        float[] tv = f(table), ov = f(out);
        int[] iv = i(ids);
        for (int r = 0; r < n; r++) {
            ReferenceKernels.embeddingRow(tv, iv, ov, dims, r);
        }
    }

    @Override
    protected void embeddingBackwardKernel(Tensor dout, Tensor ids, Tensor dtable, int n, int d, int tableRows) {
        int[] dims = {dout.offset(), ids.offset(), dtable.offset(), n, d};
        float[] gv = f(dout), tv = f(dtable);
        int[] iv = i(ids);
        for (int c = 0; c < d; c++) {
            ReferenceKernels.embeddingBackwardColumn(gv, iv, tv, dims, c);
        }
    }

    @Override
    protected void segmentMaxKernel(Tensor x, Tensor lo, Tensor hi, Tensor out, Tensor argmax, int segments, int rows, int d) {
        int[] dims = {x.offset(), lo.offset(), hi.offset(), out.offset(), argmax.offset(), d};
        float[] xv = f(x), ov = f(out);
        int[] lv = i(lo), hv = i(hi), av = i(argmax);
        for (int idx = 0; idx < segments * d; idx++) {
            ReferenceKernels.segmentMaxItem(xv, lv, hv, ov, av, dims, idx);
        }
    }

    @Override
    protected void segmentMaxBackwardKernel(Tensor dout, Tensor argmax, Tensor dx, int segments, int rows, int d) {
        int[] dims = {dout.offset(), argmax.offset(), dx.offset(), segments, d};
        float[] gv = f(dout), xv = f(dx);
        int[] av = i(argmax);
        for (int c = 0; c < d; c++) {
            ReferenceKernels.segmentMaxBackwardColumn(gv, av, xv, dims, c);
        }
    }

    @Override
    protected void adamwKernel(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                               float eps, float weightDecay, float bc1, float bc2) {
        int[] dims = {param.offset(), grad.offset(), m.offset(), v.offset()};
        float[] pv = f(param), gv = f(grad), mv = f(m), vv = f(v);
        for (int i = 0; i < param.size(); i++) {
            ReferenceKernels.adamwItem(pv, gv, mv, vv, dims, lr, beta1, beta2, eps, weightDecay, bc1, bc2, i);
        }
    }

    @Override
    protected double sumOfSquaresKernel(Tensor x) {
        int n = x.size();
        int chunks = (n + SSQ_CHUNK - 1) / SSQ_CHUNK;
        double[] partials = new double[chunks];
        int[] dims = {x.offset(), n, SSQ_CHUNK};
        float[] xv = f(x);
        for (int ch = 0; ch < chunks; ch++) {
            ReferenceKernels.sumOfSquaresChunk(xv, partials, dims, ch);
        }
        double s = 0;
        for (double p : partials) {
            s += p;
        }
        return s;
    }
}
