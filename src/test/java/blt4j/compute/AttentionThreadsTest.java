package blt4j.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The cpu attention forward's output and log-sum-exps do not depend on how its tiles are cut over threads (by the keys
 * they read, so the cuts move with the mask and the number of threads); the backward repeats its bits on a second run
 * with the same threads. (Its dQ may differ in the last bit between thread counts: a head cut between two threads
 * sums its key blocks' parts in two partial buffers.)
 */
class AttentionThreadsTest {
    @ParameterizedTest(name = "{0} heads, {1} x {2}, window {3}")
    @CsvSource({"1, 1, 300, 0", "3, 1, 257, 0", "3, 2, 130, 40", "1, 3, 97, 0", "2, 1, 521, 64"})
    void forwardBitsOnOneTwoAndThreeThreads(int heads, int rows, int len, int window) {
        int t = rows * len, width = heads * 32;
        Random r = new Random(heads * 1000L + len);
        float[] q = gaussian(r, t * width), k = gaussian(r, t * width), v = gaussian(r, t * width), g = gaussian(r, t * width);
        float[][] first = null;
        for (int threads = 1; threads <= 3; threads++) {
            try (CpuBackend be = new CpuBackend(threads)) {
                Tensor qt = be.fromHost(q, t, width), kt = be.fromHost(k, t, width), vt = be.fromHost(v, t, width);
                Tensor out = be.zeros(t, width), lse = be.zeros(heads, t);
                Tensor dq = be.zeros(t, width), dk = be.zeros(t, width), dv = be.zeros(t, width);
                Ranges mask = AttentionMask.batched(be, rows, len, window, null);
                be.attention(qt, kt, vt, out, lse, mask, heads);
                be.attentionBackward(be.fromHost(g, t, width), qt, kt, vt, out, lse, mask, dq, dk, dv, heads);
                float[][] grads = {be.toHost(dq), be.toHost(dk), be.toHost(dv)};
                for (Tensor d : new Tensor[] {dq, dk, dv}) {
                    be.fill(d, 0f);
                }
                be.attentionBackward(be.fromHost(g, t, width), qt, kt, vt, out, lse, mask, dq, dk, dv, heads);
                assertArrayEquals(grads[0], be.toHost(dq), "dq, second run on " + threads + " threads");
                assertArrayEquals(grads[1], be.toHost(dk), "dk, second run on " + threads + " threads");
                assertArrayEquals(grads[2], be.toHost(dv), "dv, second run on " + threads + " threads");
                float[][] got = {be.toHost(out), be.toHost(lse)};
                if (first == null) {
                    first = got;
                    continue;
                }
                assertArrayEquals(first[0], got[0], "out on " + threads + " threads");
                assertArrayEquals(first[1], got[1], "lse on " + threads + " threads");
            }
        }
    }

    private static float[] gaussian(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }
}
