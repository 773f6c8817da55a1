package blt4j.nn;

import static blt4j.nn.Buffers.f32;
import static blt4j.nn.Buffers.first;
import static blt4j.nn.Buffers.zeroed;

import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.Tensor;

/**
 * BLT's cross-attention block (BLT-REFERENCE §5.4): separate RMSNorms on the query side and the key/value side,
 * q/k/v/o projections without RoPE, and the doubled residual of the reference: result = 2·x + Wo·attention.
 * Reference names: cross_attn_norm_q, cross_attn_norm_kv, wq, wk, wv, wo. Stateless: activations live in {@link Acts}.
 */
public final class CrossAttention {
    private final RmsNorm normQ;
    private final RmsNorm normKv;
    private final Linear wq;
    private final Linear wk;
    private final Linear wv;
    private final Linear wo;
    private final int nHeads;
    private final int dim;
    private final Backend backend;

    /** What one forward keeps for its backward: Tq query rows and Tk key/value rows at most. */
    public static final class Acts {
        Tensor x;              // [Tq, d] queries (a view of the caller's buffer)
        Tensor kv;             // [Tk, d] keys/values source
        Ranges mask;           // one key range per query
        final Tensor xn;       // [Tq, d] cross_attn_norm_q(x)
        final Tensor rstdQ;    // [Tq]
        final Tensor kvn;      // [Tk, d] cross_attn_norm_kv(kv)
        final Tensor rstdKv;   // [Tk]
        final Tensor q;        // [Tq, d]
        final Tensor k;        // [Tk, d]
        final Tensor v;        // [Tk, d]
        final Tensor att;      // [Tq, d]
        final Tensor lse;      // [H·Tq]
        final Tensor o;        // [Tq, d] wo·att
        final Tensor out;      // [Tq, d] 2·x + o
        final Tensor dAtt;     // [Tq, d] gradient scratch (null without training)
        final Tensor dq;       // [Tq, d]
        final Tensor dxn;      // [Tq, d]
        final Tensor dk;       // [Tk, d]
        final Tensor dv;       // [Tk, d]
        final Tensor dkvn;     // [Tk, d]

        Acts(Backend b, int queries, int keys, int dim, int nHeads, boolean training) {
            xn = f32(b, queries, dim);
            rstdQ = f32(b, queries, 1);
            kvn = f32(b, keys, dim);
            rstdKv = f32(b, keys, 1);
            q = f32(b, queries, dim);
            k = f32(b, keys, dim);
            v = f32(b, keys, dim);
            att = f32(b, queries, dim);
            lse = f32(b, nHeads, queries);
            o = f32(b, queries, dim);
            out = f32(b, queries, dim);
            dAtt = training ? f32(b, queries, dim) : null;
            dq = training ? f32(b, queries, dim) : null;
            dxn = training ? f32(b, queries, dim) : null;
            dk = training ? f32(b, keys, dim) : null;
            dv = training ? f32(b, keys, dim) : null;
            dkvn = training ? f32(b, keys, dim) : null;
        }

        /** Key/value rows one forward may take. */
        public int keyCapacity() {
            return k.rows();
        }
    }

    public CrossAttention(ParameterStore store, Backend backend, String name, int dim, int nHeads, float normEps, double std) {
        if (nHeads <= 0 || dim % nHeads != 0) {
            throw new IllegalArgumentException(name + ": dim " + dim + " not divisible by " + nHeads + " heads");
        }
        this.wq = new Linear(store, backend, name + ".wq", dim, dim, std);
        this.wk = new Linear(store, backend, name + ".wk", dim, dim, std);
        this.wv = new Linear(store, backend, name + ".wv", dim, dim, std);
        this.wo = new Linear(store, backend, name + ".wo", dim, dim, std);
        this.normQ = new RmsNorm(store, backend, name + ".cross_attn_norm_q", dim, normEps);
        this.normKv = new RmsNorm(store, backend, name + ".cross_attn_norm_kv", dim, normEps);
        this.nHeads = nHeads;
        this.dim = dim;
        this.backend = backend;
    }

    /** Acts for up to {@code queries} query rows and {@code keys} key/value rows. */
    public Acts newActs(int queries, int keys, boolean training) {
        return new Acts(backend, queries, keys, dim, nHeads, training);
    }

    /** x [Tq, d] queries, kv [Tk, d]; query i sees kv rows of mask range i (empty → contributes 0). Returns a.out. */
    public Tensor forward(Tensor x, Tensor kv, Ranges mask, Acts a) {
        return forward(x, kv, mask, false, a);
    }

    /**
     * As {@link #forward(Tensor, Tensor, Ranges, Acts)}, with {@code rowByRow} each query attending in a call of its
     * own (batched generation: every row then gets the bits of a one-row step).
     */
    public Tensor forward(Tensor x, Tensor kv, Ranges mask, boolean rowByRow, Acts a) {
        int tq = x.rows();
        int tk = kv.rows();
        a.x = x;
        a.kv = kv;
        a.mask = mask;
        Tensor xn = first(a.xn, tq);
        Tensor kvn = first(a.kvn, tk);
        normQ.forward(x, xn, first(a.rstdQ, tq));
        normKv.forward(kv, kvn, first(a.rstdKv, tk));
        Tensor q = first(a.q, tq);
        Tensor k = first(a.k, tk);
        Tensor v = first(a.v, tk);
        wq.forward(xn, q);
        wk.forward(kvn, k);
        wv.forward(kvn, v);
        Tensor att = first(a.att, tq);
        if (rowByRow) {
            for (int r = 0; r < tq; r++) {
                backend.attention(q.rowSlice(r, r + 1), k, v, att.rowSlice(r, r + 1), first(a.lse, nHeads, 1), mask.row(r), nHeads);
            }
        } else {
            backend.attention(q, k, v, att, first(a.lse, nHeads, tq), mask, nHeads);
        }
        Tensor o = first(a.o, tq);
        wo.forward(att, o);
        Tensor out = first(a.out, tq);
        backend.scale(x, 2f, out);
        backend.axpy(1f, o, out);
        return out;
    }

    /** dx += ∂L/∂x, dkv += ∂L/∂kv for the forward that filled {@code a}. */
    public void backward(Tensor dy, Tensor dx, Tensor dkv, Acts a) {
        int tq = a.x.rows();
        int tk = a.kv.rows();
        backend.axpy(2f, dy, dx);
        Tensor att = first(a.att, tq);
        Tensor dAtt = zeroed(backend, a.dAtt, tq);
        wo.backward(dy, att, dAtt);
        Tensor dq = zeroed(backend, a.dq, tq);
        Tensor dk = zeroed(backend, a.dk, tk);
        Tensor dv = zeroed(backend, a.dv, tk);
        backend.attentionBackward(dAtt, first(a.q, tq), first(a.k, tk), first(a.v, tk), att, first(a.lse, nHeads, tq), a.mask,
                dq, dk, dv, nHeads);
        Tensor dxn = zeroed(backend, a.dxn, tq);
        wq.backward(dq, first(a.xn, tq), dxn);
        normQ.backward(dxn, a.x, first(a.rstdQ, tq), dx);
        Tensor kvn = first(a.kvn, tk);
        Tensor dkvn = zeroed(backend, a.dkvn, tk);
        wk.backward(dk, kvn, dkvn);
        wv.backward(dv, kvn, dkvn);
        normKv.backward(dkvn, a.kv, first(a.rstdKv, tk), dkv);
    }
}
