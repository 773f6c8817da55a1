package blt4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.backends.Backends;
import blt4j.compute.Backend;
import blt4j.generate.Generator;
import blt4j.generate.Sampler;
import blt4j.patch.PatchingScheme;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Shapes the fixture does not cover: no encoder layers, one decoder layer, cross-attention only in the first
 * decoder layer, k = 1 and k = 3, a global input projection, no local window, no hash tables, two hash functions.
 * For each: the gradient of the loss matches central differences on the parameters with the largest gradients,
 * the cpu backend matches the reference, and cached generation equals full recomputation.
 */
class BltVariantsTest {

    static Stream<Arguments> variants() {
        return Stream.of(
                Arguments.of("no encoder layers", (Consumer<BltConfig>) c -> c.nLayersLocalEncoder = 0),
                Arguments.of("one decoder layer", (Consumer<BltConfig>) c -> c.nLayersLocalDecoder = 1),
                Arguments.of("decoder cross-attention in layer 0 only", (Consumer<BltConfig>) c -> {
                    c.nLayersLocalDecoder = 3;
                    c.crossAttnAllLayersDecoder = false;
                }),
                Arguments.of("k = 1 with global input projection", (Consumer<BltConfig>) c -> c.crossAttnK = 1),
                Arguments.of("k = 3 with global input projection", (Consumer<BltConfig>) c -> c.crossAttnK = 3),
                Arguments.of("local window of 4 bytes", (Consumer<BltConfig>) c -> c.localAttentionWindowLen = 4),
                Arguments.of("no local window", (Consumer<BltConfig>) c -> c.localAttentionWindowLen = null),
                Arguments.of("no hash tables", (Consumer<BltConfig>) c -> c.encoderHashByteGroupNbFunctions = 0),
                Arguments.of("two hash functions, sizes 2 and 5", (Consumer<BltConfig>) c -> {
                    c.encoderHashByteGroupNbFunctions = 2;
                    c.encoderHashByteGroupSize = List.of(2, 5);
                }));
    }

    private static BltConfig config(Consumer<BltConfig> edit) {
        BltConfig c = BltConfig.micro();
        c.dimLocalEncoder = 16;
        c.dimLocalDecoder = 16;
        c.dimGlobal = 32;
        c.nHeadsGlobal = 2;
        c.encoderHashByteGroupVocab = 61;
        c.maxEncoderSeqLength = 128;
        c.maxSeqlen = 64;
        edit.accept(c);
        return c;
    }

    private static final int N = 23;

    private static int[] tokens() {
        Random r = new Random(3);
        int[] x = new int[N];
        x[0] = 1;
        for (int i = 1; i < N; i++) {
            x[i] = 4 + 'a' + r.nextInt(20);
        }
        return x;
    }

    private static int[] targets(int[] x) {
        int[] y = new int[N];
        for (int i = 0; i < N; i++) {
            y[i] = i + 1 < N ? x[i + 1] : 4 + 'z';
        }
        return y;
    }

    private static final int[][] LENGTHS = {{1, 3, 1, 5, 2, 4, 6, 2}};

    private static double loss(ByteLatentTransformer m, int[] x) {
        m.forward(x, 1, N, LENGTHS);
        return m.loss(targets(x), null);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void gradientsMatchFiniteDifferences(String name, Consumer<BltConfig> edit) {
        try (Backend b = Backends.create("reference", 1, null)) {
            ByteLatentTransformer m = new ByteLatentTransformer(config(edit), b).initialize(11);
            int[] x = tokens();
            m.parameters().zeroGrads();
            loss(m, x);
            m.backward();
            float[] g = m.parameters().grads().toHost();
            float[] p = m.parameters().params().toHost();
            Integer[] order = new Integer[g.length];
            for (int i = 0; i < g.length; i++) {
                order[i] = i;
            }
            java.util.Arrays.sort(order, (a, c) -> Float.compare(Math.abs(g[c]), Math.abs(g[a])));
            int checked = 0;
            for (int j = 0; j < 12; j++) {
                int i = order[j * 37 % Math.min(g.length, 400)];
                float h = 1e-2f * Math.max(1f, Math.abs(p[i]));
                float[] q = p.clone();
                q[i] = p[i] + h;
                b.upload(q, 0, m.parameters().params());
                double plus = loss(m, x);
                q[i] = p[i] - h;
                b.upload(q, 0, m.parameters().params());
                double minus = loss(m, x);
                double fd = (plus - minus) / (2.0 * h);
                assertEquals(fd, g[i], 0.03 * Math.abs(fd) + 2e-4, name + ": parameter " + i + " gradient " + g[i] + " vs " + fd);
                checked++;
            }
            b.upload(p, 0, m.parameters().params());
            assertEquals(12, checked);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void cpuMatchesReferenceAndGenerationMatchesFullRecompute(String name, Consumer<BltConfig> edit) {
        float[][] grads = new float[2][];
        String[] backends = {"reference", "cpu"};
        for (int k = 0; k < 2; k++) {
            try (Backend b = Backends.create(backends[k], 2, null)) {
                ByteLatentTransformer m = new ByteLatentTransformer(config(edit), b).initialize(11);
                m.parameters().zeroGrads();
                loss(m, tokens());
                m.backward();
                grads[k] = m.parameters().grads().toHost();
                byte[] prompt = "abcab".getBytes(StandardCharsets.UTF_8);
                for (PatchingConfig patching : new PatchingConfig[] {new PatchingConfig("space", null, null, false, 3, 4.5),
                        new PatchingConfig("static", null, null, false, null, 3)}) {
                    Generator gen = new Generator(m, PatchingScheme.of(patching, null)).ignoringSpecialIds();
                    byte[] full = gen.generateFullRecompute(prompt, 12);
                    assertArrayEquals(full, gen.generate(prompt, 12, Sampler.greedy(), v -> { }).bytes(),
                            name + " on " + backends[k] + ", " + patching.describe());
                }
            }
        }
        for (int i = 0; i < grads[0].length; i++) {
            assertTrue(Math.abs(grads[0][i] - grads[1][i]) <= 1e-5 + 1e-3 * Math.abs(grads[0][i]),
                    name + ": gradient " + i + " reference " + grads[0][i] + " cpu " + grads[1][i]);
        }
    }
}
