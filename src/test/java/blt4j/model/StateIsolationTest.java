package blt4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.TestBackends;
import blt4j.compute.Backend;
import blt4j.nn.AdamW;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The activations of a forward belong to its state: an incremental (generation) call between a forward and its
 * backward changes no gradient, and a training step after warm-up allocates no backend buffer.
 */
class StateIsolationTest {
    private static final int ROWS = 2;
    private static final int N = 29;

    private static int[] tokens(long seed) {
        Random r = new Random(seed);
        int[] x = new int[ROWS * N];
        for (int i = 0; i < x.length; i++) {
            x[i] = i % N == 0 ? 1 : 4 + r.nextInt(90);
        }
        return x;
    }

    private static int[] targets(int[] x) {
        int[] y = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = i % N == N - 1 ? -1 : x[i + 1];
        }
        return y;
    }

    /** Patch lengths summing to n+1 with the first one byte; {@code width} sets the typical patch size. */
    private static int[][] lengths(long seed, int width) {
        Random r = new Random(seed);
        int[][] out = new int[ROWS][];
        for (int b = 0; b < ROWS; b++) {
            java.util.List<Integer> l = new java.util.ArrayList<>();
            l.add(1);
            int left = N;
            while (left > 0) {
                int len = Math.min(left, 1 + r.nextInt(width));
                l.add(len);
                left -= len;
            }
            out[b] = l.stream().mapToInt(Integer::intValue).toArray();
        }
        return out;
    }

    private static BltConfig micro() {
        BltConfig c = BltConfig.micro();
        c.maxEncoderSeqLength = 64;
        c.maxSeqlen = 64;
        return c;
    }

    private static float[] bltGradients(ByteLatentTransformer m, int[] x, int[][] lengths, boolean interleave) {
        m.parameters().zeroGrads();
        m.forward(x, ROWS, N, lengths);
        m.loss(targets(x), null);
        if (interleave) {
            // a generation step in between: encoder, global and decoder layers all run their cached paths
            IncrementalBlt inc = m.incremental(8);
            int[] prompt = {1, 72, 105, 33};
            for (int p = 0; p < prompt.length; p++) {
                inc.appendToken(prompt);
                inc.completePatch();
                inc.decode();
            }
            m.forward(m.newState(1, 5, 6, true), new int[] {1, 70, 71, 72, 73}, new int[][] {{1, 2, 3}});
        }
        m.backward();
        return m.parameters().grads().toHost();
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu", "opencl"})
    void incrementalCallsBetweenForwardAndBackwardLeaveBltGradientsUnchanged(String backendName) {
        try (Backend backend = TestBackends.create(backendName)) {
            ByteLatentTransformer m = new ByteLatentTransformer(micro(), backend).initialize(5);
            int[] x = tokens(1);
            int[][] l = lengths(2, 5);
            float[] plain = bltGradients(m, x, l, false);
            float[] interleaved = bltGradients(m, x, l, true);
            assertTrue(nonZero(plain) > 20_000, "gradients should reach most dense weights: " + nonZero(plain));
            assertArrayEquals(plain, interleaved, "an incremental call changed the gradients");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu", "opencl"})
    void incrementalCallsBetweenForwardAndBackwardLeaveEntropyModelGradientsUnchanged(String backendName) {
        try (Backend backend = TestBackends.create(backendName)) {
            EntropyModelConfig c = EntropyModelConfig.tiny();
            c.dim = 32;
            c.nHeads = 2;
            c.multipleOf = 32;
            c.maxSeqlen = 64;
            EntropyModel m = new EntropyModel(c, backend).initialize(3);
            int[] x = tokens(4);
            float[][] grads = new float[2][];
            for (int run = 0; run < 2; run++) {
                m.parameters().zeroGrads();
                m.forward(x, ROWS, N);
                m.loss(targets(x), null);
                if (run == 1) {
                    EntropyModel.Incremental inc = m.incremental(16);
                    inc.entropies(inc.append(new int[] {1, 80, 81, 82, 83}));
                    inc.entropy(inc.append(84));
                }
                m.backward();
                grads[run] = m.parameters().grads().toHost();
            }
            assertArrayEquals(grads[0], grads[1], "an incremental call changed the gradients");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu", "opencl"})
    void bltTrainingStepsAfterWarmUpAllocateNothing(String backendName) {
        try (Backend backend = TestBackends.create(backendName)) {
            ByteLatentTransformer m = new ByteLatentTransformer(micro(), backend).initialize(7);
            AdamW opt = AdamW.standard(m.parameters(), 0.1f);
            int[] x = tokens(8);
            Batch warm = new Batch(x, targets(x), ones(), ROWS, N, lengths(9, 3));
            step(m, opt, backend, warm);
            long after = backend.allocations();
            long before = backend.allocatedBytes();
            // other tokens and other patch counts within the same capacity bucket
            for (int s = 0; s < 4; s++) {
                int[] xs = tokens(20 + s);
                step(m, opt, backend, new Batch(xs, targets(xs), ones(), ROWS, N, lengths(30 + s, 3 + s)));
            }
            assertEquals(after, backend.allocations(), "backend buffers allocated after warm-up");
            assertEquals(before, backend.allocatedBytes());
            // one batch with more patches than the bucket holds grows the state once
            int[][] bytePatches = new int[ROWS][N + 1];
            for (int[] row : bytePatches) {
                java.util.Arrays.fill(row, 1);
            }
            step(m, opt, backend, new Batch(x, targets(x), ones(), ROWS, N, bytePatches));
            long grown = backend.allocations();
            assertNotEquals(after, grown, "a larger patch count needs a larger state");
            step(m, opt, backend, warm);
            step(m, opt, backend, new Batch(x, targets(x), ones(), ROWS, N, bytePatches));
            assertEquals(grown, backend.allocations(), "the grown state serves smaller and equal batches");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu", "opencl"})
    void byteLmTrainingStepsAfterWarmUpAllocateNothing(String backendName) {
        try (Backend backend = TestBackends.create(backendName)) {
            EntropyModelConfig c = EntropyModelConfig.tiny();
            c.dim = 32;
            c.nHeads = 2;
            c.multipleOf = 32;
            c.maxSeqlen = 64;
            EntropyModel m = new EntropyModel(c, backend, "byte-transformer").initialize(3);
            AdamW opt = AdamW.standard(m.parameters(), 0.1f);
            int[] x = tokens(4);
            step(m, opt, backend, new Batch(x, targets(x), ones(), ROWS, N));
            long after = backend.allocations();
            for (int s = 0; s < 3; s++) {
                int[] xs = tokens(40 + s);
                xs[5] = 2; // an EOS changes the mask: it is re-sent, not reallocated
                step(m, opt, backend, new Batch(xs, targets(xs), ones(), ROWS, N));
            }
            assertEquals(after, backend.allocations(), "backend buffers allocated after warm-up");
        }
    }

    private static void step(TrainableModel m, AdamW opt, Backend backend, Batch b) {
        m.parameters().zeroGrads();
        double loss = m.forwardLoss(b);
        assertTrue(Double.isFinite(loss));
        m.backward();
        backend.clipGradNorm(m.parameters().grads(), 1.0);
        opt.step(1e-3f);
    }

    private static float[] ones() {
        float[] w = new float[ROWS * N];
        java.util.Arrays.fill(w, 1f);
        return w;
    }

    private static int nonZero(float[] a) {
        int n = 0;
        for (float v : a) {
            if (v != 0f) {
                n++;
            }
        }
        return n;
    }
}
