package blt4j.compute.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import blt4j.compute.AttentionMask;
import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.ReferenceBackend;
import blt4j.compute.RopeTables;
import blt4j.compute.Tensor;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every {@link Backend} op against {@link ReferenceBackend} at awkward sizes, sweeping one dimension at a time.
 * Bound: |x − ref| ≤ 1e-5 + 1e-4·max|ref| (per checked tensor). Backend-agnostic: a subclass only supplies
 * {@link #createBackend()}, so this can later move onto the shared {@code BackendParityTest} base class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendParitySuite {
    /** The sizes every sweep visits; {@link #LARGE} is added where the op is cheap enough in the reference. */
    protected static final int[] SIZES = {1, 3, 7, 13, 65, 127, 509};
    protected static final double ABS = 1e-5;
    protected static final double REL = 1e-4;

    protected Backend backend;
    protected final ReferenceBackend ref = new ReferenceBackend();
    private long seed = 1234;

    protected abstract Backend createBackend();

    @BeforeAll
    void setUpBackend() {
        backend = createBackend();
    }

    @AfterAll
    void closeBackend() {
        if (backend != null) {
            backend.close();
        }
    }

    // ------------------------------------------------------------------ pairs of tensors

    /** The same data on the reference and on the backend under test. */
    protected final class P {
        final Tensor r;
        final Tensor b;

        P(Tensor r, Tensor b) {
            this.r = r;
            this.b = b;
        }

        P view(int offset, int... shape) {
            return new P(r.view(offset, shape), b.view(offset, shape));
        }
    }

    protected P randn(int... shape) {
        Random rnd = new Random(seed++);
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] data = new float[n];
        for (int i = 0; i < n; i++) {
            data[i] = (float) rnd.nextGaussian();
        }
        return new P(ref.fromHost(data, shape), backend.fromHost(data, shape));
    }

    protected P zeros(int... shape) {
        return new P(ref.zeros(shape), backend.zeros(shape));
    }

    protected P ints(int[] data, int... shape) {
        return new P(ref.fromHost(data, shape), backend.fromHost(data, shape));
    }

    protected Ranges[] ranges(int[] lo, int[] hi) {
        return new Ranges[] {Ranges.of(ref, lo, hi), Ranges.of(backend, lo, hi)};
    }

    protected void check(String what, P p) {
        check(what, p, REL);
    }

    protected void check(String what, P p, double rel) {
        float[] want = p.r.toHost();
        float[] got = p.b.toHost();
        assertClose(what, want, got, rel);
    }

    protected static void assertClose(String what, float[] want, float[] got, double rel) {
        assertEquals(want.length, got.length, what + ": length");
        double max = 0;
        for (float v : want) {
            if (Float.isFinite(v)) {
                max = Math.max(max, Math.abs(v));
            }
        }
        double tol = ABS + rel * max;
        for (int i = 0; i < want.length; i++) {
            float w = want[i];
            float g = got[i];
            if (Float.isNaN(w) || Float.isInfinite(w)) {
                if (Float.compare(w, g) != 0) {
                    fail(what + ": element " + i + " expected " + w + " got " + g);
                }
                continue;
            }
            if (!(Math.abs(g - w) <= tol)) {
                fail(what + ": element " + i + " of " + want.length + " expected " + w + " got " + g + " (|diff| "
                        + Math.abs(g - w) + " > tol " + tol + ")");
            }
        }
    }

    // ------------------------------------------------------------------ memory, elementwise

    @Test
    void copyFillAndHostRoundTrip() {
        for (int n : withLarge(SIZES, 1_000_003)) {
            P x = randn(n);
            P y = zeros(n);
            ref.copy(x.r, y.r);
            backend.copy(x.b, y.b);
            check("copy n=" + n, y);
            ref.fill(y.r, 2.5f);
            backend.fill(y.b, 2.5f);
            check("fill n=" + n, y);
        }
        int[] ids = {5, -3, 7, Integer.MAX_VALUE, 0};
        assertArrayEquals(ids, backend.fromHost(ids, 5).toHostInts());
    }

    @Test
    void elementwiseOps() {
        for (int n : withLarge(SIZES, 1_000_003)) {
            P a = randn(n);
            P b = randn(n);
            P out = zeros(n);
            ref.add(a.r, b.r, out.r);
            backend.add(a.b, b.b, out.b);
            check("add n=" + n, out);
            ref.axpy(0.37f, a.r, out.r);
            backend.axpy(0.37f, a.b, out.b);
            check("axpy n=" + n, out);
            ref.scale(out.r, -1.7f, out.r);
            backend.scale(out.b, -1.7f, out.b);
            check("scale in place n=" + n, out);
            ref.mul(a.r, b.r, out.r, true);
            backend.mul(a.b, b.b, out.b, true);
            check("mul accumulate n=" + n, out);
            ref.mul(a.r, b.r, out.r, false);
            backend.mul(a.b, b.b, out.b, false);
            check("mul n=" + n, out);
            ref.silu(a.r, out.r);
            backend.silu(a.b, out.b);
            check("silu n=" + n, out);
            P g = randn(n);
            P dx = randn(n);
            ref.siluBackward(g.r, a.r, dx.r);
            backend.siluBackward(g.b, a.b, dx.b);
            check("siluBackward n=" + n, dx);
            ref.swiglu(a.r, b.r, out.r);
            backend.swiglu(a.b, b.b, out.b);
            check("swiglu n=" + n, out);
            P dgate = randn(n);
            P dup = randn(n);
            ref.swigluBackward(g.r, a.r, b.r, dgate.r, dup.r);
            backend.swigluBackward(g.b, a.b, b.b, dgate.b, dup.b);
            check("swigluBackward dgate n=" + n, dgate);
            check("swigluBackward dup n=" + n, dup);
        }
    }

    @Test
    void elementwiseOnViewsWithOffsets() {
        P big = randn(1000);
        P a = big.view(3, 13, 7);
        P b = big.view(500, 91);
        P out = big.view(900, 91);
        ref.add(a.r, b.r, out.r);
        backend.add(a.b, b.b, out.b);
        ref.swiglu(b.r, a.r, big.r.view(101, 91));
        backend.swiglu(b.b, a.b, big.b.view(101, 91));
        ref.axpy(2f, big.r.view(1, 7), big.r.view(993, 7));
        backend.axpy(2f, big.b.view(1, 7), big.b.view(993, 7));
        check("ops on views (whole buffer, nothing outside the views may change)", big);
        // overlapping copy inside one buffer
        ref.copy(big.r.view(10, 100), big.r.view(50, 100));
        backend.copy(big.b.view(10, 100), big.b.view(50, 100));
        check("overlapping copy", big);
        float[] host = new float[20];
        backend.download(big.b.view(17, 5), host, 9);
        float[] want = big.r.view(17, 5).toHost();
        for (int i = 0; i < 5; i++) {
            assertEquals(want[i], host[9 + i], 0f);
        }
    }

    // ------------------------------------------------------------------ matmul

    /** C (+)= op(A)·op(B) for the given shape on fresh random operands, checked against the reference. */
    protected void checkMatmul(String tag, int batch, int m, int n, int k, boolean ta, boolean tb, boolean acc) {
        P a = batch == 0 ? randn(ta ? new int[] {k, m} : new int[] {m, k}) : randn(ta ? new int[] {batch, k, m} : new int[] {batch, m, k});
        P b = batch == 0 ? randn(tb ? new int[] {n, k} : new int[] {k, n}) : randn(tb ? new int[] {batch, n, k} : new int[] {batch, k, n});
        P c = batch == 0 ? randn(m, n) : randn(batch, m, n);
        ref.matmul(a.r, ta, b.r, tb, c.r, acc);
        runMatmul(a.b, ta, b.b, tb, c.b, acc);
        check(tag + " matmul batch=" + batch + " m=" + m + " n=" + n + " k=" + k + " ta=" + ta + " tb=" + tb + " acc=" + acc, c);
    }

    /** The backend's matmul; subclasses may route it to a specific kernel variant. */
    protected void runMatmul(Tensor a, boolean ta, Tensor b, boolean tb, Tensor c, boolean acc) {
        backend.matmul(a, ta, b, tb, c, acc);
    }

    protected void matmulSweep(String tag) {
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0;
            boolean tb = (t & 2) != 0;
            for (boolean acc : new boolean[] {false, true}) {
                for (int s : SIZES) {
                    checkMatmul(tag, 0, s, 13, 13, ta, tb, acc);
                    checkMatmul(tag, 0, 13, s, 13, ta, tb, acc);
                    checkMatmul(tag, 0, 13, 13, s, ta, tb, acc);
                }
                checkMatmul(tag, 3, 7, 65, 13, ta, tb, acc);
                checkMatmul(tag, 1, 13, 7, 3, ta, tb, acc);
            }
        }
        checkMatmul(tag, 0, 1024, 96, 80, false, true, false);
        checkMatmul(tag, 0, 80, 1024, 96, true, false, true);
        checkMatmul(tag, 0, 33, 40, 1024, true, true, false);
    }

    @Test
    void matmulAllTransposesSizesBatchedAccumulate() {
        matmulSweep("default");
    }

    @Test
    void matmulOnViews() {
        P buf = randn(4000);
        P a = buf.view(5, 13, 7);
        P b = buf.view(777, 7, 65);
        P c = buf.view(2001, 13, 65);
        ref.matmul(a.r, false, b.r, false, c.r, true);
        runMatmul(a.b, false, b.b, false, c.b, true);
        check("matmul on views", buf);
        P a3 = buf.view(11, 3, 5, 9);
        P b3 = buf.view(1001, 3, 7, 9);
        P c3 = buf.view(3001, 3, 5, 7);
        ref.matmul(a3.r, false, b3.r, true, c3.r, false);
        runMatmul(a3.b, false, b3.b, true, c3.b, false);
        check("batched matmul on views", buf);
    }

    // ------------------------------------------------------------------ norms, rope

    @Test
    void rmsNormForwardBackward() {
        for (int s : withLarge(SIZES, 4099)) {
            rmsCase(s, 13);
            rmsCase(13, s);
        }
        rmsCase(2048, 128);
    }

    private void rmsCase(int rows, int d) {
        String tag = "rows=" + rows + " d=" + d;
        P x = randn(rows, d);
        P w = randn(d);
        P out = zeros(rows, d);
        P rstd = zeros(rows);
        ref.rmsNorm(x.r, w.r, out.r, rstd.r, 1e-5f);
        backend.rmsNorm(x.b, w.b, out.b, rstd.b, 1e-5f);
        check("rmsNorm out " + tag, out);
        check("rmsNorm rstd " + tag, rstd);
        P g = randn(rows, d);
        P dx = randn(rows, d);
        P dw = randn(d);
        ref.rmsNormBackward(g.r, x.r, w.r, rstd.r, dx.r, dw.r);
        backend.rmsNormBackward(g.b, x.b, w.b, rstd.b, dx.b, dw.b);
        check("rmsNormBackward dx " + tag, dx);
        check("rmsNormBackward dw " + tag, dw);
    }

    @Test
    void ropeForwardBackward() {
        for (int s : withLarge(SIZES, 4096)) {
            ropeCase(s, 3, 14);
        }
        for (int hd : new int[] {2, 6, 14, 64, 130}) {
            ropeCase(13, 3, hd);
        }
        for (int h : new int[] {1, 3, 7, 13}) {
            ropeCase(13, h, 8);
        }
    }

    private void ropeCase(int rows, int heads, int headDim) {
        String tag = "rows=" + rows + " heads=" + heads + " hd=" + headDim;
        int maxPos = 600;
        RopeTables tr = RopeTables.build(ref, 500000, headDim, maxPos);
        RopeTables tb = RopeTables.build(backend, 500000, headDim, maxPos);
        Random rnd = new Random(rows * 31L + headDim);
        int[] pos = new int[rows];
        for (int i = 0; i < rows; i++) {
            pos[i] = rnd.nextInt(maxPos);
        }
        P positions = ints(pos, rows);
        P x = randn(rows, heads * headDim);
        P out = zeros(rows, heads * headDim);
        ref.rope(x.r, positions.r, tr.cos(), tr.sin(), out.r, heads, headDim);
        backend.rope(x.b, positions.b, tb.cos(), tb.sin(), out.b, heads, headDim);
        check("rope " + tag, out);
        ref.rope(x.r, positions.r, tr.cos(), tr.sin(), x.r, heads, headDim);
        backend.rope(x.b, positions.b, tb.cos(), tb.sin(), x.b, heads, headDim);
        check("rope in place " + tag, x);
        P dx = randn(rows, heads * headDim);
        ref.ropeBackward(out.r, positions.r, tr.cos(), tr.sin(), dx.r, heads, headDim);
        backend.ropeBackward(out.b, positions.b, tb.cos(), tb.sin(), dx.b, heads, headDim);
        check("ropeBackward " + tag, dx);
    }

    // ------------------------------------------------------------------ attention

    /** Self-attention with causal + sliding window + documents. */
    protected void selfAttentionCase(int t, int heads, int headDim, int window, int docEvery) {
        boolean[] docEnd = new boolean[t];
        if (docEvery > 0) {
            for (int i = docEvery - 1; i < t; i += docEvery) {
                docEnd[i] = true;
            }
        }
        Ranges mr = AttentionMask.selfAttention(ref, t, window, docEnd);
        Ranges mb = AttentionMask.selfAttention(backend, t, window, docEnd);
        attentionCase("self t=" + t + " h=" + heads + " hd=" + headDim + " window=" + window + " doc=" + docEvery,
                t, t, heads, headDim, mr, mb);
    }

    protected void attentionCase(String tag, int tq, int tk, int heads, int headDim, Ranges mr, Ranges mb) {
        int w = heads * headDim;
        P q = randn(tq, w);
        P k = randn(tk, w);
        P v = randn(tk, w);
        P out = zeros(tq, w);
        P lse = zeros(heads, tq);
        ref.attention(q.r, k.r, v.r, out.r, lse.r, mr, heads);
        backend.attention(q.b, k.b, v.b, out.b, lse.b, mb, heads);
        check("attention out " + tag, out);
        check("attention lse " + tag, lse);
        P dout = randn(tq, w);
        P dq = randn(tq, w);
        P dk = randn(tk, w);
        P dv = randn(tk, w);
        ref.attentionBackward(dout.r, q.r, k.r, v.r, out.r, lse.r, mr, dq.r, dk.r, dv.r, heads);
        backend.attentionBackward(dout.b, q.b, k.b, v.b, out.b, lse.b, mb, dq.b, dk.b, dv.b, heads);
        check("attentionBackward dq " + tag, dq);
        check("attentionBackward dk " + tag, dk);
        check("attentionBackward dv " + tag, dv);
    }

    @Test
    void attentionSelfCausalWindowDocuments() {
        for (int t : SIZES) {
            selfAttentionCase(t, 2, 8, 0, 0);
            selfAttentionCase(t, 2, 8, 5, 0);
            selfAttentionCase(t, 2, 8, 0, 11);
            selfAttentionCase(t, 2, 8, 64, 100);
        }
        for (int hd : SIZES) {
            selfAttentionCase(13, 2, hd, 4, 6);
        }
        for (int h : new int[] {1, 3, 7, 13}) {
            selfAttentionCase(13, h, 4, 0, 5);
        }
        selfAttentionCase(1024, 4, 32, 256, 700);
    }

    @Test
    void attentionCrossWithEmptyRanges() {
        for (int tk : SIZES) {
            int tq = 13;
            int[] lo = new int[tq];
            int[] hi = new int[tq];
            Random rnd = new Random(tk);
            for (int i = 0; i < tq; i++) {
                if (i % 3 == 1) {
                    lo[i] = hi[i] = rnd.nextInt(tk + 1); // empty
                } else {
                    lo[i] = rnd.nextInt(tk);
                    hi[i] = lo[i] + 1 + rnd.nextInt(tk - lo[i]);
                }
            }
            Ranges[] m = ranges(lo, hi);
            attentionCase("cross tq=" + tq + " tk=" + tk, tq, tk, 3, 6, m[0], m[1]);
        }
        int[] empty = new int[7];
        Ranges[] m = ranges(empty, empty);
        attentionCase("all empty", 7, 5, 2, 4, m[0], m[1]);
    }

    // ------------------------------------------------------------------ softmax, loss, entropy

    @Test
    void softmaxLossEntropy() {
        for (int s : withLarge(SIZES, 50021)) {
            rowOpsCase(s, 13);
            rowOpsCase(13, s);
        }
        rowOpsCase(1024, 260);
    }

    private void rowOpsCase(int rows, int cols) {
        String tag = "rows=" + rows + " cols=" + cols;
        P x = randn(rows, cols);
        P y = zeros(rows, cols);
        ref.softmax(x.r, y.r);
        backend.softmax(x.b, y.b);
        check("softmax " + tag, y);
        P dout = randn(rows, cols);
        P dx = randn(rows, cols);
        ref.softmaxBackward(dout.r, y.r, dx.r);
        backend.softmaxBackward(dout.b, y.b, dx.b);
        check("softmaxBackward " + tag, dx);
        Random rnd = new Random(rows * 7L + cols);
        int[] tg = new int[rows];
        float[] wt = new float[rows];
        for (int i = 0; i < rows; i++) {
            tg[i] = i % 5 == 3 ? -1 : rnd.nextInt(cols);
            wt[i] = i % 4 == 2 ? 0f : 0.5f + rnd.nextFloat();
        }
        P targets = ints(tg, rows);
        P weights = new P(ref.fromHost(wt, rows), backend.fromHost(wt, rows));
        P losses = zeros(rows);
        for (boolean useWeights : new boolean[] {false, true}) {
            ref.crossEntropy(x.r, targets.r, useWeights ? weights.r : null, losses.r);
            backend.crossEntropy(x.b, targets.b, useWeights ? weights.b : null, losses.b);
            check("crossEntropy weights=" + useWeights + " " + tag, losses);
            P dl = randn(rows, cols);
            ref.crossEntropyBackward(x.r, targets.r, useWeights ? weights.r : null, 0.25f, dl.r);
            backend.crossEntropyBackward(x.b, targets.b, useWeights ? weights.b : null, 0.25f, dl.b);
            check("crossEntropyBackward weights=" + useWeights + " " + tag, dl);
        }
        P ent = zeros(rows);
        ref.entropy(x.r, ent.r);
        backend.entropy(x.b, ent.b);
        check("entropy " + tag, ent);
    }

    // ------------------------------------------------------------------ embedding, pooling

    @Test
    void embeddingForwardBackward() {
        for (int s : withLarge(SIZES, 8192)) {
            embeddingCase(s, 13, 50);
            embeddingCase(13, s, 50);
            embeddingCase(13, 13, s);
        }
    }

    private void embeddingCase(int n, int d, int tableRows) {
        String tag = "n=" + n + " d=" + d + " rows=" + tableRows;
        Random rnd = new Random(n * 13L + d);
        int[] idv = new int[n];
        for (int i = 0; i < n; i++) {
            idv[i] = rnd.nextInt(Math.min(tableRows, 4)) * (tableRows / Math.min(tableRows, 4)); // many repeats
        }
        P ids = ints(idv, n);
        P table = randn(tableRows, d);
        P out = randn(n, d);
        ref.embedding(table.r, ids.r, out.r, true);
        backend.embedding(table.b, ids.b, out.b, true);
        check("embedding accumulate " + tag, out);
        ref.embedding(table.r, ids.r, out.r, false);
        backend.embedding(table.b, ids.b, out.b, false);
        check("embedding " + tag, out);
        P dout = randn(n, d);
        P dtable = randn(tableRows, d);
        ref.embeddingBackward(dout.r, ids.r, dtable.r);
        backend.embeddingBackward(dout.b, ids.b, dtable.b);
        check("embeddingBackward " + tag, dtable);
    }

    @Test
    void badIdsAreReportedAtTheNextSynchronisation() {
        P table = randn(10, 4);
        P ids = ints(new int[] {1, 10, 2}, 3);
        P out = zeros(3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            backend.embedding(table.b, ids.b, out.b, false);
            backend.toHost(out.b);
        });
        assertTrue(e.getMessage().contains("embedding id 10 outside table of 10 rows"), e.getMessage());
        P logits = randn(2, 5);
        P tg = ints(new int[] {0, 5}, 2);
        P losses = zeros(2);
        e = assertThrows(IllegalArgumentException.class, () -> {
            backend.crossEntropy(logits.b, tg.b, null, losses.b);
            backend.synchronize();
        });
        assertTrue(e.getMessage().contains("target id 5 outside vocabulary of 5"), e.getMessage());
        backend.synchronize(); // the flag is cleared once reported
    }

    @Test
    void segmentMaxForwardBackward() {
        for (int s : withLarge(SIZES, 4096)) {
            segmentCase(s, 13);
            segmentCase(13, s);
        }
    }

    private void segmentCase(int segments, int d) {
        String tag = "segments=" + segments + " d=" + d;
        Random rnd = new Random(segments * 5L + d);
        int rows = segments * 3 + 2;
        int[] lo = new int[segments];
        int[] hi = new int[segments];
        for (int s = 0; s < segments; s++) {
            lo[s] = rnd.nextInt(rows);
            hi[s] = s % 4 == 1 ? lo[s] : lo[s] + rnd.nextInt(Math.min(6, rows - lo[s]) + 1); // overlapping and empty segments
        }
        Ranges[] m = ranges(lo, hi);
        float[] xs = new float[rows * d];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = rnd.nextInt(5) - 2; // many ties
        }
        P x = new P(ref.fromHost(xs, rows, d), backend.fromHost(xs, rows, d));
        P out = randn(segments, d);
        P arg = new P(ref.allocate(blt4j.compute.DType.I32, segments, d), backend.allocate(blt4j.compute.DType.I32, segments, d));
        ref.segmentMax(x.r, m[0], out.r, arg.r);
        backend.segmentMax(x.b, m[1], out.b, arg.b);
        check("segmentMax " + tag, out);
        assertArrayEquals(arg.r.toHostInts(), arg.b.toHostInts(), "segmentMax argmax " + tag);
        P dout = randn(segments, d);
        P dx = randn(rows, d);
        ref.segmentMaxBackward(dout.r, arg.r, dx.r);
        backend.segmentMaxBackward(dout.b, arg.b, dx.b);
        check("segmentMaxBackward " + tag, dx);
    }

    // ------------------------------------------------------------------ optimiser

    @Test
    void adamwAndSumOfSquares() {
        for (int n : withLarge(SIZES, 1_000_003)) {
            P p = randn(n);
            P m = zeros(n);
            P v = zeros(n);
            for (int step = 1; step <= 3; step++) {
                P g = randn(n);
                ref.adamw(p.r, g.r, m.r, v.r, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, step);
                backend.adamw(p.b, g.b, m.b, v.b, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, step);
            }
            check("adamw p n=" + n, p);
            check("adamw m n=" + n, m);
            check("adamw v n=" + n, v);
            double want = ref.sumOfSquares(p.r);
            double got = backend.sumOfSquares(p.b);
            assertEquals(want, got, 1e-6 * want + 1e-12, "sumOfSquares n=" + n);
            double nr = ref.clipGradNorm(p.r, 0.5);
            double nb = backend.clipGradNorm(p.b, 0.5);
            assertEquals(nr, nb, 1e-6 * nr);
            check("clipGradNorm n=" + n, p);
        }
        assertEquals(0.0, backend.sumOfSquares(backend.zeros(0)));
    }

    protected static int[] withLarge(int[] sizes, int large) {
        int[] out = java.util.Arrays.copyOf(sizes, sizes.length + 1);
        out[sizes.length] = large;
        return out;
    }
}
