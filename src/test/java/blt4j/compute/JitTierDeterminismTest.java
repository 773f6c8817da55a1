package blt4j.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Every cpu op must give the same bits however far the JIT has got: interpreted (the Vector API's Java fallback),
 * C1, or C2 with intrinsics. Two runs of a training job in one JVM (a resumed run, a test) otherwise drift apart in
 * the last bits. Checked two ways: in this JVM, the first call of every op against the same call after a warm-up
 * loop long enough for C2; and a child JVM with {@code -Xint} (nothing ever compiled) against this JVM warmed up.
 */
class JitTierDeterminismTest {

    /** Runs every op once on fixed inputs (fresh tensors each time); op name → every output, in order. */
    static Map<String, float[]> runAll(Backend be) {
        Map<String, float[]> out = new LinkedHashMap<>();
        Random rnd = new Random(7);
        int n = 1000 + 3;
        Tensor a = rand(be, rnd, 1f, n), b = rand(be, rnd, 1f, n), c = be.zeros(n);
        be.add(a, b, c);
        out.put("add", c.toHost());
        be.axpy(0.37f, a, c);
        out.put("axpy", c.toHost());
        be.scale(c, 1.7f, c);
        out.put("scale", c.toHost());
        Tensor x = rand(be, rnd, 6f, n);
        be.swiglu(x, b, c);
        out.put("swiglu", c.toHost());
        Tensor dgate = be.zeros(n), dup = be.zeros(n);
        be.swigluBackward(a, x, b, dgate, dup);
        out.put("swigluBackward", cat(dgate.toHost(), dup.toHost()));
        Tensor p = rand(be, rnd, 1f, n), m = be.zeros(n), v = be.zeros(n);
        be.adamw(p, a, m, v, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 3);
        out.put("adamw", cat(p.toHost(), m.toHost(), v.toHost()));
        out.put("sumOfSquares", new float[] {(float) be.sumOfSquares(x), (float) (be.sumOfSquares(x) * 1e-3)});

        for (int[] s : new int[][] {{37, 29, 45}, {64, 64, 64}, {1, 50, 70}, {50, 1, 70}, {33, 70, 1}}) {
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                int mm = s[0], nn = s[1], kk = s[2];
                Tensor ma = ta ? rand(be, rnd, 1f, kk, mm) : rand(be, rnd, 1f, mm, kk);
                Tensor mb = tb ? rand(be, rnd, 1f, nn, kk) : rand(be, rnd, 1f, kk, nn);
                Tensor mc = rand(be, rnd, 1f, mm, nn);
                be.matmul(ma, ta, mb, tb, mc, (t & 1) == 0);
                out.put("matmul " + mm + "x" + nn + "x" + kk + " " + ta + " " + tb, mc.toHost());
            }
        }

        int rows = 19, d = 45;
        Tensor xr = rand(be, rnd, 2f, rows, d), w = rand(be, rnd, 1f, d), y = be.zeros(rows, d), rstd = be.zeros(rows);
        be.rmsNorm(xr, w, y, rstd, 1e-5f);
        out.put("rmsNorm", cat(y.toHost(), rstd.toHost()));
        Tensor dx = be.zeros(rows, d), dw = be.zeros(d), g = rand(be, rnd, 1f, rows, d);
        be.rmsNormBackward(g, xr, w, rstd, dx, dw);
        out.put("rmsNormBackward", cat(dx.toHost(), dw.toHost()));

        int heads = 3, hd = 16, width = heads * hd, tr = 21;
        RopeTables tables = RopeTables.build(be, 10000, hd, 64);
        int[] pos = new int[tr];
        for (int i = 0; i < tr; i++) {
            pos[i] = (i * 7) % 64;
        }
        Tensor positions = be.fromHost(pos, tr);
        Tensor xq = rand(be, rnd, 1f, tr, width), rq = be.zeros(tr, width);
        be.rope(xq, positions, tables.cos(), tables.sin(), rq, heads, hd);
        be.ropeBackward(xq, positions, tables.cos(), tables.sin(), rq, heads, hd);
        out.put("rope", rq.toHost());

        attention(be, rnd, out, "self", 70, 70, 2, 32, AttentionMask.selfAttention(be, 70, 24, null));
        int[] lo = new int[40], hi = new int[40];
        for (int i = 0; i < 40; i++) {
            lo[i] = (i / 4) * 2;
            hi[i] = lo[i] + 2;
        }
        attention(be, rnd, out, "cross", 40, 20, 4, 8, Ranges.of(be, lo, hi));

        int sr = 9, sc = 259;
        Tensor logits = rand(be, rnd, 5f, sr, sc);
        int[] tg = new int[sr];
        for (int i = 0; i < sr; i++) {
            tg[i] = (i * 31) % sc;
        }
        Tensor targets = be.fromHost(tg, sr), losses = be.zeros(sr), dl = be.zeros(sr, sc);
        be.crossEntropy(logits, targets, null, losses);
        be.crossEntropyBackward(logits, targets, null, 1f / sr, dl);
        out.put("crossEntropy", cat(losses.toHost(), dl.toHost()));
        Tensor ent = be.zeros(sr);
        be.entropy(logits, ent);
        out.put("entropy", ent.toHost());

        Tensor table = rand(be, rnd, 1f, 11, 20), emb = be.zeros(sr, 20), dtab = be.zeros(11, 20);
        int[] ids = new int[sr];
        for (int i = 0; i < sr; i++) {
            ids[i] = (i * 5) % 11;
        }
        Tensor idt = be.fromHost(ids, sr);
        be.embedding(table, idt, emb, false);
        be.embedding(table, idt, emb, true);
        be.embeddingBackward(rand(be, rnd, 1f, sr, 20), idt, dtab);
        out.put("embedding", cat(emb.toHost(), dtab.toHost()));

        Tensor xs = rand(be, rnd, 1f, 30, 20), smax = be.zeros(4, 20), arg = be.allocate(DType.I32, 4, 20), dxs = be.zeros(30, 20);
        be.segmentMax(xs, Ranges.of(be, new int[] {0, 3, 10, 10}, new int[] {3, 10, 10, 30}), smax, arg);
        be.segmentMaxBackward(rand(be, rnd, 1f, 4, 20), arg, dxs);
        out.put("segmentMax", cat(smax.toHost(), dxs.toHost()));
        return out;
    }

    private static void attention(Backend be, Random rnd, Map<String, float[]> out, String what, int tq, int tk, int heads,
                                  int hd, Ranges mask) {
        int w = heads * hd;
        Tensor q = rand(be, rnd, 2f, tq, w), k = rand(be, rnd, 2f, tk, w), v = rand(be, rnd, 1f, tk, w);
        Tensor o = be.zeros(tq, w), lse = be.zeros(heads, tq);
        be.attention(q, k, v, o, lse, mask, heads);
        out.put("attention " + what, cat(o.toHost(), lse.toHost()));
        Tensor dq = be.zeros(tq, w), dk = be.zeros(tk, w), dv = be.zeros(tk, w);
        be.attentionBackward(rand(be, rnd, 1f, tq, w), q, k, v, o, lse, mask, dq, dk, dv, heads);
        out.put("attentionBackward " + what, cat(dq.toHost(), dk.toHost(), dv.toHost()));
    }

    private static Tensor rand(Backend be, Random rnd, float scale, int... shape) {
        float[] d = new float[Tensor.checkedSize(shape)];
        for (int i = 0; i < d.length; i++) {
            d[i] = (rnd.nextFloat() * 2 - 1) * scale;
        }
        return be.fromHost(d, shape);
    }

    private static float[] cat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] r = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, r, at, p.length);
            at += p.length;
        }
        return r;
    }

    static long bits(float[] x) {
        long h = 1125899906842597L;
        for (float f : x) {
            h = 31 * h + Float.floatToRawIntBits(f);
        }
        return h;
    }

    private static Backend backend() {
        return new CpuBackend(2, 1); // splitting forced even for small tensors
    }

    private static Map<String, float[]> warm(Backend be) {
        for (int i = 0; i < 150; i++) {
            runAll(be);
        }
        return runAll(be);
    }

    private static void assertSame(Map<String, float[]> expected, Map<String, float[]> actual, String how) {
        assertEquals(expected.keySet(), actual.keySet());
        List<String> differ = new ArrayList<>();
        for (String op : expected.keySet()) {
            float[] e = expected.get(op), a = actual.get(op);
            if (e.length != a.length || bits(e) != bits(a)) {
                differ.add(op);
            }
        }
        assertTrue(differ.isEmpty(), how + ": ops whose bits changed: " + differ);
    }

    @Test
    void firstCallEqualsCallAfterWarmUp() {
        try (Backend be = backend()) {
            Map<String, float[]> cold = runAll(be);
            assertSame(cold, warm(be), "cold vs warm in one JVM");
        }
    }

    @Test
    void interpretedJvmEqualsWarmJit() throws Exception {
        Map<String, float[]> hot;
        try (Backend be = backend()) {
            hot = warm(be);
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "-Xint", "--add-modules", "jdk.incubator.vector"));
        // the child must run the vector width this JVM runs (scripts/test repeats the kernels at MaxVectorSize=32)
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("-XX:MaxVectorSize=")) {
                cmd.add(arg);
            }
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), JitTierDeterminismTest.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectErrorStream(true);
        Process proc = pb.start();
        Map<String, Long> child = new LinkedHashMap<>();
        StringBuilder log = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("op\t")) {
                    String[] f = line.split("\t");
                    child.put(f[1], Long.parseLong(f[2]));
                } else {
                    log.append(line).append('\n');
                }
            }
        }
        if (!proc.waitFor(5, TimeUnit.MINUTES)) {
            proc.destroyForcibly();
            fail("interpreted child JVM timed out");
        }
        assertEquals(0, proc.exitValue(), "child JVM failed:\n" + log);
        assertEquals(hot.keySet(), child.keySet());
        List<String> differ = new ArrayList<>();
        for (Map.Entry<String, float[]> e : hot.entrySet()) {
            if (bits(e.getValue()) != child.get(e.getKey())) {
                differ.add(e.getKey());
            }
        }
        assertTrue(differ.isEmpty(), "-Xint vs warm JIT: ops whose bits changed: " + differ);
    }

    /** The child JVM of {@link #interpretedJvmEqualsWarmJit}: prints one "op, name, bits" line per op. */
    public static void main(String[] args) {
        try (Backend be = backend()) {
            if (!CpuBackend.vectorApiAvailable()) {
                throw new IllegalStateException("Vector API missing in child JVM");
            }
            for (Map.Entry<String, float[]> e : runAll(be).entrySet()) {
                System.out.println("op\t" + e.getKey() + "\t" + bits(e.getValue()));
            }
        }
    }
}
