package blt4j.patch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import blt4j.tokenizer.ByteTokenizer;
import org.junit.jupiter.api.Test;

class SpacePatcherTest {

    static int[] ids(String s) {
        return ByteTokenizer.encode(s, true, false);
    }

    @Test
    void workedExample() {
        // BLT-REFERENCE §4.8: "Hello," | " world!" | " Hi"+next slot
        int[] t = ids("Hello, world! Hi");
        assertEquals(17, t.length);
        SpacePatcher p = new SpacePatcher();
        assertArrayEquals(new int[] {0, 1, 7, 14}, p.starts(t, null));
        assertArrayEquals(new int[] {1, 6, 7, 4}, p.lengths(t));
        assertArrayEquals(new int[] {1, 6, 7, 3}, new SpacePatcher(false, 0).lengths(t));
        assertArrayEquals(new int[] {1, 4, 2, 4, 3, 4}, new SpacePatcher(true, 4).lengths(t));
    }

    @Test
    void spaceLikeClasses() {
        for (char c : "09AZaz".toCharArray()) {
            assertEquals(false, SpacePatcher.isSpaceLike(c + 4), "" + c);
        }
        for (int b : new int[] {' ', '/', ':', '@', '[', '`', '{', 0x7F, 0xC0, 0xE2, 0xFF, 0}) {
            assertEquals(true, SpacePatcher.isSpaceLike(b + 4), "byte " + b);
        }
        for (int b : new int[] {0x80, 0x93, 0xBF}) {
            assertEquals(false, SpacePatcher.isSpaceLike(b + 4), "byte " + b);
        }
        for (int id = 0; id < 4; id++) {
            assertEquals(true, SpacePatcher.isSpaceLike(id));
        }
    }

    @Test
    void utf8LeadByteIsSpaceLike() {
        // BOS a E2 80 93 b : the lead byte ends "a"'s patch, continuation bytes join the next one
        int[] t = ids("a\u2013b");
        assertArrayEquals(new int[] {1, 2, 4}, new SpacePatcher().lengths(t));
    }

    @Test
    void specialsTriggerAndSpaceAfterBosDoesNot() {
        int[] t = {1, 101, 2, 1, 102};
        assertArrayEquals(new int[] {1, 2, 1, 2}, new SpacePatcher().lengths(t));
        assertArrayEquals(new int[] {1, 3}, new SpacePatcher().lengths(ids(" a")));
    }

    @Test
    void runTriggersOnceAfterItsFirstByte() {
        assertArrayEquals(new int[] {1, 2, 3}, new SpacePatcher().lengths(ids("a  b")));
        // trailing space-like: the next slot is its own patch; without it nothing is added
        assertArrayEquals(new int[] {1, 2, 1}, new SpacePatcher().lengths(ids("a ")));
        assertArrayEquals(new int[] {1, 2}, new SpacePatcher(false, 0).lengths(ids("a ")));
    }

    @Test
    void strideAndByte() {
        assertArrayEquals(new int[] {4, 4, 3}, new StridePatcher(4).lengths(10));
        assertArrayEquals(new int[] {4, 4, 2}, new StridePatcher(4, false, false, 0).lengths(10));
        assertArrayEquals(new int[] {1, 4, 4, 2}, new StridePatcher(4, true, true, 0).lengths(10));
        assertArrayEquals(new int[] {1, 3, 1, 3, 1, 2}, new StridePatcher(4, true, true, 3).lengths(10));
        assertArrayEquals(new int[] {1, 1, 1, 1}, new BytePatcher().lengths(new int[3], null));
        assertArrayEquals(new int[] {1, 1, 1}, new BytePatcher(false).lengths(null, new float[3]));
    }
}
