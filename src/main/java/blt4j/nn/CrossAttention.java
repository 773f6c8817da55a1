package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.Tensor;

/**
 * BLT's cross-attention block (BLT-REFERENCE §5.4): separate RMSNorms on the query side and the key/value side,
 * q/k/v/o projections without RoPE, and the doubled residual of the reference: result = 2·x + Wo·attention.
 * Reference names: cross_attn_norm_q, cross_attn_norm_kv, wq, wk, wv, wo.
 */
public final class CrossAttention {
    private final RmsNorm normQ;
    private final RmsNorm normKv;
    private final Linear wq;
    private final Linear wk;
    private final Linear wv;
    private final Linear wo;
    private final int nHeads;
    private final Backend backend;
    private final Scratch scratch;
    private Tensor x;
    private Tensor kv;
    private Tensor xn;
    private Tensor kvn;
    private Tensor q;
    private Tensor k;
    private Tensor v;
    private Tensor att;
    private Tensor lse;
    private Ranges mask;

    public CrossAttention(ParameterStore store, Backend backend, String name, int dim, int nHeads, float normEps, double std) {
        if (dim % nHeads != 0) {
            throw new IllegalArgumentException(name + ": dim " + dim + " not divisible by " + nHeads + " heads");
        }
        this.wq = new Linear(store, backend, name + ".wq", dim, dim, std);
        this.wk = new Linear(store, backend, name + ".wk", dim, dim, std);
        this.wv = new Linear(store, backend, name + ".wv", dim, dim, std);
        this.wo = new Linear(store, backend, name + ".wo", dim, dim, std);
        this.normQ = new RmsNorm(store, backend, name + ".cross_attn_norm_q", dim, normEps);
        this.normKv = new RmsNorm(store, backend, name + ".cross_attn_norm_kv", dim, normEps);
        this.nHeads = nHeads;
        this.backend = backend;
        this.scratch = new Scratch(backend);
    }

    /** x [Tq, d] queries, kv [Tk, d]; query i sees kv rows of mask range i (empty → contributes 0). */
    public Tensor forward(Tensor x, Tensor kv, Ranges mask) {
        this.x = x;
        this.kv = kv;
        this.mask = mask;
        xn = normQ.forward(x);
        kvn = normKv.forward(kv);
        q = wq.forward(xn);
        k = wk.forward(kvn);
        v = wv.forward(kvn);
        att = scratch.f32("att", x.rows(), x.cols());
        lse = scratch.f32("lse", nHeads, x.rows());
        backend.attention(q, k, v, att, lse, mask, nHeads);
        Tensor o = wo.forward(att);
        Tensor out = scratch.f32("out", x.rows(), x.cols());
        backend.scale(x, 2f, out);
        backend.axpy(1f, o, out);
        return out;
    }

    /** dx += ∂L/∂x, dkv += ∂L/∂kv. */
    public void backward(Tensor dy, Tensor dx, Tensor dkv) {
        int rows = x.rows();
        int dim = x.cols();
        backend.axpy(2f, dy, dx);
        Tensor dAtt = scratch.zeros("dAtt", rows, dim);
        wo.backward(dy, att, dAtt);
        Tensor dq = scratch.zeros("dq", rows, dim);
        Tensor dk = scratch.zeros("dk", kv.rows(), dim);
        Tensor dv = scratch.zeros("dv", kv.rows(), dim);
        backend.attentionBackward(dAtt, q, k, v, att, lse, mask, dq, dk, dv, nHeads);
        Tensor dxn = scratch.zeros("dxn", rows, dim);
        wq.backward(dq, xn, dxn);
        normQ.backward(dxn, x, dx);
        Tensor dkvn = scratch.zeros("dkvn", kv.rows(), dim);
        wk.backward(dk, kvn, dkvn);
        wv.backward(dv, kvn, dkvn);
        normKv.backward(dkvn, kv, dkv);
    }
}
