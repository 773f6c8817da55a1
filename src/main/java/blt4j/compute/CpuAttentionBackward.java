package blt4j.compute;

import static blt4j.compute.CpuVectorMath.*;
import static blt4j.compute.HostBackend.f;
import static blt4j.compute.HostBackend.i;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Attention backward of {@link CpuBackend}, by key blocks: K and V packed per head in blocks of one vector of keys
 * (keys in lanes), and each (head, key block) visits the queries whose range meets it, so dK and dV of a block are
 * written by one thread only. The items are cut into runs of about equal work; a head cut between two runs gets its
 * dQ in each run's private buffer, summed in run order afterwards, so results are deterministic.
 */
final class CpuAttentionBackward {
    private final CpuBackend be;
    /** Packed K and V blocks, D_i per (head, query) and the private dQ buffers (grown, reused: one call at a time). */
    private float[] keyPack = new float[0];
    private float[] valuePack = new float[0];
    private float[] dsumBuf = new float[0];
    private float[][] dqParts = new float[0][];

    CpuAttentionBackward(CpuBackend be) {
        this.be = be;
    }

    /** dq, dk, dv += the gradients of attention (see {@link Backend#attentionBackward}). */
    void run(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse,
             Tensor keyLo, Tensor keyHi, Tensor dq, Tensor dk, Tensor dv, int tq, int tk, int nHeads, int headDim) {
        float[] gv = f(dout), qv = f(q), kv = f(k), vv = f(v), ov = f(out), lv = f(lse);
        float[] dqv = f(dq), dkv = f(dk), dvv = f(dv);
        int[] lo = i(keyLo), hi = i(keyHi);
        int go = dout.offset(), qo = q.offset(), ko = k.offset(), vo = v.offset(), oo = out.offset(), lso = lse.offset();
        int dqo = dq.offset(), dko = dk.offset(), dvo = dv.offset();
        int klo = keyLo.offset(), kho = keyHi.offset();
        int width = nHeads * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        if (tk == 0 || tq == 0) {
            return; // every range is empty: no gradient
        }
        int lanes = L;
        int nkb = (tk + lanes - 1) / lanes;
        int blockSize = headDim * lanes;
        int need = nHeads * nkb * blockSize;
        if (keyPack.length < need) {
            keyPack = new float[need];
        }
        if (valuePack.length < need) {
            valuePack = new float[need];
        }
        if (dsumBuf.length < nHeads * tq) {
            dsumBuf = new float[nHeads * tq];
        }
        float[] kt = keyPack;
        float[] vt = valuePack;
        float[] dsum = dsumBuf;
        // K and V per head in blocks of one vector of keys (keys in lanes), and D_i = dO_i · O_i per (head, query)
        be.parallelFor(nHeads * nkb, 2L * blockSize, (from, to) -> {
            for (int idx = from; idx < to; idx++) {
                CpuAttention.packBlock(kv, ko, width, headDim, tk, idx / nkb, idx % nkb, nkb, lanes, kt);
                CpuAttention.packBlock(vv, vo, width, headDim, tk, idx / nkb, idx % nkb, nkb, lanes, vt);
            }
        });
        be.parallelFor(nHeads * tq, 2L * headDim, (from, to) -> {
            for (int idx = from; idx < to; idx++) {
                int qi = idx % tq;
                int row = qi * width + (idx / tq) * headDim;
                dsum[idx] = hi[kho + qi] > lo[klo + qi] ? dot(gv, go + row, ov, oo + row, headDim) : 0f;
            }
        });
        // the queries each key block must visit: a window found by binary search when the bounds are monotone (every
        // mask BLT builds), else all of them; the window sizes also weigh the blocks for the split over threads
        boolean loUp = nonDecreasing(lo, klo, tq), hiUp = nonDecreasing(hi, kho, tq);
        int[] qa = new int[nkb], qb = new int[nkb];
        long[] cum = new long[nkb + 1];
        for (int jb = 0; jb < nkb; jb++) {
            int j0 = jb * lanes, j1 = Math.min(tk, j0 + lanes);
            qa[jb] = hiUp ? firstAbove(hi, kho, tq, j0) : 0;
            qb[jb] = loUp ? firstAbove(lo, klo, tq, j1 - 1) : tq;
            cum[jb + 1] = cum[jb] + Math.max(0, qb[jb] - qa[jb]) + 1;
        }
        int items = nHeads * nkb;
        long perHead = cum[nkb];
        long totalWork = 8L * headDim * lanes * perHead * nHeads;
        int nParts = be.parts(items, totalWork / items);
        // items (head, key block) in head-major order, cut into nParts runs of about equal weight
        int[] bound = new int[nParts + 1];
        bound[nParts] = items;
        for (int t = 1, x = 0; t < nParts; t++) {
            long target = perHead * nHeads * t / nParts;
            while (x < items && (x / nkb) * perHead + cum[x % nkb] < target) {
                x++;
            }
            bound[t] = x;
        }
        // a head cut between two runs gets its dQ in each run's private buffer, summed in run order afterwards
        if (nParts > 1 && dqParts.length < nParts) {
            dqParts = Arrays.copyOf(dqParts, nParts);
        }
        for (int t = 0; t < nParts; t++) {
            if (nParts > 1 && (dqParts[t] == null || dqParts[t].length < tq * width)) {
                dqParts[t] = new float[tq * width];
            }
        }
        float[][] parts = dqParts;
        be.parallelFor(nParts, totalWork / nParts, (from, to) -> {
            CpuScratch sc = CpuScratch.get();
            for (int t = from; t < to; t++) {
                int first = bound[t], last = bound[t + 1];
                int prevHead = -1;
                for (int idx = first; idx < last; idx++) {
                    int h = idx / nkb, jb = idx % nkb;
                    boolean whole = first <= h * nkb && (h + 1) * nkb <= last;
                    float[] dst = whole ? dqv : parts[t];
                    int dstOff = whole ? dqo : 0;
                    int hoff = h * headDim;
                    if (!whole && h != prevHead) {
                        for (int r = 0; r < tq; r++) {
                            Arrays.fill(dst, r * width + hoff, r * width + hoff + headDim, 0f);
                        }
                    }
                    prevHead = h;
                    attentionBackwardKeyBlock(gv, go, qv, qo, kv, ko, kt, vt, idx * blockSize, lo, klo, hi, kho,
                            lv, lso + h * tq, dsum, h * tq, dst, dstOff, dkv, dko, dvv, dvo, width, hoff, headDim, tk,
                            jb * lanes, qa[jb], qb[jb], scale, sc);
                }
            }
        });
        for (int t = 0; t < nParts; t++) {
            int first = bound[t], last = bound[t + 1];
            for (int h = first / nkb; h < nHeads && h * nkb < last; h++) {
                if (!(first <= h * nkb && (h + 1) * nkb <= last)) {
                    float[] src = parts[t];
                    int hoff = h * headDim;
                    for (int r = 0; r < tq; r++) {
                        axpy(1f, src, r * width + hoff, dqv, dqo + r * width + hoff, headDim);
                    }
                }
            }
        }
    }

