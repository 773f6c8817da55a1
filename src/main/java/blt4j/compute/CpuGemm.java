package blt4j.compute;

import static blt4j.compute.CpuVectorMath.*;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix kernels of {@link CpuBackend}: matrix-vector products (dot or axpy form) and the register-blocked GEMM: MR ×
 * NR micro-tiles over KC × NC panels of B, packed, and MC × KC blocks of A (row-major or stored transposed), packed
 * into MR-row strips, except a transposed A on the 8-row tiles, read where it lies (see {@link #PACK_A_ROWS} and
 * {@link #PACK_A_COLS}). The backend splits a product over threads by blocks of C (or of the depth), each thread
 * packing the B it reads.
 */
final class CpuGemm {
    private CpuGemm() {}

    // ------------------------------------------------------------------ matrix-vector

    /** out[j] (+)= dot(W[j·k ..], x) for j in [j0, j1). */
    static void gemvDot(float[] w, int wo, float[] x, int xo, float[] out, int oo, int k, int j0, int j1, boolean acc) {
        for (int j = j0; j < j1; j++) {
            float s = dot4(w, wo + j * k, x, xo, k);
            out[oo + j] = acc ? out[oo + j] + s : s;
        }
    }

    /**
     * Rows [0, m) of X·Wᵀ: out[r·n + j] (+)= dot(W[j·k ..], X[r·k ..]) for j in [j0, j1). Every element is computed the
     * same way whatever m is (one vector accumulator over k, then a lane sum, then the scalar tail), so a row's
     * result does not depend on how many rows come with it: batched generation gives exactly the one-at-a-time bytes.
     */
    static void gemvDotRows(float[] w, int wo, float[] x, int xo, float[] out, int oo, int m, int n, int k, int j0, int j1,
                            boolean acc) {
        // W's rows j..j+3 are read once from memory for all m rows (they find them in L1), and four independent
        // accumulators per row hide the FMA latency
        int j = j0;
        for (; j + 4 <= j1; j += 4) {
            int wj = wo + j * k;
            for (int r = 0; r < m; r++) {
                dot1x4(w, wj, x, xo + r * k, out, oo + r * n + j, k, acc);
            }
        }
        for (; j < j1; j++) {
            int wj = wo + j * k;
            for (int r = 0; r < m; r++) {
                float s = dot1(w, wj, x, xo + r * k, k);
                int o = oo + r * n + j;
                out[o] = acc ? out[o] + s : s;
            }
        }
    }

    /** The per-element recipe of {@link #gemvDotRows}: one accumulator, {@link CpuVectorMath#sumLanes}, scalar tail. */
    private static float dot1(float[] a, int ao, float[] b, int bo, int k) {
        FloatVector s = FloatVector.zero(S);
        int i = 0;
        for (; i + L <= k; i += L) {
            s = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), s);
        }
        return tail(sumLanes(s), a, ao, b, bo, i, k);
    }

    /** Row x against rows w0..w0+3 of W (k apart): four elements, each computed exactly as {@link #dot1}. */
    private static void dot1x4(float[] w, int w0, float[] x, int xo, float[] out, int o, int k, boolean acc) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        int i = 0;
        for (; i + L <= k; i += L) {
            FloatVector xv = FloatVector.fromArray(S, x, xo + i);
            c0 = FloatVector.fromArray(S, w, w0 + i).fma(xv, c0);
            c1 = FloatVector.fromArray(S, w, w0 + k + i).fma(xv, c1);
            c2 = FloatVector.fromArray(S, w, w0 + 2 * k + i).fma(xv, c2);
            c3 = FloatVector.fromArray(S, w, w0 + 3 * k + i).fma(xv, c3);
        }
        float s0 = tail(sumLanes(c0), w, w0, x, xo, i, k);
        float s1 = tail(sumLanes(c1), w, w0 + k, x, xo, i, k);
        float s2 = tail(sumLanes(c2), w, w0 + 2 * k, x, xo, i, k);
        float s3 = tail(sumLanes(c3), w, w0 + 3 * k, x, xo, i, k);
        out[o] = acc ? out[o] + s0 : s0;
        out[o + 1] = acc ? out[o + 1] + s1 : s1;
        out[o + 2] = acc ? out[o + 2] + s2 : s2;
        out[o + 3] = acc ? out[o + 3] + s3 : s3;
    }

    // ------------------------------------------------------------------ bfloat16 weights, widened in registers

    /**
     * {@link #gemvDotRows} with W in bfloat16 bits: each weight vector is widened in registers (a 16-bit shift, exact)
     * and the sums follow the same recipe, so the result equals gemvDotRows on the widened weights bit for bit. Used
     * for few rows, where widening again per row costs less than a pass through a scratch copy.
     */
    static void gemvDotRowsBf16(short[] w, int wo, float[] x, int xo, float[] out, int oo, int m, int n, int k, int j0,
                                int j1, boolean acc) {
        int j = j0;
        for (; j + 4 <= j1; j += 4) {
            int wj = wo + j * k;
            for (int r = 0; r < m; r++) {
                dot1x4Bf16(w, wj, x, xo + r * k, out, oo + r * n + j, k, acc);
            }
        }
        for (; j < j1; j++) {
            int wj = wo + j * k;
            for (int r = 0; r < m; r++) {
                FloatVector s = FloatVector.zero(S);
                int i = 0;
                for (; i + L <= k; i += L) {
                    s = wide(w, wj + i).fma(FloatVector.fromArray(S, x, xo + r * k + i), s);
                }
                float v = tailBf16(sumLanes(s), w, wj, x, xo + r * k, i, k);
                int o = oo + r * n + j;
                out[o] = acc ? out[o] + v : v;
            }
        }
    }

    private static void dot1x4Bf16(short[] w, int w0, float[] x, int xo, float[] out, int o, int k, boolean acc) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        int i = 0;
        for (; i + L <= k; i += L) {
            FloatVector xv = FloatVector.fromArray(S, x, xo + i);
            c0 = wide(w, w0 + i).fma(xv, c0);
            c1 = wide(w, w0 + k + i).fma(xv, c1);
            c2 = wide(w, w0 + 2 * k + i).fma(xv, c2);
            c3 = wide(w, w0 + 3 * k + i).fma(xv, c3);
        }
        float s0 = tailBf16(sumLanes(c0), w, w0, x, xo, i, k);
        float s1 = tailBf16(sumLanes(c1), w, w0 + k, x, xo, i, k);
        float s2 = tailBf16(sumLanes(c2), w, w0 + 2 * k, x, xo, i, k);
        float s3 = tailBf16(sumLanes(c3), w, w0 + 3 * k, x, xo, i, k);
        out[o] = acc ? out[o] + s0 : s0;
        out[o + 1] = acc ? out[o + 1] + s1 : s1;
        out[o + 2] = acc ? out[o + 2] + s2 : s2;
        out[o + 3] = acc ? out[o + 3] + s3 : s3;
    }

    /** L bfloat16 values as fp32 lanes. */
    private static FloatVector wide(short[] w, int off) {
        return ((IntVector) ShortVector.fromArray(SS, w, off).convertShape(VectorOperators.S2I, IS, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static float tailBf16(float s, short[] w, int wo, float[] x, int xo, int from, int k) {
        for (int i = from; i < k; i++) {
            s += Float.intBitsToFloat(w[wo + i] << 16) * x[xo + i];
        }
        return s;
    }

    private static float tail(float s, float[] a, int ao, float[] b, int bo, int from, int k) {
        for (int i = from; i < k; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    private static float dot4(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        FloatVector s0 = FloatVector.zero(S);
        FloatVector s1 = FloatVector.zero(S);
        FloatVector s2 = FloatVector.zero(S);
        FloatVector s3 = FloatVector.zero(S);
        for (; i + 4 * L <= n; i += 4 * L) {
            s0 = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), s0);
            s1 = FloatVector.fromArray(S, a, ao + i + L).fma(FloatVector.fromArray(S, b, bo + i + L), s1);
            s2 = FloatVector.fromArray(S, a, ao + i + 2 * L).fma(FloatVector.fromArray(S, b, bo + i + 2 * L), s2);
            s3 = FloatVector.fromArray(S, a, ao + i + 3 * L).fma(FloatVector.fromArray(S, b, bo + i + 3 * L), s3);
        }
        for (; i + L <= n; i += L) {
            s0 = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), s0);
        }
        float s = sumLanes(s0.add(s1).add(s2.add(s3)));
        for (; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    /** out[j] (+)= Σ_p x[p]·W[p·ld + j] for j in [j0, j1): streams rows of W, out slice stays in L1. */
    static void gemvAxpy(float[] w, int wo, int ld, float[] x, int xo, float[] out, int oo, int k, int j0, int j1, boolean acc) {
        if (!acc) {
            zero(out, oo + j0, j1 - j0);
        }
        for (int p = 0; p < k; p++) {
            axpy(x[xo + p], w, wo + p * ld + j0, out, oo + j0, j1 - j0);
        }
    }

    // ------------------------------------------------------------------ X·Wᵀ on weights packed once

    /**
     * Columns [j0, j1) of X·Wᵀ for rows [0, m) of X, W already packed ({@link CpuPackedWeights}). Every element is
     * computed exactly as {@link #gemmBlock} computes it (per KC block a sequential FMA sum from zero, then stored or
     * added), whatever m is: one row streams the packed panels (axpy form, no lane sums), more rows run the micro-kernel.
     * j0 and j1 are multiples of NR, or j1 = n. Row blocks are the outer loop and depth blocks the inner one (the panels
     * of every depth block are packed already), so a block of C stays in cache across the depth instead of being read
     * and written again per KC block: 4096 × 256 × 768 went from about 300 to 330 GFLOP/s on two threads.
     */
    static void gemmPrepacked(float[] a, int ao, CpuPackedWeights.Packed w, float[] c, int co, boolean acc, int m, int j0,
                              int j1) {
        int n = w.n();
        int k = w.k();
        CpuScratch sc = CpuScratch.get();
        for (int jc = (j0 / NC) * NC; jc < j1; jc += NC) {
            int nc = Math.min(NC, n - jc);
            int s0 = Math.max(0, j0 - jc) / NR;
            int s1 = (Math.min(nc, j1 - jc) + NR - 1) / NR;
            if (m == 1) {
                for (int pc = 0; pc < k; pc += KC) {
                    rowPanel(a, ao + pc, w.data(), w.panelOffset(jc, pc), Math.min(KC, k - pc), c, co + jc, nc, s0, s1,
                            !acc && pc == 0, sc.tile);
                }
                continue;
            }
            rowBlocksOverDepth(a, ao, k, w.data(), w.panelOffset(jc, 0), roundUp(nc, NR), c, co + jc, n, acc, 0, m, nc,
                    0, k, sc, s0, s1);
        }
    }

    /**
     * out = silu(A·W1ᵀ) ⊙ (A·W3ᵀ) for columns [j0, j1) (whole strips, as {@link #gemmPrepacked}), m ≥ 2: per register
     * tile, the gate and up sums run over the depth blocks into two scratch tiles exactly as gemmPrepacked sums them
     * into C (the block's sum plus the sum so far), then the product is formed there and stored; gate and up are stored
     * too when keep. The bits are those of the two products and the SwiGLU op, without writing gate and up to memory
     * and reading them back. A block of rows is packed as the products pack it ({@link #packsRows}, each strip counted
     * twice). Row tiles are the outer loop and column strips the inner one,
     * so the stores of out, gate and up run along MR rows at a time: with the strips outer, a block's 144 rows of three
     * outputs were 432 store streams at once, and writing them to memory not in cache (a training step's per-layer
     * outputs) took 9.4 ms of 4096 × 512 × 128 against 5.5 this way. The weights' panels (both fit in L2) are read from
     * L2 per tile.
     */
    static void swigluPrepacked(float[] a, int ao, CpuPackedWeights.Packed w1, CpuPackedWeights.Packed w3, float[] gate,
                                int go, float[] up, int uo, boolean keep, float[] out, int oo, int m, int j0, int j1) {
        int n = w1.n();
        int k = w1.k();
        CpuScratch sc = CpuScratch.get();
        float[] tg = sc.gateTile, tu = sc.upTile;
        for (int jc = (j0 / NC) * NC; jc < j1; jc += NC) {
            int nc = Math.min(NC, n - jc);
            int s0 = Math.max(0, j0 - jc) / NR;
            int s1 = (Math.min(nc, j1 - jc) + NR - 1) / NR;
            boolean packed = packsRows(2 * (s1 - s0));   // both weights read the packed rows
            for (int ic = 0; ic < m; ic += MC) {
                int mc = Math.min(MC, m - ic);
                int full = packed ? 0 : mc / MR * MR;   // rows read in place; the rest packed in strips of MR
                packStrips(false, a, ao + (ic + full) * k, k, k, mc - full, sc);
                for (int ir = 0; ir < mc; ir += MR) {
                    int aoff = (ir - full) / MR * k * MR;   // the tile's strip in ap (when ir ≥ full)
                    for (int st = s0; st < s1; st++) {
                        for (int pc = 0; pc < k; pc += KC) {
                            int kc = Math.min(KC, k - pc);
                            int b1 = w1.panelOffset(jc, pc) + st * kc * NR;
                            int b3 = w3.panelOffset(jc, pc) + st * kc * NR;
                            if (ir < full) {
                                int arow = ao + (ic + ir) * k + pc;
                                tileRows(a, arow, k, w1.data(), b1, kc, tg, 0, NR, pc == 0);
                                tileRows(a, arow, k, w3.data(), b3, kc, tu, 0, NR, pc == 0);
                            } else {
                                tilePacked(sc.ap, aoff + pc * MR, w1.data(), b1, kc, tg, 0, NR, pc == 0);
                                tilePacked(sc.ap, aoff + pc * MR, w3.data(), b3, kc, tu, 0, NR, pc == 0);
                            }
                        }
                        int at = (ic + ir) * n + jc + st * NR;
                        CpuRowKernels.swigluTile(tg, tu, NR, out, oo + at, keep, gate, go + at, up, uo + at, n,
                                Math.min(MR, mc - ir), Math.min(NR, nc - st * NR));
                    }
                }
            }
        }
    }

    /** One row x against strips [s0, s1) of a packed panel: the micro-kernel's arithmetic for its row 0. */
    private static void rowPanel(float[] x, int xo, float[] bp, int base, int kc, float[] c, int cbase, int nc, int s0, int s1,
                                 boolean overwrite, float[] lanes) {
        int st = s0;
        for (; st + 2 <= s1 && (st + 2) * NR <= nc; st += 2) {
            int b0 = base + st * kc * NR;
            int b1 = b0 + kc * NR;
            FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
            for (int p = 0; p < kc; p++) {
                FloatVector xv = FloatVector.broadcast(S, x[xo + p]);
                c0 = xv.fma(FloatVector.fromArray(S, bp, b0 + p * NR), c0);
                c1 = xv.fma(FloatVector.fromArray(S, bp, b0 + p * NR + L), c1);
                c2 = xv.fma(FloatVector.fromArray(S, bp, b1 + p * NR), c2);
                c3 = xv.fma(FloatVector.fromArray(S, bp, b1 + p * NR + L), c3);
            }
            int o = cbase + st * NR;
            if (!overwrite) {
                c0 = c0.add(FloatVector.fromArray(S, c, o));
                c1 = c1.add(FloatVector.fromArray(S, c, o + L));
                c2 = c2.add(FloatVector.fromArray(S, c, o + NR));
                c3 = c3.add(FloatVector.fromArray(S, c, o + NR + L));
            }
            c0.intoArray(c, o);
            c1.intoArray(c, o + L);
            c2.intoArray(c, o + NR);
            c3.intoArray(c, o + NR + L);
        }
        // an odd or partial last strip goes through lanes (the scratch tile: MR·NR ≥ NR floats)
        for (; st < s1; st++) {
            int b0 = base + st * kc * NR;
            FloatVector c0 = FloatVector.zero(S), c1 = c0;
            for (int p = 0; p < kc; p++) {
                FloatVector xv = FloatVector.broadcast(S, x[xo + p]);
                c0 = xv.fma(FloatVector.fromArray(S, bp, b0 + p * NR), c0);
                c1 = xv.fma(FloatVector.fromArray(S, bp, b0 + p * NR + L), c1);
            }
            c0.intoArray(lanes, 0);
            c1.intoArray(lanes, L);
            int o = cbase + st * NR;
            int cols = Math.min(NR, nc - st * NR);
            for (int jj = 0; jj < cols; jj++) {
                c[o + jj] = overwrite ? lanes[jj] : c[o + jj] + lanes[jj];
            }
        }
    }

    // ------------------------------------------------------------------ matrix-matrix (packed, register-blocked)

    /**
     * Rows of the register tile: 8 where vectors are 16 lanes (AVX-512 has 32 vector registers: 16 accumulators, 2 B
     * vectors and a broadcast fit), 4 otherwise (AVX2 and NEON-sized vectors: 16 registers). Read from the species.
     */
    static final int MR = L >= 16 ? 8 : 4;
    static final int NR = 2 * L;
    /**
     * Whether the products copy each block of a row-major A into MR-row strips before its tiles run (as OpenBLAS
     * does) instead of reading A where it lies: on, subject to {@link #PACK_MIN_STRIPS}. On a Zen 3 core (AVX2,
     * 512 KiB 8-way L2) rows of A a power-of-two stride apart collide in the caches; measured side by side in one
     * process, the 4-row tile ran at 40–52 GFLOP/s on A in place (rows 4 KiB apart) and 51–87 on a packed strip. On a
     * Sapphire-Rapids-class Xeon (AVX-512, 2 MiB L2) the 8-row tile ran 10–25% faster from a packed strip, hot in
     * cache, and 1024³ went from 142 to 175 GFLOP/s on one thread, 260 to 329 on two (medians of three runs,
     * alternated). A Zen 5 core had measured the 8-row tile faster in place; {@code -Dblt4j.packARows=false} restores
     * that.
     */
    static final boolean PACK_A_ROWS = Boolean.parseBoolean(System.getProperty("blt4j.packARows", "true"));
    /**
     * On the 8-row tiles a row-major A is packed only for at least this many column strips of B (NR wide each) to
     * share the copy: the scalar copy costs about a cycle per float, a quarter of the FMAs it feeds at 4 strips. On the
     * Xeon, a 128-wide product (4 strips) on two threads ran 11–21% faster on A in place (4096,128,128: 257 packed,
     * 311 in place), while 256 and wider gained from packing. The 4-row tiles always pack (the collisions above).
     */
    static final int PACK_MIN_STRIPS = Integer.getInteger("blt4j.packMinStrips", L < 16 ? 0 : 5);
    /** Whether a block of a row-major A that this many column strips of B read is packed first. */
    private static boolean packsRows(int strips) {
        return PACK_A_ROWS && strips >= PACK_MIN_STRIPS;
    }

    /**
     * The same for an A stored transposed (the weight gradients dYᵀ·X): packed on 4-row tiles (Zen 3: 25–33 GFLOP/s
     * in place, 38–68 packed), read in place on 8-row ones, where its 8 broadcast floats per step are adjacent and
     * packing measured equal or slower on both AVX-512 machines (128,128,4096: 70 in place, 62 packed).
     */
    static final boolean PACK_A_COLS = Boolean.parseBoolean(System.getProperty("blt4j.packACols", String.valueOf(L < 16)));
    static final int KC = Integer.getInteger("blt4j.kc", 256);
    static final int MC = Integer.getInteger("blt4j.mc", 144);
    static final int NC = 2048;


    /**
     * The block rows [i0, i1) × cols [j0, j1) of C (+)= op(A)·op(B), one thread. op(A)[i,p] is a[ao + p·m + i] when
     * transposed, a[ao + i·k + p] otherwise; op(B)[p,j] is b[bo + j·k + p] when transposed, b[bo + p·n + j] otherwise.
     */
    static void gemmBlock(float[] a, int ao, boolean ta, float[] b, int bo, boolean tb, float[] c, int co, boolean acc,
                          int m, int n, int k, int i0, int i1, int j0, int j1) {
        if (!grouped(ta, k)) {
            gemmBlock(a, ao, ta, b, bo, tb, c, co, n, acc, m, n, k, i0, i1, j0, j1, 0, k);
            return;
        }
        // depth group 0 onto C, then each later group summed from zero apart and added (see grouped)
        int span = GROUP_BLOCKS * KC;
        gemmBlock(a, ao, ta, b, bo, tb, c, co, n, acc, m, n, k, i0, i1, j0, j1, 0, span);
        int rows = i1 - i0, cols = j1 - j0;
        if (rows <= 0 || cols <= 0) {
            return;
        }
        float[] g = CpuScratch.get().group(rows * cols);
        for (int p = span; p < k; p += span) {
            gemmBlock(a, ao, ta, b, bo, tb, g, -(i0 * cols + j0), cols, false, m, n, k, i0, i1, j0, j1, p,
                    Math.min(k, p + span));
            for (int r = 0; r < rows; r++) {
                int at = co + (i0 + r) * n + j0;
                CpuRowKernels.add(g, r * cols, c, at, c, at, 0, cols);
            }
        }
    }

    /** KC blocks per depth group of a {@link #grouped} product. */
    static final int GROUP_BLOCKS = 8;

    /**
     * Whether a product sums its depth in groups of {@link #GROUP_BLOCKS} KC blocks: those with A stored transposed
     * (weight gradients dYᵀ·X, whose depth is the batch's tokens) deeper than one group. Group 0 goes onto C block by
     * block; every later group is summed from zero on its own, then added to C in group order. Two threads then take
     * one group each with one C-sized buffer between them (a buffer per KC block was a sixth of a 4,096-deep product),
     * and every thread count gives the same bits.
     */
    static boolean grouped(boolean ta, int k) {
        return ta && k > GROUP_BLOCKS * KC;
    }

    /**
     * As above over the depth range [p0, p1) only (p0 a multiple of KC), in plain KC blocks: C (+)= op(A)[:, p0..p1) ·
     * op(B)[p0..p1, :], each KC block summed from zero and then stored or added, so depth ranges done apart and added
     * in order give the bits of the whole ungrouped product. C's element (i, j) is c[cb + i·ldc + j].
     */
    static void gemmBlock(float[] a, int ao, boolean ta, float[] b, int bo, boolean tb, float[] c, int cb, int ldc,
                          boolean acc, int m, int n, int k, int i0, int i1, int j0, int j1, int p0, int p1) {
        if (i1 <= i0 || j1 <= j0) {
            return;
        }
        if (p1 <= p0) {
            if (!acc) {
                for (int i = i0; i < i1; i++) {
                    zero(c, cb + i * ldc + j0, j1 - j0);
                }
            }
            return;
        }
        CpuScratch sc = CpuScratch.get();
        int ncMax = Math.min(NC, j1 - j0);
        int kcMax = Math.min(KC, p1 - p0);
        if (!ta && p1 - p0 > KC && (long) (p1 - p0) * roundUp(ncMax, NR) <= WHOLE_DEPTH_PANEL) {
            wholeDepth(a, ao, b, bo, tb, c, cb, ldc, acc, n, k, i0, i1, j0, j1, p0, p1, sc);
            return;
        }
        int bNeed = kcMax * roundUp(ncMax, NR);
        if (sc.bp.length < bNeed) {
            sc.bp = new float[bNeed];
        }
        float[] bp = sc.bp;
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = p0; pc < p1; pc += KC) {
                int kc = Math.min(KC, p1 - pc);
                packB(b, bo, tb, n, k, pc, kc, jc, nc, bp, 0);
                boolean overwrite = !acc && pc == p0;
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    if (ta) {
                        macroCols(a, ao + pc * m + ic, m, bp, 0, c, cb + ic * ldc + jc, ldc, mc, nc, kc, overwrite, sc);
                    } else {
                        macroRows(a, ao + ic * k + pc, k, bp, 0, c, cb + ic * ldc + jc, ldc, mc, nc, kc, overwrite, sc, 0,
                                (nc + NR - 1) / NR);
                    }
                }
            }
        }
    }

    /**
     * Most floats of B packed at once for {@link #wholeDepth}: about one core's L2 (1 MiB on the Zen 5 VM), so that the
     * panels of a local model's whole weight (768 × 256 floats, 0.75 MiB) qualify. Measured faster at that size
     * although B, a block of C and a block of A then slightly overfill that L2.
     */
    static final int WHOLE_DEPTH_PANEL = 1 << 18;

    /**
     * gemmBlock for a row-major A deeper than one KC block whose B, packed for the whole depth, is small: B packed once,
     * then row blocks outer and depth blocks inner, so a block of C stays in cache across the depth instead of being
     * read and written again per KC block. The same arithmetic per element as the KC loop (each block summed from zero,
     * stored or added in depth order), so the same bits.
     */
    private static void wholeDepth(float[] a, int ao, float[] b, int bo, boolean tb, float[] c, int cb, int ldc,
                                   boolean acc, int n, int k, int i0, int i1, int j0, int j1, int p0, int p1,
                                   CpuScratch sc) {
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            int panel = roundUp(nc, NR);
            int need = (p1 - p0) * panel;
            if (sc.bp.length < need) {
                sc.bp = new float[need];
            }
            float[] bp = sc.bp;
            for (int pc = p0; pc < p1; pc += KC) {
                packB(b, bo, tb, n, k, pc, Math.min(KC, p1 - pc), jc, nc, bp, (pc - p0) * panel);
            }
            rowBlocksOverDepth(a, ao, k, bp, 0, panel, c, cb + jc, ldc, acc, i0, i1, nc, p0, p1, sc, 0, (nc + NR - 1) / NR);
        }
    }

    /**
     * Rows [i0, i1) of a row-major A (row stride lda) against B packed for the whole depth [p0, p1), the panel of depth
     * block pc at bp[bpBase + (pc − p0)·panel]: row blocks outer, depth blocks inner (see {@link #wholeDepth}), strips
     * [s0, s1) of the nc columns; C's element (i, j) at c[cb + i·ldc + j].
     */
    private static void rowBlocksOverDepth(float[] a, int ao, int lda, float[] bp, int bpBase, int panel, float[] c, int cb,
                                           int ldc, boolean acc, int i0, int i1, int nc, int p0, int p1, CpuScratch sc,
                                           int s0, int s1) {
        if (COL_BLOCK_FLOATS > 0 && packsRows(s1 - s0) && (long) (p1 - p0) * panel <= WHOLE_DEPTH_PANEL
                && COL_BLOCK_FLOATS / (p1 - p0) >= WHOLE_DEPTH_MIN_ROWS) {
            tilesOverDepth(a, ao, lda, bp, bpBase, panel, c, cb, ldc, acc, i0, i1, nc, p0, p1, sc, s0, s1);
            return;
        }
        for (int ic = i0; ic < i1; ic += MC) {
            int mc = Math.min(MC, i1 - ic);
            for (int pc = p0; pc < p1; pc += KC) {
                macroRows(a, ao + ic * lda + pc, lda, bp, bpBase + (pc - p0) * panel, c, cb + ic * ldc, ldc, mc, nc,
                        Math.min(KC, p1 - pc), !acc && pc == p0, sc, s0, s1);
            }
        }
    }

    /**
     * Fewest rows a block of {@link #tilesOverDepth} may have (its A block for the whole depth fits the budget only
     * with fewer rows as the depth grows): each whole-depth strip of B is read once per block of rows, so a deep
     * product keeps the depth-blocks-outer loop, whose KC-deep panels serve a block of {@link #MC} rows (a large
     * model's packed weight, megabytes deep, would otherwise stream from memory every few rows). With the default
     * budget, at most 1,024 deep.
     */
    static final int WHOLE_DEPTH_MIN_ROWS = 32;

    /**
     * {@link #rowBlocksOverDepth} on the blocked order ({@link #COL_BLOCK_FLOATS}): each block of rows is packed for
     * the whole depth, and every tile runs through all depth blocks at once, each summed from zero and then stored or
     * added as before (so the same bits). A tile's C then stays in L1 across the depth, where the depth-blocks-outer
     * loop read and wrote it from L2 once per KC block. Rows per block and column strips per block are sized so that
     * the block of A and the block of B, each for the whole depth, stay within the budget. Zen 3, jars alternated in
     * both orders (9 pairs): 4096,128,512,n,t 0.99-1.20× (medians per order), 912,256,768,n,t on two threads
     * 1.04-1.23×; the row-major B form and the products this path does not take read within the noise.
     */
    private static void tilesOverDepth(float[] a, int ao, int lda, float[] bp, int bpBase, int panel, float[] c, int cb,
                                       int ldc, boolean acc, int i0, int i1, int nc, int p0, int p1, CpuScratch sc,
                                       int s0, int s1) {
        int depth = p1 - p0;
        int rowsPerBlock = Math.min(MC, COL_BLOCK_FLOATS / depth / MR * MR);   // ≥ WHOLE_DEPTH_MIN_ROWS
        int block = Math.max(1, COL_BLOCK_FLOATS / (depth * NR));
        int sEnd = Math.min(s1, (nc + NR - 1) / NR);
        int span = depth * MR;
        for (int ic = i0; ic < i1; ic += rowsPerBlock) {
            int mc = Math.min(rowsPerBlock, i1 - ic);
            int strips = (mc + MR - 1) / MR;
            float[] ap = packStrips(false, a, ao + ic * lda + p0, lda, depth, mc, sc);
            for (int jb = s0; jb < sEnd; jb += block) {
                int jbEnd = Math.min(sEnd, jb + block);
                for (int st = 0; st < strips; st++) {
                    int rows = Math.min(MR, mc - st * MR);
                    int crow = cb + (ic + st * MR) * ldc;
                    for (int js = jb; js < jbEnd; js++) {
                        for (int pc = p0; pc < p1; pc += KC) {
                            packedTile(ap, st * span + (pc - p0) * MR, rows, bp, bpBase + (pc - p0) * panel, c, crow,
                                    ldc, nc, Math.min(KC, p1 - pc), !acc && pc == p0, sc, js);
                        }
                    }
                }
            }
        }
    }

    private static int roundUp(int x, int r) {
        return (x + r - 1) / r * r;
    }

    /**
     * Rows [0, mc) of a kc-deep block of A (row-major, element (r, p) at a[abase + r·lda + p], or stored transposed, at
     * a[abase + p·lda + r]) packed into MR-row strips kc·MR apart in the scratch's ap (the last one padded with zero
     * rows), which is returned.
     */
    private static float[] packStrips(boolean ta, float[] a, int abase, int lda, int kc, int mc, CpuScratch sc) {
        int strips = (mc + MR - 1) / MR;
        int span = kc * MR;
        if (sc.ap.length < strips * span) {
            sc.ap = new float[strips * span];
        }
        float[] ap = sc.ap;
        for (int st = 0; st < strips; st++) {
            int rows = Math.min(MR, mc - st * MR);
            if (ta) {
                packACols(a, abase + st * MR, lda, kc, rows, ap, st * span);
            } else {
                packARows(a, abase + st * MR * lda, lda, kc, rows, ap, st * span);
            }
        }
        return ap;
    }

    /**
     * Column strips [js0, js1) of the packed B panel at bp[bpBase] against rows [0, mc) of an A block packed here
     * first into MR-row strips (the last one padded with zero rows; see {@link #PACK_A_ROWS}), A row-major (element (r, p)
     * at a[abase + r·lda + p]) or stored transposed (at a[abase + p·lda + r]).
     */
    private static void macroPacked(boolean ta, float[] a, int abase, int lda, float[] bp, int bpBase, float[] c,
                                    int cbase, int ldc, int mc, int nc, int kc, boolean overwrite, CpuScratch sc,
                                    int js0, int js1) {
        int strips = (mc + MR - 1) / MR;
        int span = kc * MR;
        float[] ap = packStrips(ta, a, abase, lda, kc, mc, sc);
        int jsEnd = Math.min(js1, (nc + NR - 1) / NR);
        // one column strip per block is the strips-outer order
        int block = COL_BLOCK_FLOATS <= 0 ? 1 : Math.max(1, COL_BLOCK_FLOATS / (kc * NR));
        for (int jb = js0; jb < jsEnd; jb += block) {
            int jbEnd = Math.min(jsEnd, jb + block);
            for (int st = 0; st < strips; st++) {
                for (int js = jb; js < jbEnd; js++) {
                    packedTile(ap, st * span, Math.min(MR, mc - st * MR), bp, bpBase, c, cbase + st * MR * ldc, ldc, nc,
                            kc, overwrite, sc, js);
                }
            }
        }
    }

    /**
     * Floats of packed B that {@link #macroPacked} runs one row strip of A along before the next strip starts, on the
     * 4-row tiles; 0 means one column strip at a time (every row strip under it: the tiles then walk down C through the
     * block's rows). Blocked, a strip's tiles walk along C's rows and the block's B columns (128 KiB) stay in L2 for all
     * its strips. Zen 3 (AVX2, 512 KiB L2), the orders alternated in one process: 1024³ 1.20-1.28× on one thread and
     * 1.23× on two, the models' 256-wide shapes 1.00-1.06× (medians of 16-24 pair ratios); over three alternated
     * {@code blt bench peer} pairs the byte-transformer step 1.20×, its forward 1.10×, the BLT step 1.07× and forward
     * 1.03×. The 8-row (AVX-512) tiles keep one strip at a time: not measured there. A tile's sums do not depend on
     * the order, so the bits do not either.
     */
    static final int COL_BLOCK_FLOATS = Integer.getInteger("blt4j.colBlockFloats", MR == 4 ? 1 << 15 : 0);

    /**
     * The tile of a packed row strip of A (its kc-deep block at ap[aoff], rows valid of MR) and column strip js of the
     * kc-deep B panel at bp[bpBase]; the strip's first row of C at c[crow].
     */
    private static void packedTile(float[] ap, int aoff, int rows, float[] bp, int bpBase, float[] c, int crow, int ldc,
                                   int nc, int kc, boolean overwrite, CpuScratch sc, int js) {
        int jr = js * NR;
        int cols = Math.min(NR, nc - jr);
        int boff = bpBase + js * kc * NR;
        if (rows == MR && cols == NR) {
            tilePacked(ap, aoff, bp, boff, kc, c, crow + jr, ldc, overwrite);
        } else {
            microEdge(ap, aoff, bp, boff, kc, c, crow + jr, ldc, rows, cols, overwrite, sc.tile);
        }
    }

    /**
     * All column strips of the packed B panel at bp[bpBase] against rows [0, mc) of an A stored transposed, read where
     * it lies (element (r, p) at a[abase + p·lda + r]: the 8 floats a tile broadcasts per p are adjacent). Packing
     * this A cost a fifth of a weight gradient dYᵀ·X (4,096 deep, 128 wide: 0.5 of 2.8 ms) for the same bits. A
     * partial last row strip is packed with zero rows first.
     */
    static void macroCols(float[] a, int abase, int lda, float[] bp, int bpBase, float[] c, int cbase, int ldc, int mc,
                          int nc, int kc, boolean overwrite, CpuScratch sc) {
        if (PACK_A_COLS) {
            macroPacked(true, a, abase, lda, bp, bpBase, c, cbase, ldc, mc, nc, kc, overwrite, sc, 0, (nc + NR - 1) / NR);
            return;
        }
        int full = mc / MR * MR;
        int rows = mc - full;
        if (rows > 0) {
            if (sc.ap.length < kc * MR) {
                sc.ap = new float[kc * MR];
            }
            packACols(a, abase + full, lda, kc, rows, sc.ap, 0);
        }
        for (int jr = 0; jr < nc; jr += NR) {
            int cols = Math.min(NR, nc - jr);
            int boff = bpBase + (jr / NR) * kc * NR;
            for (int ir = 0; ir < full; ir += MR) {
                int cb = cbase + ir * ldc + jr;
                if (cols == NR) {
                    tileCols(a, abase + ir, lda, bp, boff, kc, c, cb, ldc, overwrite);
                } else {
                    tileCols(a, abase + ir, lda, bp, boff, kc, sc.tile, 0, NR, true);
                    edgeInto(sc.tile, c, cb, ldc, MR, cols, overwrite);
                }
            }
            if (rows > 0) {
                microEdge(sc.ap, 0, bp, boff, kc, c, cbase + full * ldc + jr, ldc, rows, cols, overwrite, sc.tile);
            }
        }
    }

    /**
     * Column strips [js0, js1) of the packed B panel at bp[bpBase] against rows [0, mc) of a row-major A block
     * (element (r, p) at a[abase + r·lda + p]), packed first (see {@link #packsRows});
     * read in place, a partial last row strip is still packed with zero rows.
     */
    static void macroRows(float[] a, int abase, int lda, float[] bp, int bpBase, float[] c, int cbase, int ldc, int mc,
                          int nc, int kc, boolean overwrite, CpuScratch sc, int js0, int js1) {
        if (packsRows(Math.min(js1, (nc + NR - 1) / NR) - js0)) {
            macroPacked(false, a, abase, lda, bp, bpBase, c, cbase, ldc, mc, nc, kc, overwrite, sc, js0, js1);
            return;
        }
        int full = mc / MR * MR;
        int rows = mc - full;
        if (rows > 0) {
            if (sc.ap.length < kc * MR) {
                sc.ap = new float[kc * MR];
            }
            packARows(a, abase + full * lda, lda, kc, rows, sc.ap, 0);
        }
        for (int jr = js0 * NR; jr < Math.min(nc, js1 * NR); jr += NR) {
            int cols = Math.min(NR, nc - jr);
            int boff = bpBase + (jr / NR) * kc * NR;
            for (int ir = 0; ir < full; ir += MR) {
                int cb = cbase + ir * ldc + jr;
                if (cols == NR) {
                    tileRows(a, abase + ir * lda, lda, bp, boff, kc, c, cb, ldc, overwrite);
                } else {
                    if (cols <= L) {
                        narrowRows(a, abase + ir * lda, lda, bp, boff, kc, sc.tile);
                    } else {
                        tileRows(a, abase + ir * lda, lda, bp, boff, kc, sc.tile, 0, NR, true);
                    }
                    edgeInto(sc.tile, c, cb, ldc, MR, cols, overwrite);
                }
            }
            if (rows > 0) {
                microEdge(sc.ap, 0, bp, boff, kc, c, cbase + full * ldc + jr, ldc, rows, cols, overwrite, sc.tile);
            }
        }
    }

    /**
     * One full MR × NR register tile on a row-major A read in place: C[r][0..NR) (+)= Σ_p a[ao + r·lda + p] ·
     * bp[boff + p·NR ..], each element a sequential FMA sum from zero, then stored or added. For kernels that build
     * their own panels (attention scores and weighted sums).
     */
    static void tileRows(float[] a, int ao, int lda, float[] bp, int boff, int kc, float[] c, int cb, int ldc,
                         boolean overwrite) {
        if (MR == 8) {
            micro8Rows(a, ao, lda, bp, boff, kc, c, cb, ldc, overwrite);
        } else {
            micro4Rows(a, ao, lda, bp, boff, kc, c, cb, ldc, overwrite);
        }
    }

    /**
     * One full MR × NR register tile on an A stored transposed, read in place: C[r][0..NR) (+)= Σ_p a[ao + p·lda + r] ·
     * bp[boff + p·NR ..], each element the same sequential FMA sum as in the other tiles.
     */
    static void tileCols(float[] a, int ao, int lda, float[] bp, int boff, int kc, float[] c, int cb, int ldc,
                         boolean overwrite) {
        if (MR == 8) {
            micro8Cols(a, ao, lda, bp, boff, kc, c, cb, ldc, overwrite);
        } else {
            micro4Cols(a, ao, lda, bp, boff, kc, c, cb, ldc, overwrite);
        }
    }

    /**
     * The first vector of columns of a register tile on a row-major A read in place, into tile (row stride NR): a last
     * strip of at most L columns (the 260-wide output head: 8 strips and 4 columns) costs about half a full tile. Each
     * element is the same sequential FMA sum from zero as in the full tile, so the same bits. Written out at 8 and 4
     * rows like the full tiles: two 4-row passes for an 8-row tile measured no faster than the full tile.
     */
    private static void narrowRows(float[] a, int ao, int lda, float[] bp, int boff, int kc, float[] tile) {
        if (MR == 8) {
            FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
            int a0 = ao, a1 = a0 + lda, a2 = a0 + 2 * lda, a3 = a0 + 3 * lda, a4 = a0 + 4 * lda, a5 = a0 + 5 * lda, a6 = a0 + 6 * lda, a7 = a0 + 7 * lda;
            for (int p = 0; p < kc; p++) {
                FloatVector b = FloatVector.fromArray(S, bp, boff + p * NR);
                c0 = FloatVector.broadcast(S, a[a0 + p]).fma(b, c0);
                c1 = FloatVector.broadcast(S, a[a1 + p]).fma(b, c1);
                c2 = FloatVector.broadcast(S, a[a2 + p]).fma(b, c2);
                c3 = FloatVector.broadcast(S, a[a3 + p]).fma(b, c3);
                c4 = FloatVector.broadcast(S, a[a4 + p]).fma(b, c4);
                c5 = FloatVector.broadcast(S, a[a5 + p]).fma(b, c5);
                c6 = FloatVector.broadcast(S, a[a6 + p]).fma(b, c6);
                c7 = FloatVector.broadcast(S, a[a7 + p]).fma(b, c7);
            }
            c0.intoArray(tile, 0);
            c1.intoArray(tile, NR);
            c2.intoArray(tile, 2 * NR);
            c3.intoArray(tile, 3 * NR);
            c4.intoArray(tile, 4 * NR);
            c5.intoArray(tile, 5 * NR);
            c6.intoArray(tile, 6 * NR);
            c7.intoArray(tile, 7 * NR);
            return;
        }
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
        int a0 = ao, a1 = a0 + lda, a2 = a0 + 2 * lda, a3 = a0 + 3 * lda;
        for (int p = 0; p < kc; p++) {
            FloatVector b = FloatVector.fromArray(S, bp, boff + p * NR);
            c0 = FloatVector.broadcast(S, a[a0 + p]).fma(b, c0);
            c1 = FloatVector.broadcast(S, a[a1 + p]).fma(b, c1);
            c2 = FloatVector.broadcast(S, a[a2 + p]).fma(b, c2);
            c3 = FloatVector.broadcast(S, a[a3 + p]).fma(b, c3);
        }
        c0.intoArray(tile, 0);
        c1.intoArray(tile, NR);
        c2.intoArray(tile, 2 * NR);
        c3.intoArray(tile, 3 * NR);
    }

    /** bp[bpBase + strip·kc·NR + p·NR ..]: op(B) rows pc..pc+kc, columns jc..jc+nc, zero-padded to whole strips. */
    static void packB(float[] b, int bo, boolean tb, int n, int k, int pc, int kc, int jc, int nc, float[] bp, int bpBase) {
        for (int js = 0; js < nc; js += NR) {
            int cols = Math.min(NR, nc - js);
            int dst = bpBase + (js / NR) * kc * NR;
            if (!tb) {
                packBRows(b, bo + pc * n + jc + js, n, kc, cols, bp, dst);
            } else {
                packBCols(b, bo + (jc + js) * k + pc, k, kc, cols, bp, dst);
            }
        }
    }

    private static void packBRows(float[] b, int src, int ld, int kc, int cols, float[] bp, int dst) {
        if (cols == NR) {
            for (int p = 0; p < kc; p++) {
                FloatVector.fromArray(S, b, src + p * ld).intoArray(bp, dst + p * NR);
                FloatVector.fromArray(S, b, src + p * ld + L).intoArray(bp, dst + p * NR + L);
            }
        } else {
            for (int p = 0; p < kc; p++) {
                int d = dst + p * NR;
                int s = src + p * ld;
                for (int jj = 0; jj < cols; jj++) {
                    bp[d + jj] = b[s + jj];
                }
                for (int jj = cols; jj < NR; jj++) {
                    bp[d + jj] = 0f;
                }
            }
        }
    }

    private static void packBCols(float[] b, int src, int ld, int kc, int cols, float[] bp, int dst) {
        for (int jj = 0; jj < cols; jj++) {
            int s = src + jj * ld;
            for (int p = 0; p < kc; p++) {
                bp[dst + p * NR + jj] = b[s + p];
            }
        }
        for (int jj = cols; jj < NR; jj++) {
            for (int p = 0; p < kc; p++) {
                bp[dst + p * NR + jj] = 0f;
            }
        }
    }

    private static void packARows(float[] a, int src, int ld, int kc, int rows, float[] ap, int dst) {
        for (int ii = 0; ii < rows; ii++) {
            int s = src + ii * ld;
            for (int p = 0; p < kc; p++) {
                ap[dst + p * MR + ii] = a[s + p];
            }
        }
        for (int ii = rows; ii < MR; ii++) {
            for (int p = 0; p < kc; p++) {
                ap[dst + p * MR + ii] = 0f;
            }
        }
    }

    /** MR lanes: one load and one store per column of a full strip of transposed A. */
    private static final VectorSpecies<Float> STRIP = VectorSpecies.of(float.class, VectorShape.forBitSize(MR * 32));

    private static void packACols(float[] a, int src, int ld, int kc, int rows, float[] ap, int dst) {
        if (rows == MR) {
            for (int p = 0; p < kc; p++) {
                FloatVector.fromArray(STRIP, a, src + p * ld).intoArray(ap, dst + p * MR);
            }
            return;
        }
        for (int p = 0; p < kc; p++) {
            int s = src + p * ld;
            int d = dst + p * MR;
            for (int ii = 0; ii < rows; ii++) {
                ap[d + ii] = a[s + ii];
            }
            for (int ii = rows; ii < MR; ii++) {
                ap[d + ii] = 0f;
            }
        }
    }

    /**
     * The MR × NR register tile on a packed A (element (r, p) at ap[aoff + p·MR + r]); see {@link #tileRows}. MR is a
     * constant, so the JIT keeps one branch.
     */
    static void tilePacked(float[] ap, int aoff, float[] bp, int boff, int kc, float[] c, int cb, int ldc, boolean overwrite) {
        if (MR == 8) {
            micro8(ap, aoff, bp, boff, kc, c, cb, ldc, overwrite);
        } else {
            micro(ap, aoff, bp, boff, kc, c, cb, ldc, overwrite);
        }
    }

    // The register tiles come in three forms that differ only in where A's element (r, p) lies: packed, ap[aoff + p·MR
    // + r]; rows in place, a[ao + r·lda + p]; columns in place (A stored transposed), a[ao + p·lda + r]. One form with
    // a variable stride per p would keep C2 from lifting the range checks out of the inner loop, so each is written
    // out (and each at 4 and 8 rows). The columns form has that stride: its A loads keep their checks, a cost well
    // below the packing it saves.

    /** The 8 × 2L tile on a row-major A read in place (row r of the tile at a[ao + r·lda ..]). */
    private static void micro8Rows(float[] a, int ao, int lda, float[] bp, int boff, int kc, float[] c, int cb, int ldc,
                                   boolean overwrite) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00;
        FloatVector c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        int a0 = ao, a1 = a0 + lda, a2 = a0 + 2 * lda, a3 = a0 + 3 * lda, a4 = a0 + 4 * lda, a5 = a0 + 5 * lda, a6 = a0 + 6 * lda, a7 = a0 + 7 * lda;
        for (int p = 0; p < kc; p++) {
            int bi = boff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector x0 = FloatVector.broadcast(S, a[a0 + p]);
            c00 = x0.fma(b0, c00);
            c01 = x0.fma(b1, c01);
            FloatVector x1 = FloatVector.broadcast(S, a[a1 + p]);
            c10 = x1.fma(b0, c10);
            c11 = x1.fma(b1, c11);
            FloatVector x2 = FloatVector.broadcast(S, a[a2 + p]);
            c20 = x2.fma(b0, c20);
            c21 = x2.fma(b1, c21);
            FloatVector x3 = FloatVector.broadcast(S, a[a3 + p]);
            c30 = x3.fma(b0, c30);
            c31 = x3.fma(b1, c31);
            FloatVector x4 = FloatVector.broadcast(S, a[a4 + p]);
            c40 = x4.fma(b0, c40);
            c41 = x4.fma(b1, c41);
            FloatVector x5 = FloatVector.broadcast(S, a[a5 + p]);
            c50 = x5.fma(b0, c50);
            c51 = x5.fma(b1, c51);
            FloatVector x6 = FloatVector.broadcast(S, a[a6 + p]);
            c60 = x6.fma(b0, c60);
            c61 = x6.fma(b1, c61);
            FloatVector x7 = FloatVector.broadcast(S, a[a7 + p]);
            c70 = x7.fma(b0, c70);
            c71 = x7.fma(b1, c71);
        }
        // stores written out, as in micro
        int r0 = cb, r1 = cb + ldc, r2 = cb + 2 * ldc, r3 = cb + 3 * ldc, r4 = cb + 4 * ldc, r5 = cb + 5 * ldc, r6 = cb + 6 * ldc, r7 = cb + 7 * ldc;
        if (!overwrite) {
            c00 = c00.add(FloatVector.fromArray(S, c, r0));
            c01 = c01.add(FloatVector.fromArray(S, c, r0 + L));
            c10 = c10.add(FloatVector.fromArray(S, c, r1));
            c11 = c11.add(FloatVector.fromArray(S, c, r1 + L));
            c20 = c20.add(FloatVector.fromArray(S, c, r2));
            c21 = c21.add(FloatVector.fromArray(S, c, r2 + L));
            c30 = c30.add(FloatVector.fromArray(S, c, r3));
            c31 = c31.add(FloatVector.fromArray(S, c, r3 + L));
            c40 = c40.add(FloatVector.fromArray(S, c, r4));
            c41 = c41.add(FloatVector.fromArray(S, c, r4 + L));
            c50 = c50.add(FloatVector.fromArray(S, c, r5));
            c51 = c51.add(FloatVector.fromArray(S, c, r5 + L));
            c60 = c60.add(FloatVector.fromArray(S, c, r6));
            c61 = c61.add(FloatVector.fromArray(S, c, r6 + L));
            c70 = c70.add(FloatVector.fromArray(S, c, r7));
            c71 = c71.add(FloatVector.fromArray(S, c, r7 + L));
        }
        c00.intoArray(c, r0);
        c01.intoArray(c, r0 + L);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + L);
        c40.intoArray(c, r4);
        c41.intoArray(c, r4 + L);
        c50.intoArray(c, r5);
        c51.intoArray(c, r5 + L);
        c60.intoArray(c, r6);
        c61.intoArray(c, r6 + L);
        c70.intoArray(c, r7);
        c71.intoArray(c, r7 + L);
    }

    /** The 4 × 2L tile on a row-major A read in place (row r of the tile at a[ao + r·lda ..]). */
    private static void micro4Rows(float[] a, int ao, int lda, float[] bp, int boff, int kc, float[] c, int cb, int ldc,
                                   boolean overwrite) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00;
        FloatVector c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        int a0 = ao, a1 = a0 + lda, a2 = a0 + 2 * lda, a3 = a0 + 3 * lda;
        for (int p = 0; p < kc; p++) {
            int bi = boff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector x0 = FloatVector.broadcast(S, a[a0 + p]);
            c00 = x0.fma(b0, c00);
            c01 = x0.fma(b1, c01);
            FloatVector x1 = FloatVector.broadcast(S, a[a1 + p]);
            c10 = x1.fma(b0, c10);
            c11 = x1.fma(b1, c11);
            FloatVector x2 = FloatVector.broadcast(S, a[a2 + p]);
            c20 = x2.fma(b0, c20);
            c21 = x2.fma(b1, c21);
            FloatVector x3 = FloatVector.broadcast(S, a[a3 + p]);
            c30 = x3.fma(b0, c30);
            c31 = x3.fma(b1, c31);
        }
        // stores written out, as in micro
        int r0 = cb, r1 = cb + ldc, r2 = cb + 2 * ldc, r3 = cb + 3 * ldc;
        if (!overwrite) {
            c00 = c00.add(FloatVector.fromArray(S, c, r0));
            c01 = c01.add(FloatVector.fromArray(S, c, r0 + L));
            c10 = c10.add(FloatVector.fromArray(S, c, r1));
            c11 = c11.add(FloatVector.fromArray(S, c, r1 + L));
            c20 = c20.add(FloatVector.fromArray(S, c, r2));
            c21 = c21.add(FloatVector.fromArray(S, c, r2 + L));
            c30 = c30.add(FloatVector.fromArray(S, c, r3));
            c31 = c31.add(FloatVector.fromArray(S, c, r3 + L));
        }
        c00.intoArray(c, r0);
        c01.intoArray(c, r0 + L);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + L);
    }

    /** The 8 × 2L tile on an A stored transposed, read in place (element (r, p) at a[ao + p·lda + r]). */
    private static void micro8Cols(float[] a, int ao, int lda, float[] bp, int boff, int kc, float[] c, int cb, int ldc,
                                   boolean overwrite) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        FloatVector c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        for (int p = 0; p < kc; p++) {
            int ai = ao + p * lda;
            int bi = boff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector a0 = FloatVector.broadcast(S, a[ai]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[ai + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[ai + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[ai + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, a[ai + 4]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, a[ai + 5]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(S, a[ai + 6]);
            c60 = a6.fma(b0, c60);
            c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(S, a[ai + 7]);
            c70 = a7.fma(b0, c70);
            c71 = a7.fma(b1, c71);
        }
        int r1 = cb + ldc, r2 = cb + 2 * ldc, r3 = cb + 3 * ldc, r4 = cb + 4 * ldc, r5 = cb + 5 * ldc, r6 = cb + 6 * ldc,
                r7 = cb + 7 * ldc;
        if (!overwrite) {
            c00 = c00.add(FloatVector.fromArray(S, c, cb));
            c01 = c01.add(FloatVector.fromArray(S, c, cb + L));
            c10 = c10.add(FloatVector.fromArray(S, c, r1));
            c11 = c11.add(FloatVector.fromArray(S, c, r1 + L));
            c20 = c20.add(FloatVector.fromArray(S, c, r2));
            c21 = c21.add(FloatVector.fromArray(S, c, r2 + L));
            c30 = c30.add(FloatVector.fromArray(S, c, r3));
            c31 = c31.add(FloatVector.fromArray(S, c, r3 + L));
            c40 = c40.add(FloatVector.fromArray(S, c, r4));
            c41 = c41.add(FloatVector.fromArray(S, c, r4 + L));
            c50 = c50.add(FloatVector.fromArray(S, c, r5));
            c51 = c51.add(FloatVector.fromArray(S, c, r5 + L));
            c60 = c60.add(FloatVector.fromArray(S, c, r6));
            c61 = c61.add(FloatVector.fromArray(S, c, r6 + L));
            c70 = c70.add(FloatVector.fromArray(S, c, r7));
            c71 = c71.add(FloatVector.fromArray(S, c, r7 + L));
        }
        c00.intoArray(c, cb);
        c01.intoArray(c, cb + L);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + L);
        c40.intoArray(c, r4);
        c41.intoArray(c, r4 + L);
        c50.intoArray(c, r5);
        c51.intoArray(c, r5 + L);
        c60.intoArray(c, r6);
        c61.intoArray(c, r6 + L);
        c70.intoArray(c, r7);
        c71.intoArray(c, r7 + L);
    }

    /** The 4 × 2L tile on an A stored transposed, read in place (element (r, p) at a[ao + p·lda + r]). */
    private static void micro4Cols(float[] a, int ao, int lda, float[] bp, int boff, int kc, float[] c, int cb, int ldc,
                                   boolean overwrite) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00;
        FloatVector c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        for (int p = 0; p < kc; p++) {
            int ai = ao + p * lda;
            int bi = boff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector x0 = FloatVector.broadcast(S, a[ai]);
            c00 = x0.fma(b0, c00);
            c01 = x0.fma(b1, c01);
            FloatVector x1 = FloatVector.broadcast(S, a[ai + 1]);
            c10 = x1.fma(b0, c10);
            c11 = x1.fma(b1, c11);
            FloatVector x2 = FloatVector.broadcast(S, a[ai + 2]);
            c20 = x2.fma(b0, c20);
            c21 = x2.fma(b1, c21);
            FloatVector x3 = FloatVector.broadcast(S, a[ai + 3]);
            c30 = x3.fma(b0, c30);
            c31 = x3.fma(b1, c31);
        }
        // stores written out, as in micro
        int r0 = cb, r1 = cb + ldc, r2 = cb + 2 * ldc, r3 = cb + 3 * ldc;
        if (!overwrite) {
            c00 = c00.add(FloatVector.fromArray(S, c, r0));
            c01 = c01.add(FloatVector.fromArray(S, c, r0 + L));
            c10 = c10.add(FloatVector.fromArray(S, c, r1));
            c11 = c11.add(FloatVector.fromArray(S, c, r1 + L));
            c20 = c20.add(FloatVector.fromArray(S, c, r2));
            c21 = c21.add(FloatVector.fromArray(S, c, r2 + L));
            c30 = c30.add(FloatVector.fromArray(S, c, r3));
            c31 = c31.add(FloatVector.fromArray(S, c, r3 + L));
        }
        c00.intoArray(c, r0);
        c01.intoArray(c, r0 + L);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + L);
    }

    /** The 8 × 2L register tile: 16 accumulators, B loaded once per k, A broadcast (needs 32 vector registers). */
    private static void micro8(float[] ap, int aoff, float[] bp, int boff, int kc, float[] c, int cb, int ldc, boolean overwrite) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        FloatVector c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        for (int p = 0; p < kc; p++) {
            int ai = aoff + p * 8;
            int bi = boff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector a0 = FloatVector.broadcast(S, ap[ai]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, ap[ai + 4]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, ap[ai + 5]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(S, ap[ai + 6]);
            c60 = a6.fma(b0, c60);
            c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(S, ap[ai + 7]);
            c70 = a7.fma(b0, c70);
            c71 = a7.fma(b1, c71);
        }
        // stores written out, as in micro
        int r1 = cb + ldc, r2 = cb + 2 * ldc, r3 = cb + 3 * ldc, r4 = cb + 4 * ldc, r5 = cb + 5 * ldc, r6 = cb + 6 * ldc,
                r7 = cb + 7 * ldc;
        if (!overwrite) {
            c00 = c00.add(FloatVector.fromArray(S, c, cb));
            c01 = c01.add(FloatVector.fromArray(S, c, cb + L));
            c10 = c10.add(FloatVector.fromArray(S, c, r1));
            c11 = c11.add(FloatVector.fromArray(S, c, r1 + L));
            c20 = c20.add(FloatVector.fromArray(S, c, r2));
            c21 = c21.add(FloatVector.fromArray(S, c, r2 + L));
            c30 = c30.add(FloatVector.fromArray(S, c, r3));
            c31 = c31.add(FloatVector.fromArray(S, c, r3 + L));
            c40 = c40.add(FloatVector.fromArray(S, c, r4));
            c41 = c41.add(FloatVector.fromArray(S, c, r4 + L));
            c50 = c50.add(FloatVector.fromArray(S, c, r5));
            c51 = c51.add(FloatVector.fromArray(S, c, r5 + L));
            c60 = c60.add(FloatVector.fromArray(S, c, r6));
            c61 = c61.add(FloatVector.fromArray(S, c, r6 + L));
            c70 = c70.add(FloatVector.fromArray(S, c, r7));
            c71 = c71.add(FloatVector.fromArray(S, c, r7 + L));
        }
        c00.intoArray(c, cb);
        c01.intoArray(c, cb + L);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + L);
        c40.intoArray(c, r4);
        c41.intoArray(c, r4 + L);
        c50.intoArray(c, r5);
        c51.intoArray(c, r5 + L);
        c60.intoArray(c, r6);
        c61.intoArray(c, r6 + L);
        c70.intoArray(c, r7);
        c71.intoArray(c, r7 + L);
    }

    /**
     * The 4 × 2L register tile: 8 accumulators, B loaded once per k, A broadcast. (6 × 2L and 4 × 3L tiles need 12
     * accumulators and C2 then spills on AVX2; 4 × 2L measured fastest on JDK 17 and 25.)
     */
    private static void micro(float[] ap, int aoff, float[] bp, int boff, int kc, float[] c, int cb, int ldc, boolean overwrite) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int ai = aoff + p * MR;
            int bi = boff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector a0 = FloatVector.broadcast(S, ap[ai]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
        }
        // stores written out (not via a helper): the larger body keeps C2 from inlining this kernel into its caller,
        // which costs about 30% (register pressure); measured on JDK 25
        int r1 = cb + ldc;
        int r2 = cb + 2 * ldc;
        int r3 = cb + 3 * ldc;
        if (!overwrite) {
            c00 = c00.add(FloatVector.fromArray(S, c, cb));
            c01 = c01.add(FloatVector.fromArray(S, c, cb + L));
            c10 = c10.add(FloatVector.fromArray(S, c, r1));
            c11 = c11.add(FloatVector.fromArray(S, c, r1 + L));
            c20 = c20.add(FloatVector.fromArray(S, c, r2));
            c21 = c21.add(FloatVector.fromArray(S, c, r2 + L));
            c30 = c30.add(FloatVector.fromArray(S, c, r3));
            c31 = c31.add(FloatVector.fromArray(S, c, r3 + L));
        }
        c00.intoArray(c, cb);
        c01.intoArray(c, cb + L);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + L);
    }

    /** A partial tile: full register tile into a scratch tile, then the valid part into C. */
    private static void microEdge(float[] ap, int aoff, float[] bp, int boff, int kc, float[] c, int cb, int ldc,
                                  int rows, int cols, boolean overwrite, float[] tile) {
        if (MR == 8 && rows <= 4) {
            // half the work for a short strip (the 9 rows of a speculative check are 8 + 1): the 4-row tile reads rows
            // 0..3 of the 8-row packing, each element summed exactly as the 8-row tile sums it
            micro(ap, aoff, bp, boff, kc, tile, 0, NR, true);
        } else {
            tilePacked(ap, aoff, bp, boff, kc, tile, 0, NR, true);
        }
        edgeInto(tile, c, cb, ldc, rows, cols, overwrite);
    }

    /** The valid rows × cols of a computed tile into C, stored or added (block sum + C, as the full tiles do). */
    private static void edgeInto(float[] tile, float[] c, int cb, int ldc, int rows, int cols, boolean overwrite) {
        for (int r = 0; r < rows; r++) {
            int crow = cb + r * ldc;
            for (int jj = 0; jj < cols; jj++) {
                float v = tile[r * NR + jj];
                c[crow + jj] = overwrite ? v : c[crow + jj] + v;
            }
        }
    }
}
