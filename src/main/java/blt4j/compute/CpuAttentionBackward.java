package blt4j.compute;

import static blt4j.compute.CpuVectorMath.*;
import static blt4j.compute.HostBackend.f;
import static blt4j.compute.HostBackend.i;

import java.util.Arrays;

/**
 * Attention backward of {@link CpuBackend}, by key blocks of {@link CpuAttentionBackwardTiles#KB}: the operands are
 * packed per head as register-tile panels, and each (head, key block) visits the queries whose range meets it
 * ({@link CpuAttentionBackwardTiles#keyBlock}), so dK and dV of a block are written by one thread only. The items are cut into runs of about equal work; a head cut between two runs gets its
 * dQ in each run's private buffer, summed in run order afterwards, so results are deterministic.
 */
final class CpuAttentionBackward {
    private final CpuBackend be;
    /** The private dQ buffers of runs that share a head (grown, reused: one call at a time). */
    private float[][] dqParts = new float[0][];
    /** Per key block, the queries it visits [qFirst, qEnd), and the items' cumulative weights (grown, reused). */
    private int[] qFirst = new int[0], qEnd = new int[0];
    private long[] weights = new long[0];

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
        int lanes = CpuAttentionBackwardTiles.KB;
        int nkb = (tk + lanes - 1) / lanes;
        int qs = CpuAttentionBackwardTiles.QS;
        int nqs = (tq + qs - 1) / qs;
        int vs = CpuAttentionTiles.valueStrips(headDim);
        int stripNeed = nqs * headDim * qs;
        int colNeed = vs * Math.max(tq, tk) * qs;
        // the queries each key block must visit: a window found by binary search when the bounds are monotone (every
        // mask BLT builds), else all of them; the window sizes also weigh the blocks for the split over threads
        boolean loUp = nonDecreasing(lo, klo, tq), hiUp = nonDecreasing(hi, kho, tq);
        int items = nHeads * nkb;
        if (qFirst.length < nkb) {
            qFirst = new int[nkb];
            qEnd = new int[nkb];
        }
        if (weights.length < items + 1) {
            weights = new long[items + 1];
        }
        int[] qa = qFirst, qb = qEnd;
        long[] cum = weights;
        cum[0] = 0;
        for (int jb = 0; jb < nkb; jb++) {
            int j0 = jb * lanes, j1 = Math.min(tk, j0 + lanes);
            qa[jb] = hiUp ? firstAbove(hi, kho, tq, j0) : 0;
            qb[jb] = loUp ? firstAbove(lo, klo, tq, j1 - 1) : tq;
            cum[jb + 1] = cum[jb] + Math.max(0, qb[jb] - qa[jb]) + 1;
        }
        long perHead = cum[nkb];
        long totalWork = 10L * headDim * lanes * perHead * nHeads;
        int nParts = be.parts(items, totalWork / items);
        // items (head, key block) in head-major order, cut into nParts runs of about equal weight
        CpuBackend.repeatHeads(cum, nkb, nHeads);
        int[] bound = CpuBackend.weightedBounds(cum, items, nParts);
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
        // each thread packs the head it comes to into its own panels, just before that head's key blocks: one head's
        // operands stay in cache (all heads packed up front were 20 MB for 4 × 1,024 bytes at d 256)
        be.parallelFor(nParts, totalWork / nParts, (from, to) -> {
            CpuScratch sc = CpuScratch.get();
            CpuAttentionBackwardTiles.Packs packs = sc.bwdPacks(nqs, stripNeed, colNeed);
            int padded = nqs * qs;
            float[] queries = sc.bwdQueries(4 * padded);
            for (int t = from; t < to; t++) {
                int first = bound[t], last = bound[t + 1];
                int prevHead = -1;
                for (int idx = first; idx < last; idx++) {
                    int h = idx / nkb, jb = idx % nkb;
                    boolean whole = first <= h * nkb && (h + 1) * nkb <= last;
                    float[] dst = whole ? dqv : parts[t];
                    int dstOff = whole ? dqo : 0;
                    int hoff = h * headDim;
                    if (h != prevHead) {
                        // the head's operands as panels of head 0, and its queries' ranges, lse and D_i = dO_i · O_i
                        CpuAttentionBackwardTiles.pack(packs, qv, qo + hoff, gv, go + hoff, kv, ko + hoff, width, headDim,
                                tq, tk, 0);
                        CpuAttentionBackwardTiles.fillQueries(queries, padded, lo, klo, hi, kho, lv, lso + h * tq, gv,
                                go + hoff, ov, oo + hoff, width, headDim, tq);
                        if (!whole) {
                            for (int r = 0; r < tq; r++) {
                                Arrays.fill(dst, r * width + hoff, r * width + hoff + headDim, 0f);
                            }
                        }
                    }
                    prevHead = h;
                    CpuAttentionBackwardTiles.keyBlock(packs, kv, ko + hoff, vv, vo + hoff, dkv, dko + hoff, dvv,
                            dvo + hoff, dst, dstOff + hoff, queries, padded, width, 0, headDim, tq, tk, jb * lanes, qa[jb],
                            qb[jb], scale, sc);
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
}
