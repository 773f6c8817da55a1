package blt4j.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every backward op of the reference backend against central finite differences of an independent
 * double-precision forward ({@link DoubleOps}). The loss is Σ forward(x) ⊙ R for a fixed random R, so the
 * backward gets dout = R. Inputs are rounded to float first and both sides see the same values.
 *
 * <p>Every float tensor lives inside a NaN-padded buffer at a non-zero offset, so offset mistakes and
 * out-of-bounds reads or writes show up; backwards run twice to check that they add into the gradients.
 */
class GradientCheckTest {
    /** max|g − g_fd| / max(max|g_fd|, 1e-8) must not exceed this. */
    static final double GRAD_TOL = 1e-5;
    /** Finite-difference step (the forward is in double). */
    static final double H = 1e-6;
    static final int PAD = 5;

    /** Worst relative gradient error seen per op, printed after the class. */
    static final Map<String, Double> WORST = new TreeMap<>();

    final Backend be = new ReferenceBackend();
    final Random rnd = new Random(1234);
    final List<Tensor> padded = new ArrayList<>();

    @AfterAll
    static void report() {
        StringBuilder sb = new StringBuilder("gradient check, worst relative error per op:\n");
        WORST.forEach((k, v) -> sb.append(String.format("  %-28s %.3e%n", k, v)));
        System.out.print(sb);
    }