    private static boolean nonDecreasing(int[] x, int off, int n) {
        for (int i = 1; i < n; i++) {
            if (x[off + i] < x[off + i - 1]) {
                return false;
            }
        }
        return true;
    }

    /** The first i in [0, n) with x[off + i] > v (n if none), for non-decreasing x. */
    private static int firstAbove(int[] x, int off, int n, int v) {
        int a = 0, b = n;
        while (a < b) {
            int mid = (a + b) >>> 1;
            if (x[off + mid] > v) {
                b = mid;
            } else {
                a = mid + 1;
            }
        }
        return a;
    }

    private static final FloatVector IOTA_F;
    static {
        float[] io = new float[L];
        for (int i = 0; i < L; i++) {
            io[i] = i;
        }
        IOTA_F = FloatVector.fromArray(S, io, 0);
    }

    /**
     * The backward of one head over one block of L keys [j0, j0 + L) (packed K and V at blk, keys in lanes): every
     * query in [qa, qb) whose range meets the block, four at a time. dK and dV of the block are accumulated transposed
     * in scratch (D × L) and added into dk, dv once at the end; dQ rows are added into dqDst (dq itself, or a private
     * buffer when another thread may work on the same head). Row offsets: q[qo + i·width + hoff], likewise g, dqDst.
     */
    static void attentionBackwardKeyBlock(float[] g, int go, float[] q, int qo, float[] k, int ko, float[] kt, float[] vt,
                                          int blk, int[] lo, int klo, int[] hi, int kho, float[] lse, int lseo,
                                          float[] dsum, int dso, float[] dqDst, int dqo, float[] dk, int dko,
                                          float[] dv, int dvo, int width, int hoff, int headDim, int tk, int j0,
                                          int qa, int qb, float scale, CpuScratch sc) {
        int j1 = Math.min(tk, j0 + L);
        int[] list = sc.ilist(qb - qa);
        int n = 0;
        for (int i = qa; i < qb; i++) {
            int a = lo[klo + i], b = hi[kho + i];
            if (a < j1 && b > j0 && b > a) {
                list[n++] = i;
            }
        }
        if (n == 0) {
            return;
        }
        int dl = headDim * L;
        float[] acc = sc.kvAcc(2 * dl);
        zero(acc, 0, 2 * dl);
        float[] meta = sc.meta;
        float[] ds = sc.ds;
        float j0f = j0;
        for (int t = 0; t < n; t += 4) {
            int nq = Math.min(4, n - t);
            int r0 = 0, r1 = 0, r2 = 0, r3 = 0;
            int ja = L, jb = 0;
            for (int u = 0; u < 4; u++) {
                int i = list[t + Math.min(u, nq - 1)];
                int r = i * width + hoff;
                if (u < nq) {
                    int a = lo[klo + i], b = hi[kho + i];
                    meta[u] = a;
                    meta[4 + u] = b;
                    meta[8 + u] = lse[lseo + i];
                    meta[12 + u] = dsum[dso + i];
                    ja = Math.min(ja, Math.max(a, j0) - j0);
                    jb = Math.max(jb, Math.min(b, j1) - j0);
                } else {
                    meta[u] = 0f; // padding: empty range, contributes exact zeros
                    meta[4 + u] = 0f;
                    meta[8 + u] = 0f;
                    meta[12 + u] = 0f;
                }
                switch (u) {
                    case 0 -> r0 = r;
                    case 1 -> r1 = r;
                    case 2 -> r2 = r;
                    default -> r3 = r;
                }
            }
            bwdGroup(q, qo, g, go, kt, vt, blk, headDim, scale, r0, r1, r2, r3, meta, j0f, acc, dl, ds);
            int krow = ko + j0 * width + hoff;
            if (nq == 4) {
                dqGroup4(ds, k, krow, width, ja, jb, dqDst, dqo + r0, dqo + r1, dqo + r2, dqo + r3, headDim);
            } else {
                for (int u = 0; u < nq; u++) {
                    int r = u == 0 ? r0 : u == 1 ? r1 : r2;
                    dqOne(ds, u * L, k, krow, width, ja, jb, dqDst, dqo + r, headDim);
                }
            }
        }
        int cnt = j1 - j0;
        for (int jj = 0; jj < cnt; jj++) {
            int row = (j0 + jj) * width + hoff;
            int kr = dko + row;
            int vr = dvo + row;
            for (int d = 0; d < headDim; d++) {
                dk[kr + d] += acc[d * L + jj];
                dv[vr + d] += acc[dl + d * L + jj];
            }
        }
    }

