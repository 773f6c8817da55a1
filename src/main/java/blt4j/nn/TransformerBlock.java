package blt4j.nn;

import static blt4j.nn.Buffers.f32;
import static blt4j.nn.Buffers.first;

import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.RopeTables;
import blt4j.compute.Tensor;

/**
 * The pre-norm Llama block every BLT transformer uses (BLT-REFERENCE §6.2):
 * h = x + attention(norm(x)); out = h + feed_forward(norm(h)). Reference names: attention, attention_norm,
 * feed_forward, ffn_norm. Stateless: activations live in {@link Acts}.
 */
public final class TransformerBlock {
    private final RmsNorm attentionNorm;
    private final SelfAttention attention;
    private final RmsNorm ffnNorm;
    private final FeedForward feedForward;
    private final Backend backend;
    private final int dim;

    /** What one forward keeps for its backward, for up to T rows. */
    public static final class Acts {
        Tensor x;                          // [T, d] the block input (a view of the caller's buffer)
        final Tensor xn;                   // [T, d] attention_norm(x)
        final Tensor rstdAttention;        // [T]
        final SelfAttention.Acts attention;
        final Tensor h;                    // [T, d] x + attention
        final Tensor hn;                   // [T, d] ffn_norm(h)
        final Tensor rstdFfn;              // [T]
        final FeedForward.Acts feedForward;
        final Tensor out;                  // [T, d] h + feed_forward
        final Tensor dh;                   // [T, d] gradient scratch (null without training)
        final Tensor dhn;                  // [T, d]
        final Tensor dxn;                  // [T, d]

        Acts(TransformerBlock b, int capacity, boolean training) {
            Backend be = b.backend;
            xn = f32(be, capacity, b.dim);
            rstdAttention = f32(be, capacity, 1);
            attention = b.attention.newActs(capacity, training);
            h = f32(be, capacity, b.dim);
            hn = f32(be, capacity, b.dim);
            rstdFfn = f32(be, capacity, 1);
            feedForward = b.feedForward.newActs(capacity, training);
            out = f32(be, capacity, b.dim);
            dh = training ? f32(be, capacity, b.dim) : null;
            dhn = training ? f32(be, capacity, b.dim) : null;
            dxn = training ? f32(be, capacity, b.dim) : null;
        }
    }

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
        this.dim = dim;
    }

    public Acts newActs(int capacity, boolean training) {
        return new Acts(this, capacity, training);
    }

    /**
     * Activations for a stack of same-shaped blocks: one set per layer when training (the backward needs them all), two
     * sets used in turn at inference (layer i writes set i mod 2 and reads the previous layer's), so a deep model's
     * prompt needs two layers' buffers, not one per layer.
     */
    public static Acts[] stackActs(TransformerBlock[] blocks, int capacity, boolean training) {
        Acts[] acts = new Acts[blocks.length];
        for (int i = 0; i < blocks.length; i++) {
            boolean reuse = !training && i >= 2 && blocks[i].dim == blocks[i - 2].dim
                    && blocks[i].feedForward.hiddenDim() == blocks[i - 2].feedForward.hiddenDim();
            acts[i] = reuse ? acts[i - 2] : blocks[i].newActs(capacity, training);
        }
        return acts;
    }

    /** Returns a.out [T, d]. */
    public Tensor forward(Tensor x, Tensor positions, RopeTables rope, Ranges mask, Acts a) {
        int rows = x.rows();
        a.x = x;
        Tensor xn = first(a.xn, rows);
        attentionNorm.forward(x, xn, first(a.rstdAttention, rows));
        Tensor att = attention.forward(xn, positions, rope, mask, a.attention);
        return feedForwardHalf(x, att, rows, a);
    }

    /** Incremental forward (generation): attention reads and extends the layer's KV cache. */
    public Tensor forwardCached(Tensor x, Tensor positions, RopeTables rope, KvCache cache, Ranges mask, Acts a) {
        int rows = x.rows();
        Tensor xn = first(a.xn, rows);
        attentionNorm.forward(x, xn, first(a.rstdAttention, rows));
        Tensor att = attention.forwardCached(xn, positions, rope, cache, mask, a.attention);
        return feedForwardHalf(x, att, rows, a);
    }

    /** {@link SelfAttention#forwardCachedRows}: row r of x belongs to the sequence of {@code caches[r]}. */
    public Tensor forwardCachedRows(Tensor x, Tensor positions, RopeTables rope, KvCache[] caches, Ranges[] masks, Acts a) {
        int rows = x.rows();
        Tensor xn = first(a.xn, rows);
        attentionNorm.forward(x, xn, first(a.rstdAttention, rows));
        Tensor att = attention.forwardCachedRows(xn, positions, rope, caches, masks, a.attention);
        return feedForwardHalf(x, att, rows, a);
    }

    private Tensor feedForwardHalf(Tensor x, Tensor att, int rows, Acts a) {
        Tensor h = first(a.h, rows);
        backend.add(x, att, h);
        Tensor hn = first(a.hn, rows);
        ffnNorm.forward(h, hn, first(a.rstdFfn, rows));
        Tensor f = feedForward.forward(hn, a.feedForward);
        Tensor out = first(a.out, rows);
        backend.add(h, f, out);
        return out;
    }

    public int width() {
        return dim;
    }

    /** dx += ∂L/∂x given dy = ∂L/∂out, for the forward that filled {@code a}. */
    public void backward(Tensor dy, Tensor dx, Acts a) {
        int rows = dy.rows();
        Tensor dh = first(a.dh, rows);
        backend.copy(dy, dh);
        Tensor dhn = first(a.dhn, rows);
        feedForward.backward(dy, first(a.hn, rows), dhn, a.feedForward);
        ffnNorm.backward(dhn, first(a.h, rows), first(a.rstdFfn, rows), dh);
        Tensor dxn = first(a.dxn, rows);
        attention.backward(dh, first(a.xn, rows), dxn, a.attention);
        attentionNorm.backward(dxn, a.x, first(a.rstdAttention, rows), dx);
        backend.axpy(1f, dh, dx);
    }
}
