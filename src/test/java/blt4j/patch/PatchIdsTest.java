package blt4j.patch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

class PatchIdsTest {

    @Test
    void decoderIdsExample() {
        // BLT-REFERENCE §7.2: lengths [1,1,3,3,1], N=8
        int[] lengths = {1, 1, 3, 3, 1};
        assertArrayEquals(new int[] {0, 1, 1, 1, 2, 2, 2, 3}, PatchIds.decoderPatchIds(lengths, 8));
        assertArrayEquals(new int[] {0, 1, 2, 2, 2, 3, 3, 3}, PatchIds.patchIdsFromLengths(lengths, 8));
    }

    @Test
    void emptyPatchesAreSkippedAndOverflowGetsP() {
        assertArrayEquals(new int[] {0, 2, 2, 3}, PatchIds.patchIdsFromLengths(new int[] {1, 0, 2, 1}, 4));
        assertArrayEquals(new int[] {0, 1, 1, 2, 2}, PatchIds.patchIdsFromLengths(new int[] {1, 2}, 5));
        assertArrayEquals(new int[] {0, 0}, PatchIds.patchIdsFromLengths(new int[0], 2));
    }

    @Test
    void startsLengthsRoundTrip() {
        int[] starts = {0, 1, 2, 5, 8};
        int[] lengths = PatchIds.startsToLengths(starts, 9);
        assertArrayEquals(new int[] {1, 1, 3, 3, 1}, lengths);
        assertArrayEquals(starts, PatchIds.lengthsToStarts(lengths));
        assertArrayEquals(starts, PatchIds.flagsToStarts(
                new boolean[] {true, true, true, false, false, true, false, false, true}));
    }

    @Test
    void splitLongPatches() {
        assertArrayEquals(new int[] {4, 4, 3}, PatchIds.splitLongPatches(new int[] {11}, 4));
        assertArrayEquals(new int[] {1, 4, 4, 2, 4}, PatchIds.splitLongPatches(new int[] {1, 8, 2, 4}, 4));
        assertArrayEquals(new int[] {1, 8}, PatchIds.splitLongPatches(new int[] {1, 8}, 0));
        java.util.List<Integer> got = new java.util.ArrayList<>();
        java.util.function.IntConsumer s = PatchIds.splitting(got::add, 4);
        s.accept(11);
        s.accept(1);
        org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of(4, 4, 3, 1), got);
    }

    @Test
    void globalTokensMarkPatchesWithEos() {
        // BOS a b EOS | BOS c  → patches [BOS][a b][EOS BOS][c][next]
        int[] tokens = {1, 101, 102, 2, 1, 103};
        int[] lengths = {1, 2, 2, 1, 1};
        assertArrayEquals(new int[] {0, 0, 2, 0, 0}, PatchIds.globalTokens(tokens, lengths));
    }
}
