package blt4j.compute;

import static blt4j.compute.CpuVectorMath.*;

import jdk.incubator.vector.FloatVector;

/**
 * Attention forward kernels of {@link CpuBackend}: keys packed per head into blocks of {@link #KB} so a query's
 * scores need no horizontal sums, and queries in pairs that share K and V loads when their ranges overlap.
 */
final class CpuAttention {
    private CpuAttention() {}

    // ------------------------------------------------------------------ attention

    /** Keys per packed block of K: four vectors, so one query's scores for a block stay in registers. */
    static final int KB = 4 * L;

    /** Packs head h's keys into blocks kt[((h·nkb + jb)·D + d)·KB + jj] = k[(jb·KB + jj)·width + h·D + d], zero-padded. */
    static void packKeys(float[] k, int ko, int width, int headDim, int tk, int h, int jb, int nkb, float[] kt) {
        packBlock(k, ko, width, headDim, tk, h, jb, nkb, KB, kt);
    }

    /** Packs head h's keys into blocks of blk: kt[((h·nkb + jb)·D + d)·blk + jj] = k[(jb·blk + jj)·width + h·D + d], zero-padded. */
    static void packBlock(float[] k, int ko, int width, int headDim, int tk, int h, int jb, int nkb, int blk, float[] kt) {
        int base = (h * nkb + jb) * headDim * blk;
        int j0 = jb * blk;
        int cnt = Math.min(blk, tk - j0);
        for (int jj = 0; jj < cnt; jj++) {
            int src = ko + (j0 + jj) * width + h * headDim;
            for (int d = 0; d < headDim; d++) {
                kt[base + d * blk + jj] = k[src + d];
            }
        }
        for (int jj = cnt; jj < blk; jj++) {
            for (int d = 0; d < headDim; d++) {
                kt[base + d * blk + jj] = 0f;
            }
        }
    }

