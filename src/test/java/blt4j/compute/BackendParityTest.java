package blt4j.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every op of a backend against {@link ReferenceBackend}, at awkward sizes (1, 3, 7, 13, 65, 127, 509 and one large
 * size, one dimension swept at a time), on views with nonzero offsets, with accumulation on and off. Outputs must
 * satisfy |x − ref| ≤ 1e-5 + 1e-4·max|ref|, and nothing outside a view may change. Subclasses only say which
 * backend to build ({@code CpuBackendParityTest}; the OpenCL backend reuses this class).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendParityTest {

    protected static final int[] SIZES = {1, 3, 7, 13, 65, 127, 509};
    protected static final int LARGE_ELEMENTWISE = (1 << 17) + 3;

    protected abstract Backend createBackend();

    protected Backend be;
    protected Backend ref;
    private final Random rnd = new Random(20240611L);

    @BeforeAll
    void open() {
        be = createBackend();
        ref = new ReferenceBackend();
    }

    @AfterAll
    void closeBackends() {
        // be is null when createBackend aborted the class (no OpenCL runtime): the skip stays a skip
        if (be != null) {
            be.close();
        }
        if (ref != null) {
            ref.close();
        }
    }

    // ------------------------------------------------------------------ helpers

    /** The same data on both backends, each a view at a nonzero offset inside a larger random-filled parent. */
    protected final class Pair {
        final Tensor r;
        final Tensor b;
        final Tensor rParent;
        final Tensor bParent;

        Pair(float[] data, int... shape) {
            int n = Tensor.checkedSize(shape);
            int off = 1 + rnd.nextInt(5);
            float[] parent = new float[n + off + 3];
            for (int i = 0; i < parent.length; i++) {
                parent[i] = rnd.nextFloat() * 2 - 1;
            }
            System.arraycopy(data, 0, parent, off, n);
            rParent = ref.fromHost(parent, parent.length);
            bParent = be.fromHost(parent, parent.length);
            r = rParent.view(off, shape);
            b = bParent.view(off, shape);
        }

        void check(String what) {
            assertClose(what, ref.toHost(rParent), be.toHost(bParent));
        }
    }

    protected final class IntPair {
        final Tensor r;
        final Tensor b;

        IntPair(int[] data, int... shape) {
            int off = 2;
            int[] parent = new int[data.length + off + 1];
            System.arraycopy(data, 0, parent, off, data.length);
            r = ref.fromHost(parent, parent.length).view(off, shape);
            b = be.fromHost(parent, parent.length).view(off, shape);
        }
    }

    protected Pair rand(float scale, int... shape) {
        float[] d = new float[Tensor.checkedSize(shape)];
        for (int i = 0; i < d.length; i++) {
            d[i] = (rnd.nextFloat() * 2 - 1) * scale;
        }
        return new Pair(d, shape);
    }

    protected Pair rand(int... shape) {
        return rand(1f, shape);
    }

    protected static void assertClose(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        float max = 0f;
        for (float v : expected) {
            if (Float.isFinite(v)) {
                max = Math.max(max, Math.abs(v));
            }
        }
        double tol = 1e-5 + 1e-4 * max;
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i];
            float a = actual[i];
            if (Float.isNaN(a) && !Float.isNaN(e)) {
                fail(what + ": NaN at " + i + " (expected " + e + ")");
            }
            if (e == a) {
                continue;
            }
            if (!Float.isFinite(e) || !Float.isFinite(a) || Math.abs(a - e) > tol) {
                fail(what + ": element " + i + " of " + expected.length + " is " + a + ", expected " + e + " (tol " + tol + ")");
            }
        }
    }

    private static String dims(String op, int... d) {
        StringBuilder sb = new StringBuilder(op);
        for (int x : d) {
            sb.append(' ').append(x);
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ elementwise

    private int[] elementwiseSizes() {
        int[] s = Arrays.copyOf(SIZES, SIZES.length + 1);
        s[SIZES.length] = LARGE_ELEMENTWISE;
        return s;
    }

    @Test
    void elementwise() {
        for (int n : elementwiseSizes()) {
            Pair a = rand(3f, n), b = rand(3f, n), out = rand(n);
            ref.add(a.r, b.r, out.r);
            be.add(a.b, b.b, out.b);
            out.check("add " + n);
            ref.axpy(0.37f, a.r, out.r);
            be.axpy(0.37f, a.b, out.b);
            out.check("axpy " + n);
            ref.scale(a.r, -1.7f, out.r);
            be.scale(a.b, -1.7f, out.b);
            out.check("scale " + n);
            ref.scale(out.r, 0.5f, out.r);
            be.scale(out.b, 0.5f, out.b);
            out.check("scale in place " + n);
            ref.copy(a.r, out.r);
            be.copy(a.b, out.b);
            out.check("copy " + n);
            ref.fill(out.r, 2.5f);
            be.fill(out.b, 2.5f);
            out.check("fill " + n);
        }
    }

    @Test
    void activations() {
        for (int n : elementwiseSizes()) {
            Pair x = rand(12f, n), up = rand(2f, n), g = rand(n), out = rand(n), dx = rand(n), dup = rand(n);
            if (n > 4) { // exp overflow regions
                float[] big = {-120f, 95f, -0f, 88.7f, -88.7f};
                float[] d = ref.toHost(x.r);
                System.arraycopy(big, 0, d, 0, big.length);
                x = new Pair(d, n);
            }
            ref.swiglu(x.r, up.r, out.r);
            be.swiglu(x.b, up.b, out.b);
            out.check("swiglu " + n);
            ref.swigluBackward(g.r, x.r, up.r, dx.r, dup.r);
            be.swigluBackward(g.b, x.b, up.b, dx.b, dup.b);
            dx.check("swigluBackward dgate " + n);
            dup.check("swigluBackward dup " + n);
        }
    }

    @Test
    void swigluMatmul() {
        for (int s : SIZES) {
            swigluMatmulCase(s, 33, 21, s % 2 == 1);
            swigluMatmulCase(13, s, 21, true);
            swigluMatmulCase(13, 19, s, false);
        }
        swigluMatmulCase(150, 70, 300, true);   // past a row block and a depth block of the cpu tiles
    }

    /** out = silu(x·w1ᵀ) ⊙ (x·w3ᵀ) with the weights registered (a backend's packed path where it has one). */
    private void swigluMatmulCase(int m, int n, int k, boolean keep) {
        Pair x = rand(m, k), w1 = rand(n, k), w3 = rand(n, k), gate = rand(m, n), up = rand(m, n), out = rand(m, n);
        be.registerWeights(w1.bParent);
        be.registerWeights(w3.bParent);
        ref.swigluMatmul(x.r, w1.r, w3.r, gate.r, up.r, out.r, true);
        be.swigluMatmul(x.b, w1.b, w3.b, gate.b, up.b, out.b, keep);
        String what = dims("swigluMatmul m/n/k", m, n, k) + " keep=" + keep;
        out.check(what);
        if (keep) {
            gate.check(what + " gate");
            up.check(what + " up");
        }
    }

    @Test
    void adamwAndNorms() {
        for (int n : elementwiseSizes()) {
            Pair p = rand(n), g = rand(0.1f, n), m = rand(0.01f, n);
            float[] vv = new float[n];
            for (int i = 0; i < n; i++) {
                vv[i] = rnd.nextFloat() * 1e-3f;
            }
            Pair v = new Pair(vv, n);
            for (int step = 1; step <= 3; step++) {
                ref.adamw(p.r, g.r, m.r, v.r, 1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, step);
                be.adamw(p.b, g.b, m.b, v.b, 1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, step);
            }
            p.check("adamw p " + n);
            m.check("adamw m " + n);
            v.check("adamw v " + n);
            double e = ref.sumOfSquares(g.r);
            double a = be.sumOfSquares(g.b);
            assertTrue(Math.abs(a - e) <= 1e-5 + 1e-4 * Math.abs(e), "sumOfSquares " + n + ": " + a + " vs " + e);
            double ne = ref.clipGradNorm(g.r, 0.5);
            double na = be.clipGradNorm(g.b, 0.5);
            assertTrue(Math.abs(na - ne) <= 1e-5 + 1e-4 * ne, "clipGradNorm " + n);
            g.check("clipGradNorm " + n);
        }
    }

    // ------------------------------------------------------------------ matmul

    private void matmulCase(int batch, int m, int n, int k, boolean ta, boolean tb, boolean acc) {
        int[] as = ta ? new int[] {k, m} : new int[] {m, k};
        int[] bs = tb ? new int[] {n, k} : new int[] {k, n};
        int[] cs = {m, n};
        if (batch > 0) {
            as = new int[] {batch, as[0], as[1]};
            bs = new int[] {batch, bs[0], bs[1]};
            cs = new int[] {batch, m, n};
        }
        Pair a = rand(as), b = rand(bs), c = rand(cs);
        ref.matmul(a.r, ta, b.r, tb, c.r, acc);
        runMatmul(a.b, ta, b.b, tb, c.b, acc);
        c.check(dims("matmul b/m/n/k", batch, m, n, k) + " ta=" + ta + " tb=" + tb + " acc=" + acc);
    }

    /** The backend's matmul; a subclass may route it to one kernel variant. */
    protected void runMatmul(Tensor a, boolean ta, Tensor b, boolean tb, Tensor c, boolean acc) {
        be.matmul(a, ta, b, tb, c, acc);
    }

    @Test
    protected void matmulSweep() {
        int base = 33;
        for (int combo = 0; combo < 4; combo++) {
            boolean ta = (combo & 1) != 0;
            boolean tb = (combo & 2) != 0;
            for (int s : SIZES) {
                boolean acc = (s & 2) != 0;
                matmulCase(0, s, base, 21, ta, tb, acc);
                matmulCase(0, base, s, 21, ta, tb, !acc);
                matmulCase(0, base, 19, s, ta, tb, acc);
            }
        }
    }

    @Test
    protected void matmulLargeAndBatched() {
        for (int combo = 0; combo < 4; combo++) {
            boolean ta = (combo & 1) != 0;
            boolean tb = (combo & 2) != 0;
            matmulCase(0, 300, 283, 310, ta, tb, combo % 2 == 0);
            matmulCase(3, 13, 65, 7, ta, tb, true);
            matmulCase(2, 65, 40, 127, ta, tb, false);
            matmulCase(1, 7, 13, 3, ta, tb, false);
            matmulCase(4, 1, 13, 33, ta, tb, false);
        }
    }

    @Test
    void matrixVector() {
        for (int combo = 0; combo < 4; combo++) {
            boolean ta = (combo & 1) != 0;
            boolean tb = (combo & 2) != 0;
            for (boolean acc : new boolean[] {false, true}) {
                matmulCase(0, 1, 509, 300, ta, tb, acc);
                matmulCase(0, 509, 1, 300, ta, tb, acc);
                matmulCase(0, 1, 1, 127, ta, tb, acc);
                matmulCase(0, 1, 1030, 1, ta, tb, acc);
                matmulCase(0, 3, 5, 0, ta, tb, acc);
                matmulCase(0, 1, 7, 0, ta, tb, acc);
            }
        }
    }

    // ------------------------------------------------------------------ normalisation, RoPE

    @Test
    void rmsNorm() {
        for (int s : SIZES) {
            rmsNormCase(s, 64);
            rmsNormCase(17, s);
        }
        rmsNormCase(1024, 256);
    }

    private void rmsNormCase(int rows, int d) {
        Pair x = rand(2f, rows, d), w = rand(d), out = rand(rows, d), rstd = rand(rows), g = rand(rows, d), dx = rand(rows, d),
                dw = rand(d);
        ref.rmsNorm(x.r, w.r, out.r, rstd.r, 1e-5f);
        be.rmsNorm(x.b, w.b, out.b, rstd.b, 1e-5f);
        out.check(dims("rmsNorm", rows, d));
        rstd.check(dims("rmsNorm rstd", rows, d));
        ref.rmsNormBackward(g.r, x.r, w.r, rstd.r, dx.r, dw.r);
        be.rmsNormBackward(g.b, x.b, w.b, rstd.b, dx.b, dw.b);
        dx.check(dims("rmsNormBackward dx", rows, d));
        dw.check(dims("rmsNormBackward dw", rows, d));
    }

    @Test
    void rope() {
        for (int s : SIZES) {
            ropeCase(s, 2, 16);
        }
        for (int hd : new int[] {2, 6, 8, 14, 16, 64}) {
            ropeCase(13, 3, hd);
        }
        ropeCase(1024, 4, 64);
    }

    private void ropeCase(int rows, int heads, int headDim) {
        int maxPos = rows + 5;
        float[][] cs = RopeTables.hostTables(10000.0, headDim, maxPos);
        Pair cos = new Pair(cs[0], maxPos, headDim / 2);
        Pair sin = new Pair(cs[1], maxPos, headDim / 2);
        int[] pos = new int[rows];
        for (int i = 0; i < rows; i++) {
            pos[i] = rnd.nextInt(maxPos);
        }
        IntPair p = new IntPair(pos, rows);
        int w = heads * headDim;
        Pair x = rand(rows, w), out = rand(rows, w), dx = rand(rows, w);
        ref.rope(x.r, p.r, cos.r, sin.r, out.r, heads, headDim);
        be.rope(x.b, p.b, cos.b, sin.b, out.b, heads, headDim);
        out.check(dims("rope", rows, heads, headDim));
        ref.ropeBackward(x.r, p.r, cos.r, sin.r, dx.r, heads, headDim);
        be.ropeBackward(x.b, p.b, cos.b, sin.b, dx.b, heads, headDim);
        dx.check(dims("ropeBackward", rows, heads, headDim));
        ref.rope(x.r, p.r, cos.r, sin.r, x.r, heads, headDim);
        be.rope(x.b, p.b, cos.b, sin.b, x.b, heads, headDim);
        x.check(dims("rope in place", rows, heads, headDim));
    }

    // ------------------------------------------------------------------ attention

    private void attentionCase(String what, int tq, int tk, int heads, int headDim, int[] lo, int[] hi) {
        int w = heads * headDim;
        Ranges mr = Ranges.of(ref, lo, hi);
        Ranges mb = Ranges.of(be, lo, hi);
        Pair q = rand(2f, tq, w), k = rand(2f, tk, w), v = rand(tk, w), out = rand(tq, w), lse = rand(heads, tq);
        ref.attention(q.r, k.r, v.r, out.r, lse.r, mr, heads);
        be.attention(q.b, k.b, v.b, out.b, lse.b, mb, heads);
        String name = what + dims("", tq, tk, heads, headDim);
        out.check("attention out " + name);
        lse.check("attention lse " + name);
        for (int i = 0; i < tq; i++) {
            if (hi[i] <= lo[i]) {
                float[] o = be.toHost(out.b);
                for (int d = 0; d < w; d++) {
                    assertEquals(0f, o[i * w + d], "empty range must give 0 output, " + name);
                }
            }
        }
        Pair g = rand(tq, w), dq = rand(tq, w), dk = rand(tk, w), dv = rand(tk, w);
        ref.attentionBackward(g.r, q.r, k.r, v.r, out.r, lse.r, mr, dq.r, dk.r, dv.r, heads);
        be.attentionBackward(g.b, q.b, k.b, v.b, out.b, lse.b, mb, dq.b, dk.b, dv.b, heads);
        dq.check("attentionBackward dq " + name);
        dk.check("attentionBackward dk " + name);
        dv.check("attentionBackward dv " + name);
    }

    private void selfCase(int t, int heads, int headDim, int window, boolean docs) {
        boolean[] docEnd = null;
        if (docs) {
            docEnd = new boolean[t];
            for (int i = 0; i < t; i++) {
                docEnd[i] = rnd.nextInt(17) == 0;
            }
        }
        Ranges m = AttentionMask.selfAttention(ref, t, window, docEnd);
        int[] lo = ref.toHostInts(m.lo());
        int[] hi = ref.toHostInts(m.hi());
        attentionCase("self w=" + window + " docs=" + docs, t, t, heads, headDim, lo, hi);
    }

    @Test
    void attentionSelf() {
        for (int s : SIZES) {
            selfCase(s, 2, 16, 0, false);
            selfCase(s, 3, 8, 5, true);
        }
        for (int hd : new int[] {1, 3, 7, 13, 64}) {
            selfCase(40, 4, hd, 9, true);
        }
        selfCase(300, 4, 64, 128, true);
        selfCase(257, 1, 32, 0, false);
        selfCase(100, 3, 16, 0, true);
    }

    @Test
    void attentionOverBatchedRowsTwiceWithTheSameShapes() {
        // rows of a batch, each causal on its own keys (the models' training batches): a thread's K and V panels are
        // packed as its tiles reach them and must not outlive the call, so a second call on new data with the same
        // shapes, windowed or not, must match too
        for (int window : new int[] {0, 40}) {
            for (int call = 0; call < 2; call++) {
                Ranges m = AttentionMask.batched(ref, 3, 101, window, null);
                attentionCase("batched w=" + window + " call " + call, 303, 303, 3, 16, ref.toHostInts(m.lo()),
                        ref.toHostInts(m.hi()));
            }
        }
    }

    @Test
    void attentionCrossAndEmpty() {
        for (int s : SIZES) {
            crossCase(s, 2 * s + 1, 4, 8);
            crossCase(13, s, 3, 16);
        }
        // all ranges empty
        attentionCase("all empty", 5, 3, 2, 4, new int[5], new int[5]);
        attentionCase("no keys", 4, 0, 2, 4, new int[4], new int[4]);
        crossCase(200, 300, 2, 64);
    }

    @Test
    void attentionOverTheEndOfALongCache() {
        // a cached decoding step: few queries whose windows start far into the keys (only those blocks are read)
        for (int tk : new int[] {97, 300, 1031}) {
            for (int tq : new int[] {1, 2, 5, 9, 16, 17, 31}) {
                int[] lo = new int[tq];
                int[] hi = new int[tq];
                for (int i = 0; i < tq; i++) {
                    hi[i] = tk - tq + 1 + i;
                    lo[i] = Math.max(0, hi[i] - 37);
                }
                attentionCase("cache end tk=" + tk + " tq=" + tq, tq, tk, 3, 8, lo, hi);
            }
        }
        // a speculative check over a 512-key window, at head dims that are not a multiple of the 8 columns per pass
        for (int hd : new int[] {1, 7, 32, 64}) {
            int tq = 9, tk = 600;
            int[] lo = new int[tq];
            int[] hi = new int[tq];
            for (int i = 0; i < tq; i++) {
                hi[i] = tk - tq + 1 + i;
                lo[i] = Math.max(0, hi[i] - 512);
            }
            attentionCase("check hd=" + hd, tq, tk, 4, hd, lo, hi);
        }
        // one query sees nothing: the others still get their blocks
        attentionCase("cache end, one empty", 3, 200, 2, 8, new int[] {150, 190, 190}, new int[] {180, 200, 190});
    }

    /** Random ranges, some empty, not monotone. */
    private void crossCase(int tq, int tk, int heads, int headDim) {
        int[] lo = new int[tq];
        int[] hi = new int[tq];
        for (int i = 0; i < tq; i++) {
            int a = rnd.nextInt(tk + 1);
            int b = rnd.nextInt(tk + 1);
            if (rnd.nextInt(5) == 0) {
                b = a;
            }
            lo[i] = Math.min(a, b);
            hi[i] = Math.max(a, b);
        }
        attentionCase("cross", tq, tk, heads, headDim, lo, hi);
    }

    @Test
    void attentionBackwardIsDeterministic() {
        int t = 200;
        int heads = 3;
        int hd = 16;
        int w = heads * hd;
        Ranges m = AttentionMask.selfAttention(be, t, 50, null);
        Pair q = rand(t, w), k = rand(t, w), v = rand(t, w), out = rand(t, w), lse = rand(heads, t), g = rand(t, w);
        be.attention(q.b, k.b, v.b, out.b, lse.b, m, heads);
        float[][] first = null;
        for (int rep = 0; rep < 3; rep++) {
            Tensor dq = be.zeros(t, w), dk = be.zeros(t, w), dv = be.zeros(t, w);
            be.attentionBackward(g.b, q.b, k.b, v.b, out.b, lse.b, m, dq, dk, dv, heads);
            float[][] now = {dq.toHost(), dk.toHost(), dv.toHost()};
            if (first == null) {
                first = now;
            } else {
                for (int i = 0; i < 3; i++) {
                    assertArrayEquals(first[i], now[i], "attention backward must be bitwise repeatable");
                }
            }
        }
    }

    // ------------------------------------------------------------------ loss, entropy

    @Test
    void lossAndEntropy() {
        for (int s : SIZES) {
            lossCase(s, 260);
            lossCase(9, s);
        }
        lossCase(1024, 260);
    }

    private void lossCase(int rows, int cols) {
        String name = dims("", rows, cols);
        Pair x = rand(8f, rows, cols);

        int[] targets = new int[rows];
        float[] wts = new float[rows];
        for (int i = 0; i < rows; i++) {
            targets[i] = rnd.nextInt(8) == 0 ? -1 : rnd.nextInt(cols);
            wts[i] = rnd.nextInt(6) == 0 ? 0f : rnd.nextFloat();
        }
        IntPair t = new IntPair(targets, rows);
        Pair wt = new Pair(wts, rows);
        for (boolean weighted : new boolean[] {false, true}) {
            Pair losses = rand(rows), dl = rand(rows, cols);
            ref.crossEntropy(x.r, t.r, weighted ? wt.r : null, losses.r);
            be.crossEntropy(x.b, t.b, weighted ? wt.b : null, losses.b);
            losses.check("crossEntropy weighted=" + weighted + name);
            ref.crossEntropyBackward(x.r, t.r, weighted ? wt.r : null, 0.25f, dl.r);
            be.crossEntropyBackward(x.b, t.b, weighted ? wt.b : null, 0.25f, dl.b);
            dl.check("crossEntropyBackward weighted=" + weighted + name);
        }
        Pair h = rand(rows);
        ref.entropy(x.r, h.r);
        be.entropy(x.b, h.b);
        h.check("entropy" + name);
    }

    // ------------------------------------------------------------------ embedding, pooling

    @Test
    void embedding() {
        for (int s : SIZES) {
            embeddingCase(s, 50, 64);
            embeddingCase(20, s, 16);
            embeddingCase(20, 11, s);
        }
        embeddingCase(4096, 300, 128);
    }

    private void embeddingCase(int n, int tableRows, int d) {
        String name = dims("", n, tableRows, d);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = rnd.nextInt(Math.min(tableRows, 1 + rnd.nextInt(tableRows))); // repeats are common
        }
        IntPair id = new IntPair(ids, n);
        Pair table = rand(tableRows, d), out = rand(n, d), g = rand(n, d), dt = rand(tableRows, d);
        for (boolean acc : new boolean[] {false, true}) {
            ref.embedding(table.r, id.r, out.r, acc);
            be.embedding(table.b, id.b, out.b, acc);
            out.check("embedding acc=" + acc + name);
        }
        ref.embeddingBackward(g.r, id.r, dt.r);
        be.embeddingBackward(g.b, id.b, dt.b);
        dt.check("embeddingBackward" + name);
    }

    @Test
    void segmentMax() {
        for (int s : SIZES) {
            segmentCase(s, 3 * s + 2, 32);
            segmentCase(9, 40, s);
        }
        segmentCase(1000, 4096, 128);
    }

    private void segmentCase(int segs, int rows, int d) {
        String name = dims("", segs, rows, d);
        int[] lo = new int[segs];
        int[] hi = new int[segs];
        for (int i = 0; i < segs; i++) {
            int a = rnd.nextInt(rows + 1);
            int len = rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(7);
            lo[i] = a;
            hi[i] = Math.min(rows, a + len);
        }
        float[] xd = new float[rows * d];
        for (int i = 0; i < xd.length; i++) {
            xd[i] = rnd.nextInt(9) - 4; // many ties: the first row must win
        }
        Pair x = new Pair(xd, rows, d), out = rand(segs, d), g = rand(segs, d), dx = rand(rows, d);
        Tensor ar = ref.allocate(DType.I32, segs, d);
        Tensor ab = be.allocate(DType.I32, segs, d);
        ref.segmentMax(x.r, Ranges.of(ref, lo, hi), out.r, ar);
        be.segmentMax(x.b, Ranges.of(be, lo, hi), out.b, ab);
        out.check("segmentMax" + name);
        assertArrayEquals(ref.toHostInts(ar), be.toHostInts(ab), "segmentMax argmax" + name);
        ref.segmentMaxBackward(g.r, ar, dx.r);
        be.segmentMaxBackward(g.b, ab, dx.b);
        dx.check("segmentMaxBackward" + name);
    }

    // ------------------------------------------------------------------ index validation

    /** The op throws an IllegalArgumentException that starts with its name and mentions the bad value. */
    protected static void assertRejected(String op, String bad, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run, op);
        assertTrue(e.getMessage().startsWith(op + ":") && e.getMessage().contains(bad), e.getMessage());
    }

    /** Checked before any kernel runs: the output keeps its old contents. */
    private static void assertUntouched(Backend b, Tensor t, float value) {
        for (float v : b.toHost(t)) {
            assertEquals(value, v, "a rejected op must not have run its kernel");
        }
    }

    @Test
    void badEmbeddingIdsAreRejected() {
        for (Backend b : new Backend[] {ref, be}) {
            Tensor table = b.zeros(10, 4), out = b.zeros(3, 4);
            b.fill(out, 7f);
            assertRejected("embedding", "id 10 at index 1 is outside the table of 10 rows",
                    () -> b.embedding(table, b.fromHost(new int[] {1, 10, 2}, 3), out, false));
            assertRejected("embedding", "id -1", () -> b.embedding(table, b.fromHost(new int[] {1, -1, 2}, 3), out, true));
            assertUntouched(b, out, 7f);
            b.fill(table, 3f);
            assertRejected("embeddingBackward", "id 11", () -> b.embeddingBackward(out, b.fromHost(new int[] {0, 0, 11}, 3), table));
            assertUntouched(b, table, 3f);
            // upload into a reused ids tensor, and a view whose parent holds out-of-range values outside it
            Tensor ids = b.allocate(DType.I32, 3);
            b.upload(new int[] {9, 0, 4}, ids);
            b.embedding(table, ids, out, false);
            b.upload(new int[] {9, 12, 4}, ids);
            assertRejected("embedding", "id 12", () -> b.embedding(table, ids, out, false));
            Tensor parent = b.fromHost(new int[] {50, 1, 2, 3, 50}, 5);
            b.embedding(table, parent.view(1, 3), out, false);
            assertRejected("embedding", "id 50", () -> b.embedding(table, parent.view(2, 3), out, false));
            // a device copy carries its source's values
            Tensor copied = b.allocate(DType.I32, 3);
            b.copy(parent.view(2, 3), copied);
            assertRejected("embedding", "id 50", () -> b.embedding(table, copied, out, false));
            b.copy(parent.view(1, 3), copied);
            b.embedding(table, copied, out, false);
            assertArrayEquals(new float[] {3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, b.toHost(out), b.name());
        }
    }

    @Test
    void badTargetsAreRejected() {
        for (Backend b : new Backend[] {ref, be}) {
            Tensor logits = b.zeros(2, 5), losses = b.zeros(2), dl = b.zeros(2, 5);
            b.fill(losses, 7f);
            b.fill(dl, 7f);
            Tensor bad = b.fromHost(new int[] {0, 5}, 2);
            assertRejected("crossEntropy", "target 5 at index 1 is outside the vocabulary of 5 (a negative target skips",
                    () -> b.crossEntropy(logits, bad, null, losses));
            assertRejected("crossEntropyBackward", "target 5", () -> b.crossEntropyBackward(logits, bad, null, 1f, dl));
            // a zero weight does not excuse a target outside the vocabulary: weights live on the device
            Tensor weights = b.fromHost(new float[] {1f, 0f}, 2);
            assertRejected("crossEntropy", "target 5", () -> b.crossEntropy(logits, bad, weights, losses));
            assertUntouched(b, losses, 7f);
            assertUntouched(b, dl, 7f);
            Tensor skip = b.fromHost(new int[] {-1, 4}, 2); // negative targets skip their row
            b.crossEntropy(logits, skip, null, losses);
            float[] l = b.toHost(losses);
            assertEquals(0f, l[0]);
            assertEquals((float) Math.log(5), l[1], 1e-6f);
        }
    }

    @Test
    void badRopePositionsAreRejected() {
        for (Backend b : new Backend[] {ref, be}) {
            RopeTables tables = RopeTables.build(b, 10000, 4, 7);
            Tensor x = b.zeros(2, 8), out = b.zeros(2, 8);
            b.fill(out, 7f);
            assertRejected("rope", "position 7", () -> b.rope(x, b.fromHost(new int[] {0, 7}, 2), tables.cos(), tables.sin(), out, 2, 4));
            assertRejected("rope", "position -1", () -> b.rope(x, b.fromHost(new int[] {-1, 0}, 2), tables.cos(), tables.sin(), out, 2, 4));
            assertRejected("ropeBackward", "position 9",
                    () -> b.ropeBackward(x, b.fromHost(new int[] {9, 0}, 2), tables.cos(), tables.sin(), out, 2, 4));
            assertUntouched(b, out, 7f);
            b.rope(x, b.fromHost(new int[] {6, 0}, 2), tables.cos(), tables.sin(), out, 2, 4);
            assertUntouched(b, out, 0f);
        }
    }

    @Test
    void describes() {
        assertTrue(!be.describe().isBlank());
        assertTrue(!be.name().isBlank());
    }
}
