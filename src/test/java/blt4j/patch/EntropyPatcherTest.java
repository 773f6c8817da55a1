package blt4j.patch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class EntropyPatcherTest {

    static final float[] H48 = {2.0f, 3.1f, 0.5f, 0.2f, 1.9f, 0.1f, 0.3f, 2.5f};

    @Test
    void globalWorkedExample() {
        // BLT-REFERENCE §4.8
        EntropyPatcher p = EntropyPatcher.global(1.33f);
        assertArrayEquals(new int[] {0, 1, 2, 5, 8}, p.starts(null, H48));
        assertArrayEquals(new int[] {1, 1, 3, 3, 1}, p.lengths(H48));
        assertArrayEquals(new int[] {1, 1, 3, 3}, p.withIncludeNextToken(false).lengths(H48));
    }

    @Test
    void strictGreaterAndH0Ignored() {
        float[] h = {100f, 1f, 2f, 1f};
        // H[0] is never used; H[p-1] == θ does not start: θ=1 → only p=3 (H[2]=2)
        assertArrayEquals(new int[] {1, 2, 2}, EntropyPatcher.global(1f).lengths(h));
        assertArrayEquals(new int[] {1, 4}, EntropyPatcher.global(2f).lengths(h));
    }

    @Test
    void monotonic() {
        // diffs H[p-1]-H[p-2] for p=3..7: 1.0, 0.25, 0.75, -2, 1.0 ; p = 0,1,2 forced
        float[] h = {9f, 1.0f, 2.0f, 2.25f, 3.0f, 1.0f, 2.0f};
        EntropyPatcher p = EntropyPatcher.monotonic(0.5f);
        assertArrayEquals(new int[] {0, 1, 2, 3, 5, 7}, p.starts(null, h));
        assertArrayEquals(new int[] {1, 1, 1, 2, 2, 1}, p.lengths(h));
        assertArrayEquals(new int[] {1, 1, 1, 2, 2}, p.withIncludeNextToken(false).lengths(h));
    }

    @Test
    void combinedWithPositionThreeQuirk() {
        float[] h = {9f, 0.0f, 3.0f, 5.0f, 1.0f, 2.0f, 1.8f, 4.0f, 0.25f, 1.0f};
        // p=3 would pass both tests (diff 3, H 3) but never starts (§4.2 quirk);
        // p=10 passes the difference test (0.75) but fails the global one (1.0 ≤ 1.5).
        EntropyPatcher p = EntropyPatcher.combined(1.5f, 0.5f);
        assertArrayEquals(new int[] {0, 1, 2, 4, 6, 8}, p.starts(null, h));
        assertArrayEquals(new int[] {1, 1, 2, 2, 2, 3}, p.lengths(h));
    }

    @Test
    void topK() {
        // N=10, patchSize 2 → 10/2 − 2 = 3 starts among H[1..9]: H7=6, H2=5, H4=4 → p = 8, 3, 5
        float[] h = {9f, 0.1f, 5f, 0.2f, 4f, 0.3f, 0.4f, 6f, 0.5f, 0.6f};
        EntropyPatcher p = EntropyPatcher.topK(2);
        assertArrayEquals(new int[] {0, 1, 3, 5, 8}, p.starts(null, h));
        assertArrayEquals(new int[] {1, 2, 2, 3, 3}, p.lengths(h));
        assertArrayEquals(new int[] {1, 2, 2, 3, 2}, p.withIncludeNextToken(false).lengths(h));
    }

    @Test
    void topKChoosingNextSlotWithoutIt() {
        float[] h = {0f, 0f, 0f, 0f, 0f, 9f}; // N=6, k=1 → p=6 (the next slot)
        assertArrayEquals(new int[] {1, 5, 1}, EntropyPatcher.topK(2).lengths(h));
        assertArrayEquals(new int[] {1, 5}, EntropyPatcher.topK(2).withIncludeNextToken(false).lengths(h));
        assertThrows(IllegalArgumentException.class,
                () -> new EntropyPatchStream(EntropyPatcher.topK(2), l -> { }));
    }

    @Test
    void maxPatchLength() {
        float[] h = new float[11]; // nothing above θ: [1, 11] with the next slot
        EntropyPatcher p = EntropyPatcher.global(1f).withMaxPatchLength(4);
        assertArrayEquals(new int[] {1, 4, 4, 3}, p.lengths(h));
        assertArrayEquals(new int[] {0, 1, 5, 9}, p.starts(null, h));
        assertArrayEquals(new int[] {1, 4, 4, 2}, p.withIncludeNextToken(false).lengths(h));
    }

    @Test
    void tinySequences() {
        EntropyPatcher p = EntropyPatcher.global(0f);
        assertArrayEquals(new int[0], p.lengths(new float[0]));
        assertArrayEquals(new int[] {1, 1}, p.lengths(new float[] {5f}));
        assertArrayEquals(new int[] {1}, p.withIncludeNextToken(false).lengths(new float[] {5f}));
        assertArrayEquals(new int[] {1, 1, 1}, p.lengths(new float[] {5f, 5f}));
    }
}
