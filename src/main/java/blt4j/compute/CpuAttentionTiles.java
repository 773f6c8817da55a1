package blt4j.compute;

import static blt4j.compute.CpuVectorMath.*;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Attention forward on tiles of {@link #QT} queries of one head, through the matmul's register tile: the scores of
 * the tile against a strip-packed K (one tile product per strip of {@link #KT} keys, depth = head dim), a softmax per
 * query over its own key range (zeros elsewhere), then the weighted sum as one more tile product against a
 * strip-packed V (depth = the keys): dots summed over d in order; the softmax in one pass per row (scale and shift
 * in one FMA, {@link CpuVectorMath#expSoftmax}); weighted sums over keys in order, then divided by the row sum. Each
 * load of K and V is shared by QT queries. Scores live in one QT × keys buffer: no matrix beyond the tile.
 */
final class CpuAttentionTiles {
    private CpuAttentionTiles() {}

    /** Queries per tile: the register tile's rows. */
    static final int QT = CpuGemm.MR;
    /**
     * Fewest queries for which the backend takes the tiles: they pack K and V once per call, which a speculative check
     * of 9 queries against a 512-key cache does not repay (the pairs path packs K only).
     */
    static final int MIN_QUERIES = 4 * QT;
    /** Keys per packed strip of K, and head-dim columns per packed strip of V: the register tile's columns. */
    static final int KT = CpuGemm.NR;

    /** Strips of V per head: ceil(headDim / KT). */
    static int valueStrips(int headDim) {
        return (headDim + KT - 1) / KT;
    }

    /**
     * Packs head h's values for keys [j0, j1) as vp[((h·vs + c)·tk + j)·KT + jj] = v[j·width + h·D + c·KT + jj]
     * (zero past the head's last column): the B panel of P·V with the keys as its depth.
     */
    static void packValues(float[] v, int vo, int width, int headDim, int tk, int h, int j0, int j1, float[] vp) {
        int vs = valueStrips(headDim);
        for (int c = 0; c < vs; c++) {
            int cols = Math.min(KT, headDim - c * KT);
            int base = (h * vs + c) * tk * KT;
            for (int j = j0; j < j1; j++) {
                int src = vo + j * width + h * headDim + c * KT;
                int dst = base + j * KT;
                if (cols == KT) {
                    // two vectors (KT = 2L): System.arraycopy's call cost as much as the 128 bytes it moves
                    FloatVector.fromArray(S, v, src).intoArray(vp, dst);
                    FloatVector.fromArray(S, v, src + L).intoArray(vp, dst + L);
                } else {
                    System.arraycopy(v, src, vp, dst, cols);
                    java.util.Arrays.fill(vp, dst + cols, dst + KT, 0f);
                }
            }
        }
    }

    /**
     * One head's K and V panels, packed by the thread that reads them, strip by strip as its tiles first need them
     * ({@link #ensure}): the packed strips are still in that core's cache when the tiles read them. (Packing every
     * head up front was a fifth of a causal forward over 4 × 1,024 bytes on two threads, 8 MB written to memory and
     * read back.) K is laid out by {@link CpuAttention#packBlock} and V by {@link #packValues}, each as head 0.
     */
    static final class HeadPanels {
        float[] k = new float[0];
        float[] v = new float[0];
        /** packedAs[st] == stamp: strip st holds the current head's keys and values. */
        private int[] packedAs = new int[0];
        private int stamp;

        /** Forgets what was packed and sizes the panels for nks strips of tk keys and the given head dim. */
        void start(int nks, int tk, int headDim) {
            int kNeed = nks * headDim * KT;
            int vNeed = valueStrips(headDim) * tk * KT;
            if (k.length < kNeed) {
                k = new float[kNeed];
            }
            if (v.length < vNeed) {
                v = new float[vNeed];
            }
            if (packedAs.length < nks) {
                packedAs = new int[nks];
            }
            if (++stamp == Integer.MAX_VALUE) {
                java.util.Arrays.fill(packedAs, 0);
                stamp = 1;
            }
        }

        /** Packs the strips in [s0, s1) not yet packed; kHead, vHead: the head's first column in k and v. */
        void ensure(int s0, int s1, float[] kv, int kHead, float[] vv, int vHead, int width, int headDim, int tk, int nks) {
            for (int st = s0; st < s1; st++) {
                if (packedAs[st] != stamp) {
                    CpuAttention.packBlock(kv, kHead, width, headDim, tk, 0, st, nks, KT, k);
                    packValues(vv, vHead, width, headDim, tk, 0, st * KT, Math.min(tk, (st + 1) * KT), v);
                    packedAs[st] = stamp;
                }
            }
        }
    }

    /**
     * Whether a tile's key ranges overlap enough for one shared score buffer: their union is at most the mean range
     * plus a strip plus the tile's own spread. Causal and windowed masks (adjacent queries, shifted ranges) qualify;
     * disjoint ranges (patch queries over their own bytes) go to the row kernels.
     */
    static boolean compact(int[] lo, int klo, int[] hi, int kho, int q0) {
        int a = Integer.MAX_VALUE, b = Integer.MIN_VALUE;
        long total = 0;
        for (int r = 0; r < QT; r++) {
            int x = lo[klo + q0 + r], y = hi[kho + q0 + r];
            if (y <= x) {
                return false;
            }
            a = Math.min(a, x);
            b = Math.max(b, y);
            total += y - x;
        }
        return (long) (b - a) * QT <= total + (long) QT * (KT + QT);
    }

    /**
     * Queries q0..q0+QT-1 of head h (all with non-empty ranges; see {@link #compact}), on the head's panels (started
     * for this head; the strips the tile reads are packed here if they are not yet). Writes the tile's output rows
     * and log-sum-exps (lse[lseHead + query]).
     */
    static void tile(float[] q, int qo, float[] kv, int ko, float[] vv, int vo, HeadPanels panels, int nks, int tk,
                     float[] out, int oo, int width, int h, int headDim, int q0, int[] lo, int klo, int[] hi, int kho,
                     float scale, float[] lse, int lseHead, CpuScratch sc) {
        int a = Integer.MAX_VALUE, b = 0;
        for (int r = 0; r < QT; r++) {
            a = Math.min(a, lo[klo + q0 + r]);
            b = Math.max(b, hi[kho + q0 + r]);
        }
        int s0 = a / KT;
        int s1 = (b + KT - 1) / KT;
        int base = s0 * KT;
        int ld = (s1 - s0) * KT;
        int rs = ld + L;   // row stride of the scores: a vector of room past the union for the softmax's last vector
        float[] sbuf = sc.sbuf(QT * rs);
        int hoff = h * headDim;
        panels.ensure(s0, s1, kv, ko + hoff, vv, vo + hoff, width, headDim, tk, nks);
        float[] kp = panels.k, vp = panels.v;
        int qrow = qo + q0 * width + hoff;
        for (int st = s0; st < s1; st++) {
            CpuGemm.tileRows(q, qrow, width, kp, st * headDim * KT, headDim, sbuf, (st - s0) * KT, rs, true);
        }
        // per query: scale, softmax over its own range, zeros elsewhere in the union
        float[] inv = sc.meta;
        for (int r = 0; r < QT; r++) {
            int x = lo[klo + q0 + r] - base, y = hi[kho + q0 + r] - base;
            int row = r * rs;
            float sum = softmaxNumerators(sbuf, row + x, y - x, scale, inv, r, sc.lanes);
            float m = inv[r];
            zero(sbuf, row, x);
            zero(sbuf, row + y, ld - y);
            inv[r] = 1f / sum;
            lse[lseHead + q0 + r] = m + log(sum);
        }
        // out rows = P · V over keys [base, b), then each divided by its row sum
        int vs = valueStrips(headDim);
        int n = b - base;
        int orow = oo + q0 * width + hoff;
        for (int c = 0; c < vs; c++) {
            int vbase = (c * tk + base) * KT;
            int cols = Math.min(KT, headDim - c * KT);
            if (cols == KT) {
                CpuGemm.tileRows(sbuf, 0, rs, vp, vbase, n, out, orow + c * KT, width, true);
                for (int r = 0; r < QT; r++) {
                    scaleRange(out, orow + r * width + c * KT, KT, inv[r]);
                }
            } else {
                float[] t = sc.tile;
                CpuGemm.tileRows(sbuf, 0, rs, vp, vbase, n, t, 0, KT, true);
                for (int r = 0; r < QT; r++) {
                    for (int jj = 0; jj < cols; jj++) {
                        out[orow + r * width + c * KT + jj] = t[r * KT + jj] * inv[r];
                    }
                }
            }
        }
    }

    /**
     * e^(x·scale − m) over x[xo .. xo+n), m = the largest x·scale (scale > 0, so the max of the raw scores, scaled, is
     * exactly that); the last partial vector is computed whole, not by a scalar loop (with a causal mask every row has
     * a partial vector, and scalar e^x cost a fifth of the tile), so x must have L − 1 floats of room past xo + n.
     * Stores m in mOut[mi]; returns the sum (lanes: L floats of scratch).
     */
    static float softmaxNumerators(float[] x, int xo, int n, float scale, float[] mOut, int mi, float[] lanes) {
        float m = maxOf(x, xo, n) * scale;
        FloatVector vs = FloatVector.broadcast(S, -m);
        FloatVector vscale = FloatVector.broadcast(S, scale);
        FloatVector acc = FloatVector.zero(S);
        // whole vectors to the end: the last one runs past n into room the caller leaves (and zeroes after), and only
        // its lanes below n are summed; one call site of expSoftmax, so C2 inlines it (a second one, for a masked
        // tail, stayed out of line and boxed every vector it returned)
        int full = n / L * L;
        for (int i = 0; i < n; i += L) {
            FloatVector e = expSoftmax(FloatVector.fromArray(S, x, xo + i).fma(vscale, vs));
            e.intoArray(x, xo + i);
            if (i >= full) {
                e = FloatVector.zero(S).blend(e, S.indexInRange(i, n));
            }
            acc = acc.add(e);
        }
        mOut[mi] = m;
        // the lanes summed here, in lane order: handing the vector to a helper that C2 leaves out of line (this method
        // is at its inlining budget) boxed it, about 200 MB of garbage per second of attention
        acc.intoArray(lanes, 0);
        float sum = 0f;
        for (int j = 0; j < L; j++) {
            sum += lanes[j];
        }
        return sum;
    }

    private static void scaleRange(float[] x, int xo, int n, float f) {
        int i = 0;
        FloatVector vf = FloatVector.broadcast(S, f);
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(S, x, xo + i).mul(vf).intoArray(x, xo + i);
        }
        for (; i < n; i++) {
            x[xo + i] *= f;
        }
    }
}
