package blt4j.patch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Streaming patchers must reproduce the whole-array results whatever the chunking. */
class StreamingTest {

    static final int[] CHUNKS = {1, 7, 4096};

    static final class IntList implements java.util.function.IntConsumer {
        int[] a = new int[16];
        int n;

        @Override
        public void accept(int v) {
            if (n == a.length) {
                a = java.util.Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(a, n);
        }
    }

    static float[] randomEntropies(Random r, int n) {
        float[] h = new float[n];
        for (int i = 0; i < n; i++) {
            h[i] = r.nextFloat() * 4f;
        }
        return h;
    }

    static byte[] randomText(Random r, int n) {
        byte[] alphabet = "aZ09 ,.\n\t-\u00e9\u2013".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = r.nextInt(3) == 0 ? (byte) r.nextInt(256) : alphabet[r.nextInt(alphabet.length)];
        }
        return b;
    }

    static int[] streamEntropies(EntropyPatcher p, float[] h, int chunk) {
        IntList out = new IntList();
        EntropyPatchStream s = new EntropyPatchStream(p, out);
        for (int off = 0; off < h.length; off += chunk) {
            s.accept(h, off, Math.min(chunk, h.length - off));
        }
        assertEquals(h.length, s.finish());
        return out.toArray();
    }

    @Test
    void entropyStreamEqualsArray() {
        Random r = new Random(42);
        float[][] inputs = {new float[0], {1f}, {1f, 3f}, {1f, 3f, 0f}, randomEntropies(r, 9001)};
        EntropyPatcher[] modes = {
            EntropyPatcher.global(2.0f), EntropyPatcher.monotonic(0.7f), EntropyPatcher.combined(2.5f, 0.3f),
        };
        for (EntropyPatcher base : modes) {
            for (boolean next : new boolean[] {true, false}) {
                for (int m : new int[] {0, 3}) {
                    EntropyPatcher p = base.withIncludeNextToken(next).withMaxPatchLength(m);
                    for (float[] h : inputs) {
                        int[] expected = p.lengths(h);
                        assertEquals(h.length == 0 ? 0 : h.length + (next ? 1 : 0), IntStream.of(expected).sum());
                        for (int c : CHUNKS) {
                            assertArrayEquals(expected, streamEntropies(p, h, c),
                                    p.mode() + " next=" + next + " m=" + m + " N=" + h.length + " chunk=" + c);
                        }
                    }
                }
            }
        }
    }

    @Test
    void spaceStreamEqualsArray() throws IOException {
        Random r = new Random(1);
        byte[][] inputs = {new byte[0], {'a'}, {' '}, "a b".getBytes(), randomText(r, 10007)};
        for (boolean next : new boolean[] {true, false}) {
            for (int m : new int[] {0, 2}) {
                SpacePatcher p = new SpacePatcher(next, m);
                for (byte[] text : inputs) {
                    for (boolean bos : new boolean[] {true, false}) {
                        int[] ids = blt4j.tokenizer.ByteTokenizer.encode(text, bos, false);
                        int[] expected = p.lengths(ids);
                        for (int c : CHUNKS) {
                            IntList out = new IntList();
                            SpacePatchStream s = new SpacePatchStream(next, m, out);
                            if (bos) {
                                s.acceptToken(1);
                            }
                            for (int off = 0; off < text.length; off += c) {
                                s.acceptBytes(text, off, Math.min(c, text.length - off));
                            }
                            assertEquals(ids.length, s.finish());
                            assertArrayEquals(expected, out.toArray(),
                                    "next=" + next + " m=" + m + " N=" + ids.length + " chunk=" + c);
                        }
                        IntList viaStream = new IntList();
                        SpacePatchStream.patch(new ByteArrayInputStream(text), bos, false, next, m, viaStream);
                        assertArrayEquals(expected, viaStream.toArray());
                    }
                }
            }
        }
    }

    @Test
    void largeStreamInConstantMemory() throws IOException {
        // 32 MiB generated on the fly, never materialized: only O(1) patcher state + the stats histogram.
        long size = 32L << 20;
        InputStream in = new InputStream() {
            long left = size;
            long x = 12345;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left == 0) {
                    return -1;
                }
                int n = (int) Math.min(len, left);
                for (int i = 0; i < n; i++) {
                    x = x * 6364136223846793005L + 1442695040888963407L;
                    int v = (int) (x >>> 59); // 0..31
                    b[off + i] = (byte) (v < 5 ? ' ' : 'a' + v % 26);
                }
                left -= n;
                return n;
            }
        };
        PatchStats stats = new PatchStats();
        long n = SpacePatchStream.patch(in, true, true, true, 0, stats);
        assertEquals(size + 2, n);
        assertEquals(size + 3, stats.sum());
        org.junit.jupiter.api.Assertions.assertTrue(stats.mean() > 3 && stats.mean() < 10, stats.toString());
    }
}
