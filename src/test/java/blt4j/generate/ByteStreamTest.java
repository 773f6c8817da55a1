package blt4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Streaming output: whole UTF-8 characters only, stop sequences held back and never emitted. */
class ByteStreamTest {

    /** Feeds bytes one at a time; records the sink's contents after each byte. */
    private static List<byte[]> feed(ByteStream s, ByteArrayOutputStream sink, byte[] in) {
        List<byte[]> after = new ArrayList<>();
        for (byte b : in) {
            if (s.accept(b & 0xFF)) {
                after.add(sink.toByteArray());
                break;
            }
            after.add(sink.toByteArray());
        }
        return after;
    }

    @Test
    void multiByteCharactersAreReleasedWhole() {
        byte[] text = "aé€😀b".getBytes(StandardCharsets.UTF_8); // 1 + 2 + 3 + 4 + 1 bytes
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        ByteStream s = new ByteStream(null, sink::write);
        List<byte[]> after = feed(s, sink, text);
        for (byte[] seen : after) {
            String decoded = new String(seen, StandardCharsets.UTF_8);
            assertFalse(decoded.contains("\uFFFD"), "a partial character was streamed: " + decoded);
        }
        assertEquals("a", new String(after.get(0), StandardCharsets.UTF_8));
        assertEquals("a", new String(after.get(1), StandardCharsets.UTF_8)); // é waits for its second byte
        assertEquals("aé", new String(after.get(2), StandardCharsets.UTF_8));
        s.finish();
        assertArrayEquals(text, sink.toByteArray());
        assertArrayEquals(text, s.released());
    }

    @Test
    void invalidBytesStreamAsTheyAre() {
        byte[] in = {(byte) 0x80, 'x', (byte) 0xFF, (byte) 0xC3, 'y', (byte) 0xE2, (byte) 0x82};
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        ByteStream s = new ByteStream(null, sink::write);
        feed(s, sink, in);
        // everything up to the incomplete 3-byte sequence at the end is out; finish flushes the rest
        assertArrayEquals(new byte[] {(byte) 0x80, 'x', (byte) 0xFF, (byte) 0xC3, 'y'}, sink.toByteArray());
        s.finish();
        assertArrayEquals(in, sink.toByteArray());
    }

    @Test
    void theStopSequenceEndsTheStreamAndIsNeverEmitted() {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        ByteStream s = new ByteStream("\n\nEND".getBytes(StandardCharsets.UTF_8), sink::write);
        byte[] in = "line one\n\nEN line two\n\nEND ignored".getBytes(StandardCharsets.UTF_8);
        int fed = 0;
        boolean stopped = false;
        for (byte b : in) {
            fed++;
            if (s.accept(b)) {
                stopped = true;
                break;
            }
            // a possible start of the stop sequence is held back
            assertFalse(new String(sink.toByteArray(), StandardCharsets.UTF_8).endsWith("\n\nE"));
        }
        assertTrue(stopped && s.stopped());
        assertEquals("line one\n\nEN line two\n\nEND".length(), fed);
        s.finish();
        assertEquals("line one\n\nEN line two", sink.toString(StandardCharsets.UTF_8));
    }

    @Test
    void overlappingStopPrefixes() {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        ByteStream s = new ByteStream("aab".getBytes(StandardCharsets.UTF_8), sink::write);
        boolean stopped = false;
        for (byte b : "xaaab".getBytes(StandardCharsets.UTF_8)) {
            stopped = s.accept(b);
        }
        assertTrue(stopped);
        assertEquals("xa", sink.toString(StandardCharsets.UTF_8));
    }

    @Test
    void randomBytesComeOutUnchanged() {
        Random r = new Random(5);
        for (int t = 0; t < 200; t++) {
            byte[] in = new byte[r.nextInt(40)];
            r.nextBytes(in);
            byte[] stop = {(byte) r.nextInt(256), (byte) r.nextInt(256)};
            ByteArrayOutputStream sink = new ByteArrayOutputStream();
            ByteStream s = new ByteStream(stop, sink::write);
            int n = 0;
            boolean stopped = false;
            while (n < in.length && !stopped) {
                stopped = s.accept(in[n++] & 0xFF);
            }
            s.finish();
            byte[] expected = java.util.Arrays.copyOf(in, stopped ? n - stop.length : n);
            assertArrayEquals(expected, sink.toByteArray(), "case " + t);
        }
    }
}
