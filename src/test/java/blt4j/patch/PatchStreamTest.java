package blt4j.patch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import blt4j.model.PatchingConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The streaming decision of every incremental scheme reproduces the whole-sequence lengths, position by position. */
class PatchStreamTest {

    static List<PatchingConfig> schemes() {
        List<PatchingConfig> out = new ArrayList<>();
        for (Integer max : new Integer[] {null, 1, 3, 7}) {
            out.add(new PatchingConfig("entropy", 1.5, null, false, max, 4.5));
            out.add(new PatchingConfig("entropy", 0.2, null, true, max, 4.5));
            out.add(new PatchingConfig("entropy", 0.8, 2.0, true, max, 4.5)); // monotonicity wins over threshold_add
            out.add(new PatchingConfig("entropy", 1.2, 0.1, false, max, 4.5));
            out.add(new PatchingConfig("entropy", 1.2, -0.3, false, max, 4.5));
            out.add(new PatchingConfig("space", null, null, false, max, 4.5));
            out.add(new PatchingConfig("static", null, null, false, max, 3));
            out.add(new PatchingConfig("byte", null, null, false, max, 4.5));
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("schemes")
    void streamEqualsWholeSequence(PatchingConfig config) {
        Random r = new Random(config.hashCode());
        for (int n : new int[] {1, 2, 3, 4, 5, 17, 64, 257}) {
            int[] tokens = new int[n];
            float[] h = new float[n];
            tokens[0] = 1;
            for (int i = 1; i < n; i++) {
                tokens[i] = r.nextInt(5) == 0 ? 4 + ' ' : 4 + 'a' + r.nextInt(26);
            }
            for (int i = 0; i < n; i++) {
                h[i] = (float) (r.nextDouble() * 3);
            }
            PatchingScheme scheme = PatchingScheme.of(config, null, true);
            int[] want = scheme.lengths(tokens, h);
            PatchStream stream = scheme.stream();
            List<Integer> got = new ArrayList<>();
            int start = 0;
            for (int p = 0; p < n; p++) {
                if (stream.next(tokens[p], h[p])) {
                    got.add(p + 1 - start);
                    start = p + 1;
                }
            }
            got.add(n + 1 - start); // the last patch ends with the next-byte slot
            assertArrayEquals(want, got.stream().mapToInt(Integer::intValue).toArray(), config.describe() + ", n = " + n);
        }
    }

    @ParameterizedTest
    @MethodSource("schemes")
    void trainingRowsStartWithOneBytePatchAndRespectTheMaxLength(PatchingConfig config) {
        Random r = new Random(7);
        int len = 300;
        int[] ids = new int[len];
        float[] h = new float[len];
        for (int i = 0; i < len; i++) {
            ids[i] = 4 + 'a' + r.nextInt(30);
            h[i] = (float) (r.nextDouble() * 3);
        }
        PatchingScheme scheme = PatchingScheme.of(config, null, true);
        StreamPatches patches = new StreamPatches(scheme, scheme.streamStarts(ids, h), len);
        for (int start : new int[] {0, 1, 50, 290}) {
            int n = 32;
            int[] l = patches.rowLengths(start, n);
            org.junit.jupiter.api.Assertions.assertEquals(1, l[0], "BOS patch");
            org.junit.jupiter.api.Assertions.assertEquals(n + 1, java.util.Arrays.stream(l).sum());
            for (int v : l) {
                org.junit.jupiter.api.Assertions.assertTrue(v >= 1 && (config.maxPatchLength() == null || v <= config.maxPatchLength()),
                        "length " + v + " for " + config.describe());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("schemes")
    void entropySchemesNeedAnEntropyModel(PatchingConfig config) {
        if (config.needsEntropies()) {
            assertThrows(IllegalArgumentException.class, () -> PatchingScheme.of(config, null));
        }
    }

    @org.junit.jupiter.api.Test
    void topKCannotStream() {
        PatchingScheme topK = PatchingScheme.of(new PatchingConfig("entropy", null, null, false, null, 4.5), null, true);
        assertThrows(IllegalStateException.class, topK::stream);
    }
}
