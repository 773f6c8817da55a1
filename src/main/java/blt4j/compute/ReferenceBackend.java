package blt4j.compute;

/** The oracle backend: {@link ReferenceKernels} on Java arrays, single-threaded. */
public final class ReferenceBackend extends HostBackend {

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public String describe() {
        return "reference (plain Java loops, 1 thread)";
    }

    @Override
    protected void addKernel(Tensor a, Tensor b, Tensor out) {
        ReferenceKernels.add(f(a), a.offset(), f(b), b.offset(), f(out), out.offset(), a.size());
    }

    @Override
    protected void axpyKernel(float alpha, Tensor x, Tensor y) {
        ReferenceKernels.axpy(alpha, f(x), x.offset(), f(y), y.offset(), x.size());
    }

    @Override
    protected void scaleKernel(Tensor x, float s, Tensor out) {
        ReferenceKernels.scale(f(x), x.offset(), s, f(out), out.offset(), x.size());
    }

    @Override
    protected void matmulKernel(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c, boolean accumulate,
                                int batch, int m, int n, int k) {
        for (int bi = 0; bi < batch; bi++) {
            ReferenceKernels.matmul(f(a), a.offset() + bi * m * k, transA, f(b), b.offset() + bi * k * n, transB,
                    f(c), c.offset() + bi * m * n, accumulate, m, n, k);
        }
    }

    @Override
    protected void rmsNormKernel(Tensor x, Tensor w, Tensor out, Tensor rstd, int rows, int d, float eps) {
        ReferenceKernels.rmsNorm(f(x), x.offset(), f(w), w.offset(), f(out), out.offset(), f(rstd), rstd.offset(), rows, d, eps);
    }

    @Override
    protected void rmsNormBackwardKernel(Tensor dout, Tensor x, Tensor w, Tensor rstd, Tensor dx, Tensor dw, int rows, int d) {
        ReferenceKernels.rmsNormBackward(f(dout), dout.offset(), f(x), x.offset(), f(w), w.offset(), f(rstd), rstd.offset(),
                f(dx), dx.offset(), f(dw), dw.offset(), rows, d);
    }

    @Override
    protected void swigluKernel(Tensor gate, Tensor up, Tensor out) {
        ReferenceKernels.swiglu(f(gate), gate.offset(), f(up), up.offset(), f(out), out.offset(), gate.size());
    }

    @Override
    protected void swigluBackwardKernel(Tensor dout, Tensor gate, Tensor up, Tensor dgate, Tensor dup) {
        ReferenceKernels.swigluBackward(f(dout), dout.offset(), f(gate), gate.offset(), f(up), up.offset(), f(dgate), dgate.offset(),
                f(dup), dup.offset(), gate.size());
    }

    @Override
    protected void ropeKernel(Tensor x, Tensor positions, Tensor cos, Tensor sin, Tensor out, int rows, int nHeads,
                              int headDim, boolean backward) {
        ReferenceKernels.rope(f(x), x.offset(), i(positions), positions.offset(), f(cos), cos.offset(), f(sin), sin.offset(),
                f(out), out.offset(), rows, nHeads, headDim, backward);
    }

    @Override
    protected void attentionKernel(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor keyLo, Tensor keyHi,
                                   int tq, int tk, int nHeads, int headDim) {
        ReferenceKernels.attention(f(q), q.offset(), f(k), k.offset(), f(v), v.offset(), f(out), out.offset(), f(lse), lse.offset(),
                i(keyLo), keyLo.offset(), i(keyHi), keyHi.offset(), tq, nHeads, headDim);
    }

    @Override
    protected void attentionBackwardKernel(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse,
                                           Tensor keyLo, Tensor keyHi, Tensor dq, Tensor dk, Tensor dv,
                                           int tq, int tk, int nHeads, int headDim) {
        ReferenceKernels.attentionBackward(f(dout), dout.offset(), f(q), q.offset(), f(k), k.offset(), f(v), v.offset(),
                f(out), out.offset(), f(lse), lse.offset(), i(keyLo), keyLo.offset(), i(keyHi), keyHi.offset(),
                f(dq), dq.offset(), f(dk), dk.offset(), f(dv), dv.offset(), tq, nHeads, headDim);
    }

    @Override
    protected void crossEntropyKernel(Tensor logits, Tensor targets, Tensor weights, Tensor losses, int rows, int cols) {
        ReferenceKernels.crossEntropy(f(logits), logits.offset(), i(targets), targets.offset(), f(weights), o(weights),
                f(losses), losses.offset(), rows, cols);
    }

    @Override
    protected void crossEntropyBackwardKernel(Tensor logits, Tensor targets, Tensor weights, float scale, Tensor dlogits,
                                              int rows, int cols) {
        ReferenceKernels.crossEntropyBackward(f(logits), logits.offset(), i(targets), targets.offset(), f(weights), o(weights), scale,
                f(dlogits), dlogits.offset(), rows, cols);
    }

    @Override
    protected void entropyKernel(Tensor logits, Tensor out, int rows, int cols) {
        ReferenceKernels.entropy(f(logits), logits.offset(), f(out), out.offset(), rows, cols);
    }

    @Override
    protected void embeddingKernel(Tensor table, Tensor ids, Tensor out, int n, int d, int tableRows, boolean accumulate) {
        ReferenceKernels.embedding(f(table), table.offset(), i(ids), ids.offset(), f(out), out.offset(), n, d, tableRows, accumulate);
    }

    @Override
    protected void embeddingBackwardKernel(Tensor dout, Tensor ids, Tensor dtable, int n, int d, int tableRows) {
        ReferenceKernels.embeddingBackward(f(dout), dout.offset(), i(ids), ids.offset(), f(dtable), dtable.offset(), n, d, tableRows);
    }

    @Override
    protected void segmentMaxKernel(Tensor x, Tensor lo, Tensor hi, Tensor out, Tensor argmax, int segments, int rows, int d) {
        ReferenceKernels.segmentMax(f(x), x.offset(), i(lo), lo.offset(), i(hi), hi.offset(), f(out), out.offset(),
                i(argmax), argmax.offset(), segments, d);
    }

    @Override
    protected void segmentMaxBackwardKernel(Tensor dout, Tensor argmax, Tensor dx, int segments, int rows, int d) {
        ReferenceKernels.segmentMaxBackward(f(dout), dout.offset(), i(argmax), argmax.offset(), f(dx), dx.offset(), segments, d);
    }

    @Override
    protected void adamwKernel(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                               float eps, float weightDecay, float bc1, float bc2) {
        ReferenceKernels.adamw(f(param), param.offset(), f(grad), grad.offset(), f(m), m.offset(), f(v), v.offset(), param.size(),
                lr, beta1, beta2, eps, weightDecay, bc1, bc2);
    }

    @Override
    protected double sumOfSquaresKernel(Tensor x) {
        return ReferenceKernels.sumOfSquares(f(x), x.offset(), x.size());
    }
}
