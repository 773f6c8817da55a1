package blt4j.patch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ThresholdSearchTest {

    @Test
    void hitsTargetOnRandomEntropies() {
        Random r = new Random(3);
        float[] h = new float[20000];
        for (int i = 0; i < h.length; i++) {
            h[i] = (float) (-Math.log(1 - r.nextDouble()));
        }
        for (double target : new double[] {1.5, 4.5, 8.0}) {
            ThresholdSearch.Result res = ThresholdSearch.findThreshold(h, target);
            assertEquals(target, res.meanPatchSize(), 0.01, res.toString());
            // the reported mean is what the patcher really produces with that θ
            int[] lengths = EntropyPatcher.global(res.threshold()).withIncludeNextToken(false).lengths(h);
            assertEquals(res.meanPatchSize(), PatchStats.of(lengths).mean(), 1e-12);
            assertEquals(h.length, res.lengthSum());
        }
    }

    @Test
    void monotoneAndExactOnSmallCase() {
        // §4.8 entropies, no next slot: decisions p=2..7 read H[1..6]; θ in [1.9, 3.1) keeps only p=2
        float[] h = {2.0f, 3.1f, 0.5f, 0.2f, 1.9f, 0.1f, 0.3f, 2.5f};
        ThresholdSearch.Result res = ThresholdSearch.findThreshold(h, 8.0 / 3);
        assertEquals(8.0 / 3, res.meanPatchSize(), 1e-12); // starts 0,1,2 → [1,1,6]
        assertTrue(res.threshold() >= 1.9f && res.threshold() < 3.1f, res.toString());
        double prev = 0;
        for (float t = -1f; t < 4f; t += 0.05f) {
            double mean = PatchStats.of(EntropyPatcher.global(t).withIncludeNextToken(false).lengths(h)).mean();
            assertTrue(mean >= prev);
            prev = mean;
        }
    }

    @Test
    void monotonicModeAndSeveralSequences() {
        Random r = new Random(5);
        float[] a = new float[3000];
        float[] b = new float[1000];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextFloat() * 3;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = r.nextFloat() * 3;
        }
        EntropyPatcher tpl = EntropyPatcher.monotonic(0f);
        ThresholdSearch.Result res = ThresholdSearch.findThreshold(List.of(a, b), 3.0, tpl);
        assertEquals(3.0, res.meanPatchSize(), 0.02, res.toString());
        assertEquals(a.length + b.length + 2, res.lengthSum()); // next slot per sequence
    }
}
