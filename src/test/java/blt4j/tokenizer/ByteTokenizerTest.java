package blt4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ByteTokenizerTest {

    @Test
    void myNameIsGolden() {
        // BLT-REFERENCE §1 / §16
        assertArrayEquals(new int[] {1, 113, 125, 36, 114, 101, 113, 105, 36, 109, 119},
                ByteTokenizer.encode("my name is", true, false));
    }

    @Test
    void constants() {
        assertEquals(0, ByteTokenizer.BOE);
        assertEquals(1, ByteTokenizer.BOS);
        assertEquals(2, ByteTokenizer.EOS);
        assertEquals(3, ByteTokenizer.BPE_DELIM);
        assertEquals(4, ByteTokenizer.OFFSET);
        assertEquals(260, ByteTokenizer.VOCAB);
    }

    @Test
    void bytesAndEos() {
        int[] ids = ByteTokenizer.encode(new byte[] {0, (byte) 0xFF, 'a'}, false, true);
        assertArrayEquals(new int[] {4, 259, 101, 2}, ids);
    }

    @Test
    void utf8RoundTrip() {
        String s = "en – dash, ünïcode, 𝄞";
        int[] ids = ByteTokenizer.encode(s, true, true);
        assertEquals(s, ByteTokenizer.decode(ids, false));
        assertEquals(s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 2, ids.length);
    }

    @Test
    void loneSurrogateDropped() {
        assertArrayEquals(new int[] {101, 102}, ByteTokenizer.encode("a\uD800b", false, false));
    }

    @Test
    void decodeDropsSpecialsAndCutsAtEos() {
        int[] ids = {1, 101, 0, 102, 3, 2, 103, -1};
        assertEquals("ab", ByteTokenizer.decode(ids, true));
        assertEquals("abc", ByteTokenizer.decode(ids, false));
        assertArrayEquals(new byte[] {'a', 'b', 'c'}, ByteTokenizer.decodeBytes(ids, false));
        assertThrows(IllegalArgumentException.class, () -> ByteTokenizer.decode(new int[] {260}, false));
    }

    @Test
    void malformedReplacedOrIgnored() {
        int[] ids = {101, 0xC3 + 4, 102}; // lone lead byte
        assertEquals("a\uFFFDb", ByteTokenizer.decode(ids, false));
        assertEquals("ab", ByteTokenizer.decodeIgnoringErrors(ids, false));
    }
}
