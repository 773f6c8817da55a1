package blt4j.model;

import blt4j.tokenizer.ByteTokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class HashNgramTest {

    /** BLT-REFERENCE §5.1 golden table: prime 1000000007, vocab 500002, "Hello, world!" with BOS. */
    static final int[][] GOLDEN = {
        {443987, 124875, 393970, 386145, 358223, 190185, 141703, 484917, 141967, 146186, 10172, 334275, 306354, 205291},
        {437197, 433869, 117936, 254402, 246577, 30240, 114083, 12253, 461502, 217488, 33292, 467104, 390141, 114099},
        {123201, 168913, 27892, 170862, 307328, 265602, 426354, 435293, 113380, 384029, 106114, 86218, 437928, 431048},
        {166353, 160907, 92310, 405250, 48218, 280239, 83968, 362502, 28514, 86291, 48991, 483472, 343264, 40427},
        {34117, 338221, 15158, 281878, 94816, 340137, 303839, 101668, 427355, 320433, 480561, 142061, 303606, 395081},
        {172383, 205585, 456240, 129346, 299568, 322649, 430431, 246559, 94549, 155186, 258407, 498251, 491201, 418709},
    };

    @Test
    void helloWorldAll84() {
        int[] ids = ByteTokenizer.encode("Hello, world!", true, false);
        assertArrayEquals(new int[] {1, 76, 105, 112, 112, 115, 48, 36, 123, 115, 118, 112, 104, 37}, ids);
        int[][] all = HashNgram.allHashIds(ids, HashNgram.DEFAULT_GROUP_SIZES, 1, HashNgram.DEFAULT_VOCAB);
        assertEquals(6, all.length);
        for (int s = 0; s < 6; s++) {
            assertArrayEquals(GOLDEN[s], all[s], "n=" + (s + 3));
            int[] one = new int[ids.length];
            HashNgram.hashIds(ids, s + 3, 0, HashNgram.DEFAULT_VOCAB, one);
            assertArrayEquals(GOLDEN[s], one);
        }
    }

    @Test
    void positionZeroWindowIsLeftPadded() {
        // window [0,0,1] → 1 × prime² = 1000000014000000049 (fits in a long)
        assertEquals(1000000014000000049L, HashNgram.rollingHash(new int[] {1}, 0, 3, 1000000007L));
        assertEquals(443987L, Math.floorMod(1000000014000000049L, 500002L));
    }

    @Test
    void wrapsAndFloorMods() {
        // A window whose 64-bit hash wraps negative must still give a non-negative id.
        int[] ids = {259, 259, 259, 259, 259, 259, 259, 259};
        long h = HashNgram.rollingHash(ids, 7, 8, HashNgram.PRIMES[1]);
        long expect = 0, pw = 1;
        for (int k = 0; k < 8; k++) {
            expect += 259L * pw;
            pw *= HashNgram.PRIMES[1];
        }
        assertEquals(expect, h);
        int[] out = new int[8];
        HashNgram.hashIds(ids, 8, 1, 1009, out);
        assertEquals(Math.floorMod(h, 1009L), out[7]);
        for (int v : out) {
            assertEquals(true, v >= 0 && v < 1009);
        }
    }

    @Test
    void flatMatchesTablesAndTableOrderIsFunctionMajor() {
        Random r = new Random(7);
        int[] ids = new int[37];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(260);
        }
        int[] sizes = {3, 5, 8};
        int nf = 3;
        int[][] all = HashNgram.allHashIds(ids, sizes, nf, 1009);
        int[] flat = new int[nf * sizes.length * ids.length];
        HashNgram.allHashIdsFlat(ids, sizes, nf, 1009, flat);
        for (int t = 0; t < all.length; t++) {
            for (int p = 0; p < ids.length; p++) {
                assertEquals(all[t][p], flat[t * ids.length + p]);
            }
        }
        int[] f2n5 = new int[ids.length];
        HashNgram.hashIds(ids, 5, 2, 1009, f2n5);
        assertArrayEquals(f2n5, all[2 * sizes.length + 1]);
        assertEquals(11, HashNgram.PRIMES.length);
    }
}
