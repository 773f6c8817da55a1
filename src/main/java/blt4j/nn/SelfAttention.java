package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.RopeTables;
import blt4j.compute.Tensor;

/** Multi-head self-attention with RoPE on q and k (interleaved pairs) and a key-range mask. */
public final class SelfAttention {
    private final Linear wq;
    private final Linear wk;
    private final Linear wv;
    private final Linear wo;
    private final int nHeads;
    private final int headDim;
    private final Backend backend;
    private final Scratch scratch;
    private Tensor q;
    private Tensor k;
    private Tensor v;
    private Tensor att;
    private Tensor lse;
    private Tensor positions;
    private Ranges mask;
    private RopeTables rope;

    public SelfAttention(ParameterStore store, Backend backend, String name, int dim, int nHeads, double inStd, double outStd) {
        if (dim % nHeads != 0) {
            throw new IllegalArgumentException(name + ": dim " + dim + " not divisible by " + nHeads + " heads");
        }
        this.wq = new Linear(store, backend, name + ".wq", dim, dim, inStd);
        this.wk = new Linear(store, backend, name + ".wk", dim, dim, inStd);
        this.wv = new Linear(store, backend, name + ".wv", dim, dim, inStd);
        this.wo = new Linear(store, backend, name + ".wo", dim, dim, outStd);
        this.nHeads = nHeads;
        this.headDim = dim / nHeads;
        this.backend = backend;
        this.scratch = new Scratch(backend);
    }

    public int headDim() {
        return headDim;
    }

    /** x [T, d] (already normalised), positions [T] for RoPE, mask: one key range per query. */
    public Tensor forward(Tensor x, Tensor positions, RopeTables rope, Ranges mask) {
        this.positions = positions;
        this.mask = mask;
        this.rope = rope;
        int rows = x.rows();
        // each projection owns its output buffer, so RoPE can rotate q and k in place
        q = wq.forward(x);
        k = wk.forward(x);
        v = wv.forward(x);
        backend.rope(q, positions, rope.cos(), rope.sin(), q, nHeads, headDim);
        backend.rope(k, positions, rope.cos(), rope.sin(), k, nHeads, headDim);
        att = scratch.f32("att", rows, x.cols());
        lse = scratch.f32("lse", nHeads, rows);
        backend.attention(q, k, v, att, lse, mask, nHeads);
        return wo.forward(att);
    }

    /**
     * Incremental forward for generation: the new rows' keys and values are appended to the cache, and each new
     * query attends to cache rows given by {@code mask} (in cache coordinates). No backward.
     */
    public Tensor forwardCached(Tensor x, Tensor positions, RopeTables rope, KvCache cache, Ranges mask) {
        int rows = x.rows();
        Tensor qc = wq.forward(x);
        Tensor kc = wk.forward(x);
        Tensor vc = wv.forward(x);
        backend.rope(qc, positions, rope.cos(), rope.sin(), qc, nHeads, headDim);
        backend.rope(kc, positions, rope.cos(), rope.sin(), kc, nHeads, headDim);
        cache.append(backend, kc, vc);
        Tensor out = scratch.f32("att", rows, x.cols());
        Tensor l = scratch.f32("lse", nHeads, rows);
        backend.attention(qc, cache.keys(), cache.values(), out, l, mask, nHeads);
        return wo.forward(out);
    }

    public void backward(Tensor dy, Tensor x, Tensor dx) {
        int rows = x.rows();
        int width = x.cols();
        Tensor dAtt = scratch.zeros("dAtt", rows, width);
        wo.backward(dy, att, dAtt);
        Tensor dq = scratch.zeros("dq", rows, width);
        Tensor dk = scratch.zeros("dk", rows, width);
        Tensor dv = scratch.zeros("dv", rows, width);
        backend.attentionBackward(dAtt, q, k, v, att, lse, mask, dq, dk, dv, nHeads);
        Tensor dqPre = scratch.zeros("dqPre", rows, width);
        Tensor dkPre = scratch.zeros("dkPre", rows, width);
        backend.ropeBackward(dq, positions, rope.cos(), rope.sin(), dqPre, nHeads, headDim);
        backend.ropeBackward(dk, positions, rope.cos(), rope.sin(), dkPre, nHeads, headDim);
        wq.backward(dqPre, x, dx);
        wk.backward(dkPre, x, dx);
        wv.backward(dv, x, dx);
    }
}