    /** s[so .. so+KB) = scale · q·k for the KB keys of one packed block (no horizontal reductions). */
    static void scoreBlock(float[] q, int qrow, float[] kt, int kb, int headDim, float scale, float[] s, int so) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        for (int d = 0; d < headDim; d++) {
            FloatVector qd = FloatVector.broadcast(S, q[qrow + d]);
            int at = kb + d * KB;
            a0 = FloatVector.fromArray(S, kt, at).fma(qd, a0);
            a1 = FloatVector.fromArray(S, kt, at + L).fma(qd, a1);
            a2 = FloatVector.fromArray(S, kt, at + 2 * L).fma(qd, a2);
            a3 = FloatVector.fromArray(S, kt, at + 3 * L).fma(qd, a3);
        }
        a0.mul(scale).intoArray(s, so);
        a1.mul(scale).intoArray(s, so + L);
        a2.mul(scale).intoArray(s, so + 2 * L);
        a3.mul(scale).intoArray(s, so + 3 * L);
    }

    /** out[orow + d] = f · Σ_j p[po + j] · v[vrow + j·width + d], accumulators kept in registers over all keys. */
    static void weightedSum(float[] p, int po, int n, float[] v, int vrow, int width, float[] out, int orow, int headDim, float f,
                            boolean acc) {
        int c = 0;
        for (; c + 4 * L <= headDim; c += 4 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
            for (int j = 0; j < n; j++) {
                FloatVector pj = FloatVector.broadcast(S, p[po + j]);
                int at = vrow + j * width + c;
                a0 = FloatVector.fromArray(S, v, at).fma(pj, a0);
                a1 = FloatVector.fromArray(S, v, at + L).fma(pj, a1);
                a2 = FloatVector.fromArray(S, v, at + 2 * L).fma(pj, a2);
                a3 = FloatVector.fromArray(S, v, at + 3 * L).fma(pj, a3);
            }
            put(a0.mul(f), out, orow + c, acc);
            put(a1.mul(f), out, orow + c + L, acc);
            put(a2.mul(f), out, orow + c + 2 * L, acc);
            put(a3.mul(f), out, orow + c + 3 * L, acc);
        }
        // two chains at once where a head holds two vectors (each element still sums its keys in order)
        for (; c + 2 * L <= headDim; c += 2 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
            for (int j = 0; j < n; j++) {
                FloatVector pj = FloatVector.broadcast(S, p[po + j]);
                int at = vrow + j * width + c;
                a0 = FloatVector.fromArray(S, v, at).fma(pj, a0);
                a1 = FloatVector.fromArray(S, v, at + L).fma(pj, a1);
            }
            put(a0.mul(f), out, orow + c, acc);
            put(a1.mul(f), out, orow + c + L, acc);
        }
        for (; c + L <= headDim; c += L) {
            FloatVector a0 = FloatVector.zero(S);
            for (int j = 0; j < n; j++) {
                a0 = FloatVector.fromArray(S, v, vrow + j * width + c).fma(FloatVector.broadcast(S, p[po + j]), a0);
            }
            put(a0.mul(f), out, orow + c, acc);
        }
        for (; c < headDim; c++) {
            float sum = 0f;
            for (int j = 0; j < n; j++) {
                sum += p[po + j] * v[vrow + j * width + c];
            }
            out[orow + c] = acc ? out[orow + c] + sum * f : sum * f;
        }
    }

    private static void put(FloatVector x, float[] out, int at, boolean acc) {
        (acc ? x.add(FloatVector.fromArray(S, out, at)) : x).intoArray(out, at);
    }

    /**
     * Forward of two queries of one head on packed keys, sharing every load of K and V: scores over the union of the
     * two ranges (whole packed blocks where the union covers them, single vectors of keys at its edges), a softmax per
     * query over its own range (zeros elsewhere in the union), one weighted sum for both. Both ranges must be
     * non-empty. Writes the two log-sum-exps to lse[l0], lse[l1].
     */
    static void attentionPairPacked(float[] q, int qrow0, int qrow1, float[] kt, int kbase, int headDim, float[] v, int vbase,
                                    float[] out, int orow0, int orow1, int width, int a0, int b0, int a1, int b1, float scale,
                                    float[] lse, int l0, int l1, float[] s0, float[] s1) {
        int lo = Math.min(a0, a1), hi = Math.max(b0, b1);
        int base = (lo / L) * L;
        int end = (hi + L - 1) / L * L;
        for (int j = base; j < end; ) {
            int blk = kbase + (j / KB) * headDim * KB;
            if (j % KB == 0 && j + KB <= end) {
                scoreBlock2(q, qrow0, qrow1, kt, blk, headDim, scale, s0, s1, j - base);
                j += KB;
            } else {
                scoreVec2(q, qrow0, qrow1, kt, blk + (j % KB), headDim, scale, s0, s1, j - base);
                j += L;
            }
        }
        int n = hi - lo;
        int off = lo - base;
        float m0 = max(s0, off + a0 - lo, b0 - a0);
        float m1 = max(s1, off + a1 - lo, b1 - a1);
        float sum0 = expShift(s0, off + a0 - lo, s0, off + a0 - lo, b0 - a0, m0);
        float sum1 = expShift(s1, off + a1 - lo, s1, off + a1 - lo, b1 - a1, m1);
        zero(s0, off, a0 - lo);
        zero(s0, off + b0 - lo, hi - b0);
        zero(s1, off, a1 - lo);
        zero(s1, off + b1 - lo, hi - b1);
        weightedSum2(s0, s1, off, n, v, vbase + lo * width, width, out, orow0, orow1, headDim, 1f / sum0, 1f / sum1);
        lse[l0] = m0 + log(sum0);
        lse[l1] = m1 + log(sum1);
    }

    /** scoreBlock for two queries at once (8 accumulators, each K load used twice). */
    static void scoreBlock2(float[] q, int qa, int qb, float[] kt, int kb, int headDim, float scale, float[] s, float[] t, int so) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S), c2 = FloatVector.zero(S), c3 = FloatVector.zero(S);
        for (int d = 0; d < headDim; d++) {
            FloatVector qd = FloatVector.broadcast(S, q[qa + d]);
            FloatVector pd = FloatVector.broadcast(S, q[qb + d]);
            int at = kb + d * KB;
            FloatVector k0 = FloatVector.fromArray(S, kt, at);
            a0 = k0.fma(qd, a0);
            c0 = k0.fma(pd, c0);
            FloatVector k1 = FloatVector.fromArray(S, kt, at + L);
            a1 = k1.fma(qd, a1);
            c1 = k1.fma(pd, c1);
            FloatVector k2 = FloatVector.fromArray(S, kt, at + 2 * L);
            a2 = k2.fma(qd, a2);
            c2 = k2.fma(pd, c2);
            FloatVector k3 = FloatVector.fromArray(S, kt, at + 3 * L);
            a3 = k3.fma(qd, a3);
            c3 = k3.fma(pd, c3);
        }
        a0.mul(scale).intoArray(s, so);
        a1.mul(scale).intoArray(s, so + L);
        a2.mul(scale).intoArray(s, so + 2 * L);
        a3.mul(scale).intoArray(s, so + 3 * L);
        c0.mul(scale).intoArray(t, so);
        c1.mul(scale).intoArray(t, so + L);
        c2.mul(scale).intoArray(t, so + 2 * L);
        c3.mul(scale).intoArray(t, so + 3 * L);
    }

    /** One vector of L keys (at kv inside a packed block, row stride KB) against two queries. */
    static void scoreVec2(float[] q, int qa, int qb, float[] kt, int kv, int headDim, float scale, float[] s, float[] t, int so) {
        FloatVector a0 = FloatVector.zero(S), c0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S), c1 = FloatVector.zero(S);
        int d = 0;
        for (; d + 2 <= headDim; d += 2) {
            FloatVector k0 = FloatVector.fromArray(S, kt, kv + d * KB);
            FloatVector k1 = FloatVector.fromArray(S, kt, kv + (d + 1) * KB);
            a0 = k0.fma(FloatVector.broadcast(S, q[qa + d]), a0);
            c0 = k0.fma(FloatVector.broadcast(S, q[qb + d]), c0);
            a1 = k1.fma(FloatVector.broadcast(S, q[qa + d + 1]), a1);
            c1 = k1.fma(FloatVector.broadcast(S, q[qb + d + 1]), c1);
        }
        if (d < headDim) {
            FloatVector k0 = FloatVector.fromArray(S, kt, kv + d * KB);
            a0 = k0.fma(FloatVector.broadcast(S, q[qa + d]), a0);
            c0 = k0.fma(FloatVector.broadcast(S, q[qb + d]), c0);
        }
        a0.add(a1).mul(scale).intoArray(s, so);
        c0.add(c1).mul(scale).intoArray(t, so);
    }

    /** weightedSum for two probability rows over the same keys (each V load used twice); out rows overwritten. */
    static void weightedSum2(float[] p, float[] r, int po, int n, float[] v, int vrow, int width, float[] out, int oa, int ob,
                             int headDim, float fa, float fb) {
        int c = 0;
        for (; c + 2 * L <= headDim; c += 2 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
            FloatVector b0 = FloatVector.zero(S), b1 = FloatVector.zero(S);
            for (int j = 0; j < n; j++) {
                FloatVector pj = FloatVector.broadcast(S, p[po + j]);
                FloatVector rj = FloatVector.broadcast(S, r[po + j]);
                int at = vrow + j * width + c;
                FloatVector v0 = FloatVector.fromArray(S, v, at);
                FloatVector v1 = FloatVector.fromArray(S, v, at + L);
                a0 = v0.fma(pj, a0);
                a1 = v1.fma(pj, a1);
                b0 = v0.fma(rj, b0);
                b1 = v1.fma(rj, b1);
            }
            a0.mul(fa).intoArray(out, oa + c);
            a1.mul(fa).intoArray(out, oa + c + L);
            b0.mul(fb).intoArray(out, ob + c);
            b1.mul(fb).intoArray(out, ob + c + L);
        }
        for (; c + L <= headDim; c += L) {
            FloatVector a0 = FloatVector.zero(S), b0 = FloatVector.zero(S);
            for (int j = 0; j < n; j++) {
                FloatVector v0 = FloatVector.fromArray(S, v, vrow + j * width + c);
                a0 = v0.fma(FloatVector.broadcast(S, p[po + j]), a0);
                b0 = v0.fma(FloatVector.broadcast(S, r[po + j]), b0);
            }
            a0.mul(fa).intoArray(out, oa + c);
            b0.mul(fb).intoArray(out, ob + c);
        }
        for (; c < headDim; c++) {
            float sa = 0f, sb = 0f;
            for (int j = 0; j < n; j++) {
                float x = v[vrow + j * width + c];
                sa += p[po + j] * x;
                sb += r[po + j] * x;
            }
            out[oa + c] = sa * fa;
            out[ob + c] = sb * fb;
        }
    }

    /**
     * Forward of one (head, query) straight on the key rows (no packing): the path of cached decoding steps, where a
     * query or two read a window of a long cache and packing it would cost more than the scores. kbase and vbase are
     * the head's column offsets in k and v. Returns the log-sum-exp.
     */
    static float attentionRowDirect(float[] q, int qrow, float[] k, int kbase, int headDim, float[] v, int vbase,
                                    float[] out, int orow, int width, int from, int to, float scale, float[] sbuf) {
        if (to <= from) {
            zero(out, orow, headDim);
            return Float.NEGATIVE_INFINITY;
        }
        int n = to - from;
        for (int j = 0; j < n; j++) {
            sbuf[j] = scale * dot(q, qrow, k, kbase + (from + j) * width, headDim);
        }
        float m = max(sbuf, 0, n);
        float sum = expShift(sbuf, 0, sbuf, 0, n, m);
        weightedSum(sbuf, 0, n, v, vbase + from * width, width, out, orow, headDim, 1f / sum, false);
        return m + log(sum);
    }

    /**
     * Forward of one (head, query) on packed keys: scores block by block, softmax, weighted sum of values.
     * kbase is the head's first packed block; vbase the head's column offset in v. Returns the log-sum-exp.
     */
    static float attentionRowPacked(float[] q, int qrow, float[] kt, int kbase, int headDim, float[] v, int vbase,
                                    float[] out, int orow, int width, int from, int to, float scale, float[] sbuf) {
        if (to <= from) {
            zero(out, orow, headDim);
            return Float.NEGATIVE_INFINITY;
        }
        int b0 = from / KB;
        int b1 = (to - 1) / KB;
        for (int jb = b0; jb <= b1; jb++) {
            scoreBlock(q, qrow, kt, kbase + jb * headDim * KB, headDim, scale, sbuf, (jb - b0) * KB);
        }
        int so = from - b0 * KB;
        int n = to - from;
        float m = max(sbuf, so, n);
        float sum = expShift(sbuf, so, sbuf, so, n, m);
        weightedSum(sbuf, so, n, v, vbase + from * width, width, out, orow, headDim, 1f / sum, false);
        return m + log(sum);
    }
}
