package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.RopeTables;
import blt4j.compute.Tensor;

/**
 * The pre-norm Llama block every BLT transformer uses (BLT-REFERENCE §6.2):
 * h = x + attention(norm(x)); out = h + feed_forward(norm(h)). Reference names: attention, attention_norm,
 * feed_forward, ffn_norm.
 */
public final class TransformerBlock {
    private final RmsNorm attentionNorm;
    private final SelfAttention attention;
    private final RmsNorm ffnNorm;
    private final FeedForward feedForward;
    private final Backend backend;
    private final Scratch scratch;
    private final int heads;
    private Tensor x;
    private Tensor xn;
    private Tensor h;
    private Tensor hn;

    /**
     * @param depthIndex 0-based layer index; the reference "current_depth" init divides σ by sqrt(2·(i+1))
     */
    public TransformerBlock(ParameterStore store, Backend backend, String name, int dim, int nHeads, int hiddenDim,
                            float normEps, int depthIndex) {
        double factor = Math.sqrt(2.0 * (depthIndex + 1));
        double inStd = 1.0 / Math.sqrt(dim) / factor;
        double hiddenStd = 1.0 / Math.sqrt(hiddenDim) / factor;
        this.attention = new SelfAttention(store, backend, name + ".attention", dim, nHeads, inStd, inStd);
        this.feedForward = new FeedForward(store, backend, name + ".feed_forward", dim, hiddenDim, inStd, hiddenStd);
        this.attentionNorm = new RmsNorm(store, backend, name + ".attention_norm", dim, normEps);
        this.ffnNorm = new RmsNorm(store, backend, name + ".ffn_norm", dim, normEps);
        this.backend = backend;
        this.scratch = new Scratch(backend);
        this.heads = nHeads;
    }

    public Tensor forward(Tensor x, Tensor positions, RopeTables rope, Ranges mask) {
        this.x = x;
        xn = attentionNorm.forward(x);
        Tensor a = attention.forward(xn, positions, rope, mask);
        h = scratch.f32("h", x.rows(), x.cols());
        backend.add(x, a, h);
        hn = ffnNorm.forward(h);
        Tensor f = feedForward.forward(hn);
        Tensor out = scratch.f32("out", x.rows(), x.cols());
        backend.add(h, f, out);
        return out;
    }

    /** Incremental forward (generation): attention reads and extends the layer's KV cache. */
    public Tensor forwardCached(Tensor x, Tensor positions, RopeTables rope, KvCache cache, Ranges mask) {
        Tensor a = attention.forwardCached(attentionNorm.forward(x), positions, rope, cache, mask);
        Tensor hh = scratch.f32("h", x.rows(), x.cols());
        backend.add(x, a, hh);
        Tensor f = feedForward.forward(ffnNorm.forward(hh));
        Tensor out = scratch.f32("out", x.rows(), x.cols());
        backend.add(hh, f, out);
        return out;
    }

    public int width() {
        return attention.headDim() * nHeads();
    }

    private int nHeads() {
        return heads;
    }

    /** dx += ∂L/∂x given dy = ∂L/∂out. */
    public void backward(Tensor dy, Tensor dx) {
        int rows = x.rows();
        int dim = x.cols();
        Tensor dh = scratch.f32("dh", rows, dim);
        backend.copy(dy, dh);
        Tensor dhn = scratch.zeros("dhn", rows, dim);
        feedForward.backward(dy, hn, dhn);
        ffnNorm.backward(dhn, h, dh);
        Tensor dxn = scratch.zeros("dxn", rows, dim);
        attention.backward(dh, xn, dxn);
        attentionNorm.backward(dxn, x, dx);
        backend.axpy(1f, dh, dx);
    }
}
