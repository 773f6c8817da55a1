package blt4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Byte-level BPE: hand-worked merges, chunk boundaries, exact round trips of any bytes, the merges file. */
class BpeTokenizerTest {
    private static final int A = 'a' + ByteTokenizer.OFFSET;
    private static final int B = 'b' + ByteTokenizer.OFFSET;
    private static final int C = 'c' + ByteTokenizer.OFFSET;
    private static final int D = 'd' + ByteTokenizer.OFFSET;

    private static List<byte[]> docs(String... texts) {
        List<byte[]> out = new ArrayList<>();
        for (String t : texts) {
            out.add(t.getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }

    /**
     * "aaabdaaabac": aa occurs 4 times (overlaps counted) → Z = aa; "ZabdZabac" has Za and ab twice each, the tie goes
     * to the smaller pair (a, b) → Y = ab; "ZYdZYac" has ZY twice → X = ZY; "XdXac" has no pair twice: stop.
     */
    @Test
    void workedExampleMergesByCountThenSmallestPair() {
        BpeTokenizer t = BpeTokenizer.train(docs("aaabdaaabac"), 300, null);
        assertEquals(List.of(A + " " + A, A + " " + B, 260 + " " + 261), t.mergeList());
        assertEquals(263, t.vocabSize(), "training stops when no pair occurs twice");
        assertArrayEquals(new int[] {262, D, 262, A, C}, t.encode("aaabdaaabac".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("aaab", new String(t.bytes(262), StandardCharsets.US_ASCII));
        assertEquals(4, t.byteLength(262));
        assertEquals(1, t.byteLength(ByteTokenizer.EOS), "a special is one position of the byte stream");
    }

    @Test
    void vocabularySizeCapsTheMerges() {
        BpeTokenizer t = BpeTokenizer.train(docs("aaabdaaabac"), 261, null);
        assertEquals(List.of(A + " " + A), t.mergeList());
        assertEquals(261, t.vocabSize());
        assertThrows(IllegalArgumentException.class, () -> BpeTokenizer.train(docs("x"), 259, null));
        assertThrows(IllegalArgumentException.class, () -> BpeTokenizer.train(docs("x"), BpeTokenizer.MAX_VOCAB + 1, null));
    }

    @Test
    void encodingAppliesMergesInRankOrder() {
        // merges: (b, c) first, then (a, b): "abc" must become a + bc, not ab + c
        BpeTokenizer t = BpeTokenizer.of(new int[] {B, A}, new int[] {C, B});
        assertArrayEquals(new int[] {A, 260}, t.encode("abc".getBytes(StandardCharsets.US_ASCII)));
        assertArrayEquals(new int[] {261, 261}, t.encode("abab".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void mergesStayInsidePreSplitChunks() {
        BpeTokenizer t = BpeTokenizer.train(docs("the cat, the hat; the mat.\n\nthe 2024 cats 12 12 12 !! !!"), 400, null);
        for (int id = ByteTokenizer.VOCAB; id < t.vocabSize(); id++) {
            String s = new String(t.bytes(id), StandardCharsets.UTF_8);
            String body = s.startsWith(" ") && s.length() > 1 ? s.substring(1) : s;
            assertTrue(body.matches("[a-zA-Z]+|[0-9]+|[^a-zA-Z0-9\\s]+|\\s+"), "merge " + id + " crosses a chunk: '" + s + "'");
        }
        List<String> chunks = new ArrayList<>();
        byte[] text = "Hello  world\n  x9y 3.14".getBytes(StandardCharsets.US_ASCII);
        PreSplit.forEach(text, 0, text.length, (a, b) -> chunks.add(new String(text, a, b - a, StandardCharsets.US_ASCII)));
        assertEquals(List.of("Hello", " ", " world", "\n ", " x", "9", "y", " 3", ".", "14"), chunks);
    }

    @Test
    void longRunsAreCutIntoBoundedChunks() {
        byte[] text = new byte[1000];
        java.util.Arrays.fill(text, (byte) 'q');
        List<Integer> lengths = new ArrayList<>();
        PreSplit.forEach(text, 0, text.length, (a, b) -> lengths.add(b - a));
        assertEquals(16, lengths.size());
        assertTrue(lengths.stream().allMatch(n -> n <= PreSplit.MAX_CHUNK));
    }

    @Test
    void everyByteStringRoundTrips() {
        Random rnd = new Random(7);
        BpeTokenizer t = BpeTokenizer.train(docs("naïve café résumé — ΑΒΓ αβγ 日本語 the the then there ".repeat(3),
                "invalid \u00ff bytes follow", new String(new char[] {'a', 'b'}).repeat(50)), 600, null);
        assertTrue(t.merges() > 10);
        for (int trial = 0; trial < 300; trial++) {
            byte[] b = new byte[rnd.nextInt(200)];
            if (trial % 2 == 0) {
                rnd.nextBytes(b); // arbitrary bytes, mostly invalid UTF-8
            } else {
                for (int i = 0; i < b.length; i++) {
                    b[i] = (byte) " aeht\nbc".charAt(rnd.nextInt(8));
                }
            }
            int[] ids = t.encode(b);
            assertTrue(ids.length <= b.length);
            assertArrayEquals(b, t.decode(ids), "round trip of trial " + trial);
        }
        int[] stream = {ByteTokenizer.BOS, 'a' + 4, 'b' + 4, ByteTokenizer.EOS, ByteTokenizer.BOS, 0xFF + 4, ByteTokenizer.EOS};
        int[] tokens = t.encodeByteIds(stream);
        assertEquals(ByteTokenizer.BOS, tokens[0]);
        assertEquals(ByteTokenizer.EOS, tokens[tokens.length - 1]);
        assertArrayEquals(new byte[] {'a', 'b', (byte) 0xFF}, t.decode(tokens), "specials decode to nothing");
    }

    @Test
    void trainingIsDeterministic() {
        List<byte[]> d = docs("one two three two one three three", "four four two");
        assertEquals(BpeTokenizer.train(d, 300, null).mergeList(), BpeTokenizer.train(d, 300, null).mergeList());
    }

    @Test
    void mergesFileRoundTripsAndBadFilesAreNamed(@TempDir Path dir) throws IOException {
        BpeTokenizer t = BpeTokenizer.train(docs("the theme of the thesis: \\x41 \u0000 then"), 320, null);
        Path f = dir.resolve("bpe-merges.txt");
        Files.writeString(f, t.mergesText(), StandardCharsets.UTF_8);
        BpeTokenizer back = BpeTokenizer.load(f);
        assertEquals(t.mergeList(), back.mergeList());
        Files.writeString(f, "not merges\n");
        assertTrue(assertThrows(IOException.class, () -> BpeTokenizer.load(f)).getMessage().contains("first line"));
        Files.writeString(f, BpeTokenizer.HEADER + "\n104 105\n104 x\n");
        assertTrue(assertThrows(IOException.class, () -> BpeTokenizer.load(f)).getMessage().contains("line 3"));
        Files.writeString(f, BpeTokenizer.HEADER + "\n104 261\n");
        assertTrue(assertThrows(IOException.class, () -> BpeTokenizer.load(f)).getMessage().contains("earlier merge"));
        Files.writeString(f, BpeTokenizer.HEADER + "\n104 105\n104 105\n");
        assertTrue(assertThrows(IOException.class, () -> BpeTokenizer.load(f)).getMessage().contains("repeats"));
        assertThrows(IOException.class, () -> BpeTokenizer.load(dir.resolve("missing.txt")));
    }
}
