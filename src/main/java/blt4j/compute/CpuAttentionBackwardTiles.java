package blt4j.compute;

import static blt4j.compute.CpuVectorMath.*;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The attention backward of one head over one block of {@link #KB} keys, through the matmul's register tile. Keys are
 * the tile's rows and queries its columns, in strips of {@link #QS}: Sᵀ = K·Qᵀ and dPᵀ = V·dOᵀ (depth = head dim),
 * then Pᵀ = exp(Sᵀ·scale − lse) inside each query's range and dSᵀ = Pᵀ ⊙ (dPᵀ − D)·scale, kept for the block's
 * queries; then dV += Pᵀ·dO and dK += dSᵀ·Q (depth = the queries) and dQ += dS·K (depth = the block's keys). The
 * block's dK and dV rows are written by this call only; dQ rows go to the destination the caller owns.
 */
final class CpuAttentionBackwardTiles {
    private CpuAttentionBackwardTiles() {}

    /** Keys per block: four register tiles of rows. */
    static final int KB = 4 * CpuGemm.MR;
    /** Queries per strip: the register tile's columns. */
    static final int QS = CpuGemm.NR;
    private static final int MR = CpuGemm.MR;
    /** Vectors of MR floats (8 or 4: 256 or 128 bits, which every vector unit the tiles are chosen for has). */
    private static final VectorSpecies<Float> GROUP = VectorSpecies.of(float.class, VectorShape.forBitSize(32 * MR));

    /** The packed operands of one call, per head: see {@link #pack}. */
    record Packs(float[] qByStrip, float[] gByStrip, float[] qByCol, float[] gByCol, float[] kByCol, int nqs) {}

    /**
     * Head h's operands: Q and dO as B panels over head dim (strips of QS queries), Q and dO as B panels over queries
     * (strips of QS head-dim columns), K as a B panel over keys (strips of QS head-dim columns).
     */
    static void pack(Packs p, float[] q, int qo, float[] g, int go, float[] k, int ko, int width, int headDim, int tq,
                     int tk, int h) {
        for (int st = 0; st < p.nqs(); st++) {
            CpuAttention.packBlock(q, qo, width, headDim, tq, h, st, p.nqs(), QS, p.qByStrip());
            CpuAttention.packBlock(g, go, width, headDim, tq, h, st, p.nqs(), QS, p.gByStrip());
        }
        CpuAttentionTiles.packValues(q, qo, width, headDim, tq, h, 0, tq, p.qByCol());
        CpuAttentionTiles.packValues(g, go, width, headDim, tq, h, 0, tq, p.gByCol());
        CpuAttentionTiles.packValues(k, ko, width, headDim, tk, h, 0, tk, p.kByCol());
    }

    /**
     * Per query of one head, the four rows the softmax gradient reads, each {@code padded} floats (the query strips'
     * length, zero past tq): the key range's lo and hi, the lse, and D_i = dO_i·O_i (0 for an empty range). Filled once
     * per head, not per key block: a query whose range misses a block has no live key in it, so the block reads its
     * row as it is.
     */
    static void fillQueries(float[] rows, int padded, int[] lo, int klo, int[] hi, int kho, float[] lse, int lseHead,
                            float[] g, int go, float[] o, int oo, int width, int headDim, int tq) {
        for (int i = 0; i < tq; i++) {
            int a = lo[klo + i], b = hi[kho + i];
            int row = i * width;
            rows[i] = a;
            rows[padded + i] = b;
            rows[2 * padded + i] = lse[lseHead + i];
            rows[3 * padded + i] = b > a ? dot(g, go + row, o, oo + row, headDim) : 0f;
        }
        for (int r = 0; r < 4; r++) {
            Arrays.fill(rows, r * padded + tq, (r + 1) * padded, 0f);
        }
    }

    /**
     * Keys [j0, j0 + KB) of head h against queries [qa, qb) (those whose range may meet the block). queries: the head's
     * {@link #fillQueries} rows; k, v rows at ko/vo + j·width; dqDst rows at dqo + i·width.
     */
    static void keyBlock(Packs p, float[] k, int ko, float[] v, int vo, float[] dk, int dko, float[] dv, int dvo,
                         float[] dqDst, int dqo, float[] queries, int padded, int width, int h, int headDim, int tq, int tk,
                         int j0, int qa, int qb, float scale, CpuScratch sc) {
        if (qb <= qa) {
            return;
        }
        int hoff = h * headDim;
        int keys = Math.min(KB, tk - j0);
        // K and V rows of the block as tile rows: in place, or zero-padded copies for a short last block
        float[] ka = k, va = v;
        int kao = ko + j0 * width + hoff, vao = vo + j0 * width + hoff, lda = width;
        if (keys < KB) {
            float[] pad = sc.bwdPad(2 * KB * headDim);
            Arrays.fill(pad, 0, 2 * KB * headDim, 0f);
            for (int j = 0; j < keys; j++) {
                System.arraycopy(k, kao + j * width, pad, j * headDim, headDim);
                System.arraycopy(v, vao + j * width, pad, (KB + j) * headDim, headDim);
            }
            ka = pad;
            va = pad;
            kao = 0;
            vao = KB * headDim;
            lda = headDim;
        }
        int s0 = qa / QS, s1 = (qb + QS - 1) / QS;
        int qbase = s0 * QS;
        int ld = (s1 - s0) * QS;
        float[] pt = sc.bwdP(KB * ld);
        float[] dst = sc.bwdDs(KB * ld + MR);   // + MR: the dQ copy below reads whole groups of MR
        float[] t = sc.bwdTile(2 * MR * QS);
        for (int st = s0; st < s1; st++) {
            int col = (st - s0) * QS;
            int qpanel = (h * p.nqs() + st) * headDim * QS;
            for (int r0 = 0; r0 < KB; r0 += MR) {
                CpuGemm.tileRows(ka, kao + r0 * lda, lda, p.qByStrip(), qpanel, headDim, t, 0, QS, true);
                CpuGemm.tileRows(va, vao + r0 * lda, lda, p.gByStrip(), qpanel, headDim, t, MR * QS, QS, true);
                for (int r = 0; r < MR; r++) {
                    float key = j0 + r0 + r;
                    for (int c = 0; c < QS; c += L) {
                        int mi = qbase + col + c;
                        FloatVector a = FloatVector.fromArray(S, queries, mi);
                        FloatVector b = FloatVector.fromArray(S, queries, padded + mi);
                        VectorMask<Float> live = a.compare(VectorOperators.LE, key).and(b.compare(VectorOperators.GT, key));
                        FloatVector s = FloatVector.fromArray(S, t, r * QS + c).mul(scale)
                                .sub(FloatVector.fromArray(S, queries, 2 * padded + mi));
                        FloatVector pr = FloatVector.zero(S).blend(expSoftmax(s), live);
                        FloatVector dp = FloatVector.fromArray(S, t, (MR + r) * QS + c)
                                .sub(FloatVector.fromArray(S, queries, 3 * padded + mi));
                        int at = (r0 + r) * ld + col + c;
                        pr.intoArray(pt, at);
                        pr.mul(dp).mul(scale).intoArray(dst, at);
                    }
                }
            }
        }
        // dV += Pᵀ·dO and dK += dSᵀ·Q over the queries [qbase, qbase + ld) (zeros past qb)
        int vs = CpuAttentionTiles.valueStrips(headDim);
        int n = Math.min(ld, tq - qbase);
        for (int r0 = 0; r0 < keys; r0 += MR) {
            int rows = Math.min(MR, keys - r0);
            for (int c = 0; c < vs; c++) {
                int cols = Math.min(QS, headDim - c * QS);
                int gpanel = ((h * vs + c) * tq + qbase) * QS;
                int out = (j0 + r0) * width + hoff + c * QS;
                addTile(pt, r0 * ld, ld, p.gByCol(), gpanel, n, dv, dvo + out, width, rows, cols, t);
                addTile(dst, r0 * ld, ld, p.qByCol(), gpanel, n, dk, dko + out, width, rows, cols, t);
            }
        }
        addQueryGradients(p, dst, ld, qbase, keys, dqDst, dqo + hoff, width, h, headDim, tk, j0, qa, qb, t, sc);
    }

    /**
     * dQ += dS·K for queries [qa, qb) against the block's keys from j0: query rows in groups of MR, depth = the keys
     * (dS, kept as [key][query from qbase] with row stride ld, copied per group as [key][MR]). A method of its own, so
     * the JIT inlines its vector copies (keyBlock is past its inlining budget by here).
     */
    private static void addQueryGradients(Packs p, float[] ds, int ld, int qbase, int keys, float[] dqDst, int dqo,
                                          int width, int h, int headDim, int tk, int j0, int qa, int qb, float[] t,
                                          CpuScratch sc) {
        int vs = CpuAttentionTiles.valueStrips(headDim);
        float[] ap = sc.bwdPack(KB * MR);
        for (int i0 = qa; i0 < qb; i0 += MR) {
            int rows = Math.min(MR, qb - i0);
            for (int j = 0; j < keys; j++) {
                // whole groups of MR: lanes past qb (a partial last group) are read but never added anywhere; one
                // vector of MR lanes, as System.arraycopy's call cost about as much as the tile products it feeds
                FloatVector.fromArray(GROUP, ds, j * ld + (i0 - qbase)).intoArray(ap, j * MR);
            }
            for (int c = 0; c < vs; c++) {
                int cols = Math.min(QS, headDim - c * QS);
                int kpanel = ((h * vs + c) * tk + j0) * QS;
                int out = dqo + i0 * width + c * QS;
                if (rows == MR && cols == QS) {
                    CpuGemm.tilePacked(ap, 0, p.kByCol(), kpanel, keys, dqDst, out, width, false);
                    continue;
                }
                CpuGemm.tilePacked(ap, 0, p.kByCol(), kpanel, keys, t, 0, QS, true);
                for (int r = 0; r < rows; r++) {
                    for (int jj = 0; jj < cols; jj++) {
                        dqDst[out + r * width + jj] += t[r * QS + jj];
                    }
                }
            }
        }
    }

    /** C[rows × cols] += A·B for one register tile (A rows in place, lda), through the scratch tile t. */
    private static void addTile(float[] a, int ao, int lda, float[] bp, int boff, int kc, float[] c, int co, int ldc, int rows,
                                int cols, float[] t) {
        if (rows == MR && cols == QS) {
            CpuGemm.tileRows(a, ao, lda, bp, boff, kc, c, co, ldc, false);
            return;
        }
        CpuGemm.tileRows(a, ao, lda, bp, boff, kc, t, 0, QS, true);
        for (int r = 0; r < rows; r++) {
            for (int jj = 0; jj < cols; jj++) {
                c[co + r * ldc + jj] += t[r * QS + jj];
            }
        }
    }
}