    /** No kernel wrote outside the tensors it was given. */
    @AfterEach
    void paddingUntouched() {
        for (Tensor base : padded) {
            float[] all = be.toHost(base);
            for (int i = 0; i < PAD; i++) {
                assertTrue(Float.isNaN(all[i]) && Float.isNaN(all[all.length - 1 - i]), "a kernel wrote outside its tensor");
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /** A float tensor holding data, at offset PAD inside a NaN-filled buffer. */
    Tensor t(float[] data, int... shape) {
        Tensor base = be.zeros(data.length + 2 * PAD);
        be.fill(base, Float.NaN);
        padded.add(base);
        Tensor v = base.view(PAD, shape);
        be.upload(data, 0, v);
        return v;
    }

    Tensor zeros(int... shape) {
        return t(new float[Tensor.checkedSize(shape)], shape);
    }

    float[] rand(int n, double lo, double hi) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        }
        return x;
    }

    float[] rand(int n) {
        return rand(n, -1, 1);
    }

    static double[] d(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i];
        }
        return y;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    static double maxAbs(double[] x) {
        double m = 0;
        for (double v : x) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /** Central differences of L(x) = Σ f(x) ⊙ r with respect to x (modified in place, then restored). */
    static double[] fd(double[] x, double[] r, Function<double[], double[]> f) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double save = x[i];
            x[i] = save + H;
            double lp = dot(f.apply(x), r);
            x[i] = save - H;
            double lm = dot(f.apply(x), r);
            x[i] = save;
            g[i] = (lp - lm) / (2 * H);
        }
        return g;
    }

    static double relError(float[] got, double[] want) {
        assertEquals(want.length, got.length);
        double err = 0;
        for (int i = 0; i < got.length; i++) {
            assertFalse(Float.isNaN(got[i]), "NaN at " + i);
            err = Math.max(err, Math.abs(got[i] - want[i]));
        }
        return err / Math.max(maxAbs(want), 1e-8);
    }

    static void checkGrad(String op, float[] got, double[] fd) {
        double rel = relError(got, fd);
        WORST.merge(op, rel, Math::max);
        assertTrue(rel <= GRAD_TOL, op + ": relative gradient error " + rel + " > " + GRAD_TOL);
    }

    /** |float − double| ≤ 1e-5 + 1e-4·max|double| element-wise. */
    static void checkForward(String op, float[] got, double[] want) {
        assertEquals(want.length, got.length, op + " length");
        double tol = 1e-5 + 1e-4 * maxAbs(want);
        for (int i = 0; i < got.length; i++) {
            double diff = Math.abs(got[i] - want[i]);
            assertTrue(diff <= tol, op + " forward at " + i + ": " + got[i] + " vs " + want[i]);
        }
        WORST.merge(op + " (forward)", maxAbsDiff(got, want) / Math.max(maxAbs(want), 1e-8), Math::max);
    }

    static double maxAbsDiff(float[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    /** Runs backward a second time into the same gradients: the result must be (close to) twice the first. */
    static void checkAccumulates(String op, float[] once, float[] twice) {
        double m = 0;
        for (float v : once) {
            m = Math.max(m, Math.abs(v));
        }
        for (int i = 0; i < once.length; i++) {
            assertEquals(2.0 * once[i], twice[i], 1e-6 * Math.max(m, 1e-8), op + " backward must add into its gradient");
        }
    }

    // ------------------------------------------------------------------ matmul and mul

    @ParameterizedTest(name = "batch={0} m={1} n={2} k={3} transA={4} transB={5}")
    @CsvSource({
        "1, 3, 7, 13, false, false", "1, 3, 7, 13, false, true", "1, 3, 7, 13, true, false", "1, 3, 7, 13, true, true",
        "1, 1, 3, 1, false, false", "1, 1, 3, 1, true, true", "1, 13, 1, 7, false, true", "1, 13, 1, 7, true, false",
        "2, 7, 3, 1, false, false", "2, 7, 3, 1, false, true", "2, 7, 3, 1, true, false", "2, 7, 3, 1, true, true",
        "3, 3, 7, 13, false, false", "3, 3, 7, 13, false, true", "3, 3, 7, 13, true, false", "3, 3, 7, 13, true, true",
    })
    void matmul(int batch, int m, int n, int k, boolean ta, boolean tb) {
        boolean batched = batch > 1;
        int[] aShape = ta ? shape(batched, batch, k, m) : shape(batched, batch, m, k);
        int[] bShape = tb ? shape(batched, batch, n, k) : shape(batched, batch, k, n);
        int[] cShape = shape(batched, batch, m, n);
        float[] a = rand(batch * m * k);
        float[] b = rand(batch * k * n);
        float[] r = rand(batch * m * n);
        Tensor ta_ = t(a, aShape);
        Tensor tb_ = t(b, bShape);
        Tensor tr = t(r, cShape);
        double[] da = d(a);
        double[] db = d(b);
        double[] dr = d(r);

        Tensor c = zeros(cShape);
        be.matmul(ta_, ta, tb_, tb, c, false);
        double[] want = DoubleOps.matmul(da, ta, db, tb, batch, m, n, k);
        checkForward("matmul", c.toHost(), want);
        // accumulate: C += op(A)·op(B)
        be.matmul(ta_, ta, tb_, tb, c, true);
        double[] twice = want.clone();
        for (int i = 0; i < twice.length; i++) {
            twice[i] *= 2;
        }
        checkForward("matmul", c.toHost(), twice);

        // dA and dB are themselves matmuls with dC = R
        Tensor gA = zeros(aShape);
        Tensor gB = zeros(bShape);
        matmulBackward(ta_, ta, tb_, tb, tr, gA, gB);
        float[] gA1 = gA.toHost();
        float[] gB1 = gB.toHost();
        String op = "matmul " + (ta ? "Aᵀ" : "A") + (tb ? "Bᵀ" : "B");
        checkGrad(op + " dA", gA1, fd(da, dr, x -> DoubleOps.matmul(x, ta, db, tb, batch, m, n, k)));
        checkGrad(op + " dB", gB1, fd(db, dr, x -> DoubleOps.matmul(da, ta, x, tb, batch, m, n, k)));
        matmulBackward(ta_, ta, tb_, tb, tr, gA, gB);
        checkAccumulates("matmul dA", gA1, gA.toHost());
        checkAccumulates("matmul dB", gB1, gB.toHost());
    }

    private static int[] shape(boolean batched, int batch, int rows, int cols) {
        return batched ? new int[] {batch, rows, cols} : new int[] {rows, cols};
    }

    /** The backward of C = op(A)·op(B) as two accumulating matmuls. */
    private void matmulBackward(Tensor a, boolean ta, Tensor b, boolean tb, Tensor dc, Tensor da, Tensor db) {
        if (ta) {
            be.matmul(b, tb, dc, true, da, true); // dA = op(B)·dCᵀ  ([K,M])
        } else {
            be.matmul(dc, false, b, !tb, da, true); // dA = dC·op(B)ᵀ
        }
        if (tb) {
            be.matmul(dc, true, a, ta, db, true); // dB = dCᵀ·op(A)  ([N,K])
        } else {
            be.matmul(a, !ta, dc, false, db, true); // dB = op(A)ᵀ·dC
        }
    }

    // ------------------------------------------------------------------ norm and activations

    @ParameterizedTest(name = "rows={0} d={1}")
    @CsvSource({"1, 7", "3, 13", "7, 3", "13, 2", "2, 64"})
    void rmsNorm(int rows, int dim) {
        float eps = 1e-5f;
        float[] x = rand(rows * dim);
        float[] w = rand(dim, 0.5, 1.5);
        float[] r = rand(rows * dim);
        Tensor tx = t(x, rows, dim);
        Tensor tw = t(w, dim);
        Tensor out = zeros(rows, dim);
        Tensor rstd = zeros(rows);
        be.rmsNorm(tx, tw, out, rstd, eps);
        double[] dx = d(x);
        double[] dw = d(w);
        checkForward("rmsNorm", out.toHost(), DoubleOps.rmsNorm(dx, dw, rows, dim, eps));

        Tensor gx = zeros(rows, dim);
        Tensor gw = zeros(dim);
        Tensor tr = t(r, rows, dim);
        be.rmsNormBackward(tr, tx, tw, rstd, gx, gw);
        float[] gx1 = gx.toHost();
        float[] gw1 = gw.toHost();
        checkGrad("rmsNorm dx", gx1, fd(dx, d(r), v -> DoubleOps.rmsNorm(v, dw, rows, dim, eps)));
        checkGrad("rmsNorm dw", gw1, fd(dw, d(r), v -> DoubleOps.rmsNorm(dx, v, rows, dim, eps)));
        be.rmsNormBackward(tr, tx, tw, rstd, gx, gw);
        checkAccumulates("rmsNorm dx", gx1, gx.toHost());
        checkAccumulates("rmsNorm dw", gw1, gw.toHost());
    }

    /**
     * Width 1 is ill-conditioned in fp32: out ≈ sign(x)·w, and dx = g·w·s·ε/(x² + ε) is what is left after the
     * two terms of the backward (each of size |g·w·s|) cancel almost entirely. The float result can only be
     * right to a few ulps of those terms, so the bound is relative to them, not to the tiny gradient.
     */
    @Test
    void rmsNormWidthOne() {
        int rows = 13;
        float eps = 1e-5f;
        float[] x = rand(rows);
        float[] w = rand(1, 0.5, 1.5);
        float[] r = rand(rows);
        Tensor tx = t(x, rows, 1);
        Tensor tw = t(w, 1);
        Tensor rstd = zeros(rows);
        be.rmsNorm(tx, tw, zeros(rows, 1), rstd, eps);
        Tensor gx = zeros(rows, 1);
        be.rmsNormBackward(t(r, rows, 1), tx, tw, rstd, gx, zeros(1));
        double[] dw = d(w);
        double[] want = fd(d(x), d(r), v -> DoubleOps.rmsNorm(v, dw, rows, 1, eps));
        float[] got = gx.toHost();
        float[] s = rstd.toHost();
        for (int i = 0; i < rows; i++) {
            double terms = Math.abs(r[i] * w[0] * s[i]);
            assertEquals(want[i], got[i], 1e-6 * terms, "rmsNorm dx, width 1, row " + i);
        }
    }

    @Test
    void swiglu() {
        int n = 13;
        float[] gate = rand(n, -5, 5);
        float[] up = rand(n, -2, 2);
        float[] r = rand(n);
        Tensor tg = t(gate, 1, n);
        Tensor tu = t(up, 1, n);
        Tensor out = zeros(1, n);
        be.swiglu(tg, tu, out);
        double[] dg = d(gate);
        double[] du = d(up);
        checkForward("swiglu", out.toHost(), DoubleOps.swiglu(dg, du));
        Tensor ggate = zeros(1, n);
        Tensor gup = zeros(1, n);
        Tensor tr = t(r, 1, n);
        be.swigluBackward(tr, tg, tu, ggate, gup);
        float[] gg1 = ggate.toHost();
        float[] gu1 = gup.toHost();
        checkGrad("swiglu dgate", gg1, fd(dg, d(r), v -> DoubleOps.swiglu(v, du)));
        checkGrad("swiglu dup", gu1, fd(du, d(r), v -> DoubleOps.swiglu(dg, v)));
        // the one backward op that overwrites its gradients: whatever the buffers held, a second call gives the same
        Tensor dirtyGate = t(rand(n), 1, n);
        Tensor dirtyUp = t(rand(n), 1, n);
        be.swigluBackward(tr, tg, tu, dirtyGate, dirtyUp);
        assertArrayEquals(gg1, dirtyGate.toHost(), "swigluBackward must overwrite dgate");
        assertArrayEquals(gu1, dirtyUp.toHost(), "swigluBackward must overwrite dup");
    }

    // ------------------------------------------------------------------ RoPE

    @ParameterizedTest(name = "T={0} heads={1} headDim={2}")
    @CsvSource({"7, 2, 6", "1, 1, 2", "13, 3, 4"})
    void rope(int rows, int nHeads, int headDim) {
        int maxPos = 17;
        RopeTables tables = RopeTables.build(be, 10000.0, headDim, maxPos);
        double[] cos = d(tables.cos().toHost());
        double[] sin = d(tables.sin().toHost());
        int[] pos = new int[rows];
        for (int i = 0; i < rows; i++) {
            pos[i] = i == 1 ? pos[0] : rnd.nextInt(maxPos); // a repeated position too
        }
        int width = nHeads * headDim;
        float[] x = rand(rows * width, -2, 2);
        float[] r = rand(rows * width);
        Tensor tx = t(x, rows, width);
        Tensor tp = be.fromHost(pos, rows);
        Tensor out = zeros(rows, width);
        be.rope(tx, tp, tables.cos(), tables.sin(), out, nHeads, headDim);
        double[] want = DoubleOps.rope(d(x), pos, cos, sin, rows, nHeads, headDim);
        checkForward("rope", out.toHost(), want);
        // in place gives the same result
        Tensor inPlace = t(x.clone(), rows, width);
        be.rope(inPlace, tp, tables.cos(), tables.sin(), inPlace, nHeads, headDim);
        checkForward("rope", inPlace.toHost(), want);

        Tensor gx = zeros(rows, width);
        Tensor tr = t(r, rows, width);
        be.ropeBackward(tr, tp, tables.cos(), tables.sin(), gx, nHeads, headDim);
        float[] g1 = gx.toHost();
        checkGrad("rope", g1, fd(d(x), d(r), v -> DoubleOps.rope(v, pos, cos, sin, rows, nHeads, headDim)));
        // the forward with the inverse table, in place, is the same backward (what SelfAttention runs)
        Tensor back = t(r.clone(), rows, width);
        be.rope(back, tp, tables.cos(), tables.inverseSin(), back, nHeads, headDim);
        float[] inverse = back.toHost();
        for (int i = 0; i < g1.length; i++) {
            assertEquals(g1[i], inverse[i], 0f, "rope with the inverse table, element " + i);
        }
        be.ropeBackward(tr, tp, tables.cos(), tables.sin(), gx, nHeads, headDim);
        checkAccumulates("rope", g1, gx.toHost());
    }

    // ------------------------------------------------------------------ attention

    @Test
    void attentionCausalWindowDocument() {
        boolean[] docEnd = new boolean[7];
        docEnd[2] = true; // documents [0,3) and [3,7)
        Ranges mask = AttentionMask.selfAttention(be, 7, 3, docEnd);
        checkAttention("attention causal+window+doc", mask, 7, 7, 2, 4);
    }

    @Test
    void attentionCausalHeadDim3() {
        checkAttention("attention causal", AttentionMask.selfAttention(be, 13, 0, null), 13, 13, 1, 3);
    }

    @Test
    void attentionBatched() {
        boolean[] docEnd = new boolean[8];
        docEnd[1] = true;
        docEnd[6] = true;
        Ranges mask = AttentionMask.batched(be, 2, 4, 2, docEnd);
        checkAttention("attention batched", mask, 8, 8, 3, 2);
    }

    @Test
    void attentionCrossWithEmptyRange() {
        int[] lo = {0, 2, 3, 3, 6};
        int[] hi = {2, 5, 3, 7, 7}; // query 2 sees nothing
        Ranges mask = AttentionMask.cross(be, lo, hi);
        checkAttention("attention cross+empty", mask, 5, 7, 2, 4);
    }

    private void checkAttention(String op, Ranges mask, int tq, int tk, int nHeads, int headDim) {
        int width = nHeads * headDim;
        int[] lo = new int[tq];
        int[] hi = new int[tq];
        for (int i = 0; i < tq; i++) {
            lo[i] = mask.lo(i);
            hi[i] = mask.hi(i);
        }
        float[] q = rand(tq * width, -1.5, 1.5);
        float[] k = rand(tk * width, -1.5, 1.5);
        float[] v = rand(tk * width);
        float[] r = rand(tq * width);
        Tensor tqq = t(q, tq, width);
        Tensor tkk = t(k, tk, width);
        Tensor tvv = t(v, tk, width);
        Tensor out = zeros(tq, width);
        Tensor lse = zeros(nHeads, tq);
        be.attention(tqq, tkk, tvv, out, lse, mask, nHeads);
        double[] dq = d(q);
        double[] dk = d(k);
        double[] dv = d(v);
        float[] got = out.toHost();
        checkForward(op, got, DoubleOps.attention(dq, dk, dv, lo, hi, tq, nHeads, headDim));
        float[] gotLse = lse.toHost();
        for (int h = 0; h < nHeads; h++) {
            for (int i = 0; i < tq; i++) {
                float l = gotLse[h * tq + i];
                if (hi[i] <= lo[i]) {
                    assertEquals(Float.NEGATIVE_INFINITY, l, "lse of an empty range");
                    for (int c = 0; c < headDim; c++) {
                        assertEquals(0f, got[i * width + h * headDim + c], "output of an empty range");
                    }
                } else {
                    assertEquals(lse(dq, dk, h, i, lo[i], hi[i], width, headDim), l, 1e-5, "lse");
                }
            }
        }

        Tensor gq = zeros(tq, width);
        Tensor gk = zeros(tk, width);
        Tensor gv = zeros(tk, width);
        Tensor tr = t(r, tq, width);
        be.attentionBackward(tr, tqq, tkk, tvv, out, lse, mask, gq, gk, gv, nHeads);
        float[] gq1 = gq.toHost();
        float[] gk1 = gk.toHost();
        float[] gv1 = gv.toHost();
        double[] dr = d(r);
        checkGrad("attention dq", gq1, fd(dq, dr, x -> DoubleOps.attention(x, dk, dv, lo, hi, tq, nHeads, headDim)));
        checkGrad("attention dk", gk1, fd(dk, dr, x -> DoubleOps.attention(dq, x, dv, lo, hi, tq, nHeads, headDim)));
        checkGrad("attention dv", gv1, fd(dv, dr, x -> DoubleOps.attention(dq, dk, x, lo, hi, tq, nHeads, headDim)));
        for (int i = 0; i < tq; i++) {
            if (hi[i] <= lo[i]) {
                for (int c = 0; c < width; c++) {
                    assertEquals(0f, gq1[i * width + c], "dq of a query with an empty range");
                }
            }
        }
        be.attentionBackward(tr, tqq, tkk, tvv, out, lse, mask, gq, gk, gv, nHeads);
        checkAccumulates("attention dq", gq1, gq.toHost());
        checkAccumulates("attention dk", gk1, gk.toHost());
        checkAccumulates("attention dv", gv1, gv.toHost());
    }

    private static double lse(double[] q, double[] k, int h, int i, int lo, int hi, int width, int headDim) {
        double[] s = new double[hi - lo];
        for (int j = lo; j < hi; j++) {
            double dot = 0;
            for (int c = 0; c < headDim; c++) {
                dot += q[i * width + h * headDim + c] * k[j * width + h * headDim + c];
            }
            s[j - lo] = dot / Math.sqrt(headDim);
        }
        return DoubleOps.logSumExp(s, 0, s.length);
    }

    // ------------------------------------------------------------------ cross-entropy, entropy

    @Test
    void crossEntropyWeighted() {
        int rows = 7;
        int cols = 13;
        int[] targets = {3, 0, -1, 12, 5, 5, 7}; // row 2: ignored target
        float[] w = {1f, 0.5f, 1f, 0f, 2f, 1.25f, 0.75f}; // row 3: zero weight
        checkCrossEntropy("crossEntropy weighted", targets, w, rows, cols);
    }

    @Test
    void crossEntropyUnweighted() {
        checkCrossEntropy("crossEntropy unweighted", new int[] {0, 2, -1}, null, 3, 3);
    }

    private void checkCrossEntropy(String op, int[] targets, float[] w, int rows, int cols) {
        float[] logits = rand(rows * cols, -3, 3);
        Tensor tl = t(logits, rows, cols);
        Tensor tt = be.fromHost(targets, rows);
        Tensor tw = w == null ? null : t(w, rows);
        Tensor losses = zeros(rows);
        be.crossEntropy(tl, tt, tw, losses);
        double[] dl = d(logits);
        double[] dw = w == null ? null : d(w);
        float[] gotLoss = losses.toHost();
        checkForward(op, gotLoss, DoubleOps.crossEntropy(dl, targets, dw, rows, cols));
        int counted = 0;
        for (int i = 0; i < rows; i++) {
            if (targets[i] < 0 || (w != null && w[i] == 0f)) {
                assertEquals(0f, gotLoss[i], "ignored row has loss 0");
            } else {
                counted++;
            }
        }
        float scale = 1f / counted;
        double[] r = new double[rows];
        Arrays.fill(r, scale);
        Tensor g = zeros(rows, cols);
        be.crossEntropyBackward(tl, tt, tw, scale, g);
        float[] g1 = g.toHost();
        checkGrad(op.replace("crossEntropy", "crossEntropy dlogits"), g1,
                fd(dl, r, v -> DoubleOps.crossEntropy(v, targets, dw, rows, cols)));
        for (int i = 0; i < rows; i++) {
            if (targets[i] < 0 || (w != null && w[i] == 0f)) {
                for (int c = 0; c < cols; c++) {
                    assertEquals(0f, g1[i * cols + c], "ignored row has no gradient");
                }
            }
        }
        be.crossEntropyBackward(tl, tt, tw, scale, g);
        checkAccumulates("crossEntropy", g1, g.toHost());
    }

    @Test
    void entropyForward() {
        float[] x = rand(7 * 13, -4, 4);
        Tensor out = zeros(7);
        be.entropy(t(x, 7, 13), out);
        checkForward("entropy", out.toHost(), DoubleOps.entropy(d(x), 7, 13));
    }

    // ------------------------------------------------------------------ embedding and pooling

    @Test
    void embedding() {
        int rowsTable = 5;
        int dim = 3;
        int[] ids = {2, 0, 2, 4, 2, 0, 1}; // repeated ids must accumulate in the backward; row 3 never used
        float[] table = rand(rowsTable * dim);
        float[] r = rand(ids.length * dim);
        Tensor tt = t(table, rowsTable, dim);
        Tensor ti = be.fromHost(ids, ids.length);
        Tensor out = zeros(ids.length, dim);
        be.embedding(tt, ti, out, false);
        double[] dt = d(table);
        double[] want = DoubleOps.embedding(dt, ids, dim);
        checkForward("embedding", out.toHost(), want);
        be.embedding(tt, ti, out, true);
        for (int i = 0; i < want.length; i++) {
            want[i] *= 2;
        }
        checkForward("embedding", out.toHost(), want);

        Tensor g = zeros(rowsTable, dim);
        Tensor tr = t(r, ids.length, dim);
        be.embeddingBackward(tr, ti, g);
        float[] g1 = g.toHost();
        checkGrad("embedding", g1, fd(dt, d(r), v -> DoubleOps.embedding(v, ids, dim)));
        be.embeddingBackward(tr, ti, g);
        checkAccumulates("embedding", g1, g.toHost());
    }

    @Test
    void segmentMax() {
        int rows = 13;
        int dim = 3;
        // distinct values with gaps ≫ H: a shuffled ramp
        List<Integer> perm = new ArrayList<>();
        for (int i = 0; i < rows * dim; i++) {
            perm.add(i);
        }
        Collections.shuffle(perm, rnd);
        float[] x = new float[rows * dim];
        for (int i = 0; i < x.length; i++) {
            x[i] = (perm.get(i) - rows * dim / 2f) * 0.1f;
        }
        int[] lo = {0, 3, 4, 4, 11};
        int[] hi = {3, 4, 4, 11, 13}; // segment 2 is empty
        Ranges seg = Ranges.of(be, lo, hi);
        float[] r = rand(lo.length * dim);
        Tensor tx = t(x, rows, dim);
        Tensor out = zeros(lo.length, dim);
        Tensor arg = be.allocate(DType.I32, lo.length, dim);
        be.segmentMax(tx, seg, out, arg);
        double[] dx = d(x);
        float[] got = out.toHost();
        checkForward("segmentMax", got, DoubleOps.segmentMax(dx, lo, hi, dim));
        int[] args = arg.toHostInts();
        for (int c = 0; c < dim; c++) {
            assertEquals(-1, args[2 * dim + c], "argmax of an empty segment");
            assertEquals(0f, got[2 * dim + c], "output of an empty segment");
        }

        Tensor g = zeros(rows, dim);
        Tensor tr = t(r, lo.length, dim);
        be.segmentMaxBackward(tr, arg, g);
        float[] g1 = g.toHost();
        checkGrad("segmentMax", g1, fd(dx, d(r), v -> DoubleOps.segmentMax(v, lo, hi, dim)));
        be.segmentMaxBackward(tr, arg, g);
        checkAccumulates("segmentMax", g1, g.toHost());
    }

    // ------------------------------------------------------------------ optimiser

    @ParameterizedTest(name = "step={0}")
    @CsvSource({"1", "3"})
    void adamw(int step) {
        int n = 13;
        float lr = 1e-2f;
        float beta1 = 0.9f;
        float beta2 = 0.95f;
        float eps = 1e-8f;
        float wd = 0.1f;
        float[] p = rand(n);
        float[] g = rand(n);
        float[] m = step == 1 ? new float[n] : rand(n, -0.1, 0.1);
        float[] v = step == 1 ? new float[n] : rand(n, 0, 0.05);
        g[0] = 0f; // zero gradient with zero moments: only the decay moves p (step 1)
        Tensor tp = t(p, n);
        Tensor tg = t(g, n);
        Tensor tm = t(m, n);
        Tensor tv = t(v, n);
        be.adamw(tp, tg, tm, tv, lr, beta1, beta2, eps, wd, step);
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2 = 1 - Math.pow(beta2, step);
        double[] wantP = new double[n];
        double[] wantM = new double[n];
        double[] wantV = new double[n];
        for (int i = 0; i < n; i++) {
            double pi = p[i] * (1 - (double) lr * wd);
            wantM[i] = beta1 * (double) m[i] + (1 - (double) beta1) * g[i];
            wantV[i] = beta2 * (double) v[i] + (1 - (double) beta2) * g[i] * (double) g[i];
            wantP[i] = pi - lr / bc1 * wantM[i] / (Math.sqrt(wantV[i]) / Math.sqrt(bc2) + eps);
        }
        float[] gotP = tp.toHost();
        float[] gotM = tm.toHost();
        float[] gotV = tv.toHost();
        for (int i = 0; i < n; i++) {
            assertEquals(wantM[i], gotM[i], 1e-7 + 1e-6 * Math.abs(wantM[i]), "m[" + i + "]");
            assertEquals(wantV[i], gotV[i], 1e-9 + 1e-6 * Math.abs(wantV[i]), "v[" + i + "]");
            // the update is lr-sized: compare the step itself to 1e-4 relative of lr
            assertEquals(wantP[i], gotP[i], 2e-7 + 1e-4 * lr, "p[" + i + "]");
        }
        if (step == 1) {
            assertEquals(p[0] * (1 - (double) lr * wd), gotP[0], 1e-7, "zero gradient at step 1: decay only");
            for (int i = 1; i < n; i++) {
                // at step 1 with zero moments the bias-corrected step is lr·sign(g) (up to ε)
                double moved = gotP[i] - p[i] * (1 - (double) lr * wd);
                assertEquals(-lr * Math.signum(g[i]), moved, 1e-6, "step-1 AdamW moves by lr·sign(g)");
            }
        }
    }
}