    /**
     * Four queries (rows r0..r3) against one block of L keys: scores and dO·Vᵀ in registers, probabilities from lse
     * (zero outside each query's range), dS = P ⊙ (dP − D)·scale; dKᵀ += dSᵀ-weighted q rows and dVᵀ += P-weighted dO
     * rows into acc (dK at 0, dV at dl, both D × L); dS rows left in ds for the dQ update.
     */
    private static void bwdGroup(float[] q, int qo, float[] g, int go, float[] kt, float[] vt, int blk, int headDim,
                                 float scale, int r0, int r1, int r2, int r3, float[] meta, float j0f,
                                 float[] acc, int dl, float[] ds) {
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S), s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
        FloatVector t0 = FloatVector.zero(S), t1 = FloatVector.zero(S), t2 = FloatVector.zero(S), t3 = FloatVector.zero(S);
        int q0 = qo + r0, q1 = qo + r1, q2 = qo + r2, q3 = qo + r3;
        int g0 = go + r0, g1 = go + r1, g2 = go + r2, g3 = go + r3;
        for (int d = 0; d < headDim; d++) {
            FloatVector kd = FloatVector.fromArray(S, kt, blk + d * L);
            s0 = kd.fma(FloatVector.broadcast(S, q[q0 + d]), s0);
            s1 = kd.fma(FloatVector.broadcast(S, q[q1 + d]), s1);
            s2 = kd.fma(FloatVector.broadcast(S, q[q2 + d]), s2);
            s3 = kd.fma(FloatVector.broadcast(S, q[q3 + d]), s3);
            FloatVector vd = FloatVector.fromArray(S, vt, blk + d * L);
            t0 = vd.fma(FloatVector.broadcast(S, g[g0 + d]), t0);
            t1 = vd.fma(FloatVector.broadcast(S, g[g1 + d]), t1);
            t2 = vd.fma(FloatVector.broadcast(S, g[g2 + d]), t2);
            t3 = vd.fma(FloatVector.broadcast(S, g[g3 + d]), t3);
        }
        FloatVector kidx = IOTA_F.add(j0f);
        FloatVector p0 = probs(s0, kidx, meta[0], meta[4], meta[8], scale);
        FloatVector p1 = probs(s1, kidx, meta[1], meta[5], meta[9], scale);
        FloatVector p2 = probs(s2, kidx, meta[2], meta[6], meta[10], scale);
        FloatVector p3 = probs(s3, kidx, meta[3], meta[7], meta[11], scale);
        FloatVector d0 = p0.mul(t0.sub(meta[12])).mul(scale);
        FloatVector d1 = p1.mul(t1.sub(meta[13])).mul(scale);
        FloatVector d2 = p2.mul(t2.sub(meta[14])).mul(scale);
        FloatVector d3 = p3.mul(t3.sub(meta[15])).mul(scale);
        for (int d = 0; d < headDim; d++) {
            int at = d * L;
            FloatVector ak = FloatVector.fromArray(S, acc, at);
            ak = d0.fma(FloatVector.broadcast(S, q[q0 + d]), ak);
            ak = d1.fma(FloatVector.broadcast(S, q[q1 + d]), ak);
            ak = d2.fma(FloatVector.broadcast(S, q[q2 + d]), ak);
            ak = d3.fma(FloatVector.broadcast(S, q[q3 + d]), ak);
            ak.intoArray(acc, at);
            FloatVector av = FloatVector.fromArray(S, acc, dl + at);
            av = p0.fma(FloatVector.broadcast(S, g[g0 + d]), av);
            av = p1.fma(FloatVector.broadcast(S, g[g1 + d]), av);
            av = p2.fma(FloatVector.broadcast(S, g[g2 + d]), av);
            av = p3.fma(FloatVector.broadcast(S, g[g3 + d]), av);
            av.intoArray(acc, dl + at);
        }
        d0.intoArray(ds, 0);
        d1.intoArray(ds, L);
        d2.intoArray(ds, 2 * L);
        d3.intoArray(ds, 3 * L);
    }

    /** exp(s·scale − lse) on the lanes whose key index lies in [lo, hi), 0 elsewhere. */
    private static FloatVector probs(FloatVector s, FloatVector kidx, float lo, float hi, float lse, float scale) {
        VectorMask<Float> in = kidx.compare(VectorOperators.GE, lo).and(kidx.compare(VectorOperators.LT, hi));
        return FloatVector.zero(S).blend(exp(s.mul(scale).sub(lse)), in);
    }

    /** dq rows a0..a3 += Σ_j ds[u·L + j] · k[krow + j·width ..] over keys j in [ja, jb) of the block. */
    private static void dqGroup4(float[] ds, float[] k, int krow, int width, int ja, int jb, float[] dq,
                                 int a0, int a1, int a2, int a3, int headDim) {
        int c = 0;
        for (; c + L <= headDim; c += L) {
            FloatVector x0 = FloatVector.fromArray(S, dq, a0 + c);
            FloatVector x1 = FloatVector.fromArray(S, dq, a1 + c);
            FloatVector x2 = FloatVector.fromArray(S, dq, a2 + c);
            FloatVector x3 = FloatVector.fromArray(S, dq, a3 + c);
            for (int j = ja; j < jb; j++) {
                FloatVector kv = FloatVector.fromArray(S, k, krow + j * width + c);
                x0 = kv.fma(FloatVector.broadcast(S, ds[j]), x0);
                x1 = kv.fma(FloatVector.broadcast(S, ds[L + j]), x1);
                x2 = kv.fma(FloatVector.broadcast(S, ds[2 * L + j]), x2);
                x3 = kv.fma(FloatVector.broadcast(S, ds[3 * L + j]), x3);
            }
            x0.intoArray(dq, a0 + c);
            x1.intoArray(dq, a1 + c);
            x2.intoArray(dq, a2 + c);
            x3.intoArray(dq, a3 + c);
        }
        for (; c < headDim; c++) {
            float x0 = dq[a0 + c], x1 = dq[a1 + c], x2 = dq[a2 + c], x3 = dq[a3 + c];
            for (int j = ja; j < jb; j++) {
                float kv = k[krow + j * width + c];
                x0 = Math.fma(kv, ds[j], x0);
                x1 = Math.fma(kv, ds[L + j], x1);
                x2 = Math.fma(kv, ds[2 * L + j], x2);
                x3 = Math.fma(kv, ds[3 * L + j], x3);
            }
            dq[a0 + c] = x0;
            dq[a1 + c] = x1;
            dq[a2 + c] = x2;
            dq[a3 + c] = x3;
        }
    }

    /** One dq row += Σ_j ds[dso + j] · k row j, keys j in [ja, jb) of the block. */
    private static void dqOne(float[] ds, int dso, float[] k, int krow, int width, int ja, int jb, float[] dq, int a,
                              int headDim) {
        int c = 0;
        for (; c + L <= headDim; c += L) {
            FloatVector x = FloatVector.fromArray(S, dq, a + c);
            for (int j = ja; j < jb; j++) {
                x = FloatVector.fromArray(S, k, krow + j * width + c).fma(FloatVector.broadcast(S, ds[dso + j]), x);
            }
            x.intoArray(dq, a + c);
        }
        for (; c < headDim; c++) {
            float x = dq[a + c];
            for (int j = ja; j < jb; j++) {
                x = Math.fma(k[krow + j * width + c], ds[dso + j], x);
            }
            dq[a + c] = x;
        }
    }
}
