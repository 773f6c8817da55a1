package blt4j.nn;

import static blt4j.nn.Buffers.f32;
import static blt4j.nn.Buffers.first;
import static blt4j.nn.Buffers.zeroed;

import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.RopeTables;
import blt4j.compute.Tensor;

/** Multi-head self-attention with RoPE on q and k (interleaved pairs) and a key-range mask. Stateless. */
public final class SelfAttention {
    private final Linear wq;
    private final Linear wk;
    private final Linear wv;
    private final Linear wo;
    private final int nHeads;
    private final int headDim;
    private final Backend backend;

    /** What one forward keeps for its backward, for up to {@code capacity} rows (T below). */
    public static final class Acts {
        final Tensor q;      // [T, d] after RoPE
        final Tensor k;      // [T, d] after RoPE
        final Tensor v;      // [T, d]
        final Tensor att;    // [T, d] attention output before wo
        final Tensor lse;    // [H·T] log-sum-exp per head and query
        final Tensor out;    // [T, d] wo·att
        final Tensor dAtt;   // [T, d] gradient scratch (null without training)
        final Tensor dq;     // [T, d] (rotated back in place: then the gradient before RoPE)
        final Tensor dk;     // [T, d]
        final Tensor dv;     // [T, d]
        Tensor positions;    // [T] of the last forward
        Ranges mask;         // of the last forward
        RopeTables rope;

        public Acts(Backend b, int capacity, int dim, int nHeads, boolean training) {
            q = f32(b, capacity, dim);
            k = f32(b, capacity, dim);
            v = f32(b, capacity, dim);
            att = f32(b, capacity, dim);
            lse = f32(b, nHeads, capacity);
            out = f32(b, capacity, dim);
            dAtt = training ? f32(b, capacity, dim) : null;
            dq = training ? f32(b, capacity, dim) : null;
            dk = training ? f32(b, capacity, dim) : null;
            dv = training ? f32(b, capacity, dim) : null;
        }
    }

    public SelfAttention(ParameterStore store, Backend backend, String name, int dim, int nHeads, double inStd, double outStd) {
        if (nHeads <= 0 || dim % nHeads != 0) {
            throw new IllegalArgumentException(name + ": dim " + dim + " not divisible by " + nHeads + " heads");
        }
        this.wq = new Linear(store, backend, name + ".wq", dim, dim, inStd);
        this.wk = new Linear(store, backend, name + ".wk", dim, dim, inStd);
        this.wv = new Linear(store, backend, name + ".wv", dim, dim, inStd);
        this.wo = new Linear(store, backend, name + ".wo", dim, dim, outStd);
        this.nHeads = nHeads;
        this.headDim = dim / nHeads;
        this.backend = backend;
    }

    public int headDim() {
        return headDim;
    }

    public int nHeads() {
        return nHeads;
    }

    public Acts newActs(int capacity, boolean training) {
        return new Acts(backend, capacity, nHeads * headDim, nHeads, training);
    }

    /** x [T, d] (already normalised), positions [T] for RoPE, mask: one key range per query. Returns a.out [T, d]. */
    public Tensor forward(Tensor x, Tensor positions, RopeTables rope, Ranges mask, Acts a) {
        int rows = x.rows();
        a.positions = positions;
        a.mask = mask;
        a.rope = rope;
        Tensor q = first(a.q, rows);
        Tensor k = first(a.k, rows);
        Tensor v = first(a.v, rows);
        project(x, positions, rope, q, k, v);
        Tensor att = first(a.att, rows);
        backend.attention(q, k, v, att, first(a.lse, nHeads, rows), mask, nHeads);
        Tensor out = first(a.out, rows);
        wo.forward(att, out);
        return out;
    }

    /**
     * Incremental forward for generation: the new rows' keys and values are appended to the cache, and each new
     * query attends to cache rows given by {@code mask} (in cache coordinates). No backward.
     */
    public Tensor forwardCached(Tensor x, Tensor positions, RopeTables rope, KvCache cache, Ranges mask, Acts a) {
        int rows = x.rows();
        Tensor q = first(a.q, rows);
        Tensor k = first(a.k, rows);
        Tensor v = first(a.v, rows);
        project(x, positions, rope, q, k, v);
        cache.append(backend, k, v);
        Tensor att = first(a.att, rows);
        backend.attention(q, cache.keys(), cache.values(), att, first(a.lse, nHeads, rows), mask, nHeads);
        Tensor out = first(a.out, rows);
        wo.forward(att, out);
        return out;
    }

    /**
     * Rows of different sequences in one block (batched generation): the projections run over all rows at once, and
     * row r appends to {@code caches[r]} and attends alone over it with {@code masks[r]} (one row, in its cache's rows),
     * exactly as it would in a block of its own.
     */
    public Tensor forwardCachedRows(Tensor x, Tensor positions, RopeTables rope, KvCache[] caches, Ranges[] masks, Acts a) {
        int rows = x.rows();
        Tensor q = first(a.q, rows);
        Tensor k = first(a.k, rows);
        Tensor v = first(a.v, rows);
        project(x, positions, rope, q, k, v);
        Tensor att = first(a.att, rows);
        Tensor lse = first(a.lse, nHeads, 1);
        for (int r = 0; r < rows; r++) {
            KvCache cache = caches[r];
            cache.append(backend, k.rowSlice(r, r + 1), v.rowSlice(r, r + 1));
            backend.attention(q.rowSlice(r, r + 1), cache.keys(), cache.values(), att.rowSlice(r, r + 1), lse, masks[r], nHeads);
        }
        Tensor out = first(a.out, rows);
        wo.forward(att, out);
        return out;
    }

    // each projection writes its own buffer, so RoPE rotates q and k in place
    private void project(Tensor x, Tensor positions, RopeTables rope, Tensor q, Tensor k, Tensor v) {
        wq.forward(x, q);
        wk.forward(x, k);
        wv.forward(x, v);
        backend.rope(q, positions, rope.cos(), rope.sin(), q, nHeads, headDim);
        backend.rope(k, positions, rope.cos(), rope.sin(), k, nHeads, headDim);
    }

    /** dx = ∂L/∂x (overwritten, not added to) for the forward that filled {@code a} from x. */
    public void backward(Tensor dy, Tensor x, Tensor dx, Acts a) {
        int rows = x.rows();
        Tensor q = first(a.q, rows);
        Tensor k = first(a.k, rows);
        Tensor v = first(a.v, rows);
        Tensor att = first(a.att, rows);
        Tensor dAtt = first(a.dAtt, rows);
        wo.backward(dy, att, dAtt, false);
        Tensor dq = zeroed(backend, a.dq, rows);
        Tensor dk = zeroed(backend, a.dk, rows);
        Tensor dv = zeroed(backend, a.dv, rows);
        backend.attentionBackward(dAtt, q, k, v, att, first(a.lse, nHeads, rows), a.mask, dq, dk, dv, nHeads);
        // RoPE's backward is the inverse rotation: applied in place, dq and dk become the gradients before RoPE
        backend.rope(dq, a.positions, a.rope.cos(), a.rope.inverseSin(), dq, nHeads, headDim);
        backend.rope(dk, a.positions, a.rope.cos(), a.rope.inverseSin(), dk, nHeads, headDim);
        wq.backward(dq, x, dx, false);
        wk.backward(dk, x, dx);
        wv.backward(dv, x, dx);
    }
}
