package blt4j.tokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Byte-level BPE, the tokenizer of the BPE baseline. Ids 0..3 are the byte tokenizer's specials and 4..259 its
 * bytes, so every byte string (invalid UTF-8 included) encodes and decodes exactly; id 260 + r is merge r, the
 * concatenation of two earlier ids. Merges never cross a {@link PreSplit} chunk boundary. Training picks the pair
 * with the highest count; ties go to the smallest (left, right) id pair, so a corpus always gives the same merges.
 */
public final class BpeTokenizer {
    /** The first line of a merges file. */
    static final String HEADER = "#blt4j-bpe-merges v1";
    public static final int MAX_VOCAB = 1 << 16;
    private static final int CACHE_LIMIT = 1 << 18;

    private final int[] left;
    private final int[] right;
    private final byte[][] bytes;              // the bytes of every id (specials: empty)
    private final Map<Long, Integer> merged;   // (left, right) → merged id
    private final Map<Chunk, int[]> cache = new HashMap<>();

    private BpeTokenizer(int[] left, int[] right) {
        this.left = left;
        this.right = right;
        int vocab = ByteTokenizer.VOCAB + left.length;
        bytes = new byte[vocab][];
        for (int id = 0; id < ByteTokenizer.VOCAB; id++) {
            bytes[id] = id < ByteTokenizer.OFFSET ? new byte[0] : new byte[] {(byte) (id - ByteTokenizer.OFFSET)};
        }
        merged = new HashMap<>();
        for (int r = 0; r < left.length; r++) {
            int id = ByteTokenizer.VOCAB + r;
            if (left[r] < ByteTokenizer.OFFSET || right[r] < ByteTokenizer.OFFSET || left[r] >= id || right[r] >= id) {
                throw new IllegalArgumentException("merge " + id + " = (" + left[r] + ", " + right[r]
                        + "): both parts must be byte or earlier merge ids in [4, " + (id - 1) + "]");
            }
            if (merged.putIfAbsent(key(left[r], right[r]), id) != null) {
                throw new IllegalArgumentException("merge " + id + " repeats the pair (" + left[r] + ", " + right[r] + ")");
            }
            byte[] a = bytes[left[r]];
            byte[] b = bytes[right[r]];
            byte[] ab = Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, ab, a.length, b.length);
            bytes[id] = ab;
        }
    }

    /** A tokenizer from its merges: merge r joins ids left[r] and right[r] into id 260 + r. */
    public static BpeTokenizer of(int[] left, int[] right) {
        if (left.length != right.length || ByteTokenizer.VOCAB + left.length > MAX_VOCAB) {
            throw new IllegalArgumentException("merges: " + left.length + " left and " + right.length
                    + " right ids (at most " + (MAX_VOCAB - ByteTokenizer.VOCAB) + ")");
        }
        return new BpeTokenizer(left.clone(), right.clone());
    }

    /**
     * Learns merges until the vocabulary holds {@code vocabSize} ids (specials and bytes included) or no pair occurs
     * twice. {@code documents} are raw bytes; merges stay inside pre-split chunks.
     */
    public static BpeTokenizer train(List<byte[]> documents, int vocabSize, PrintStream log) {
        if (vocabSize < ByteTokenizer.VOCAB || vocabSize > MAX_VOCAB) {
            throw new IllegalArgumentException("BPE vocabulary size must be in [" + ByteTokenizer.VOCAB + ", " + MAX_VOCAB
                    + "] (4 specials + 256 bytes + merges), got " + vocabSize);
        }
        Map<Chunk, int[]> counts = new HashMap<>();
        for (byte[] doc : documents) {
            PreSplit.forEach(doc, 0, doc.length, (from, to) -> counts.computeIfAbsent(new Chunk(doc, from, to), c -> new int[1])[0]++);
        }
        MergeLearner learner = new MergeLearner(counts);
        long start = System.nanoTime();
        int want = vocabSize - ByteTokenizer.VOCAB;
        while (learner.merges() < want && learner.mergeBest()) {
            int done = learner.merges();
            if (log != null && (done % 2000 == 0 || done == want)) {
                log.printf("bpe: %,d / %,d merges (%.1f s)%n", done, want, (System.nanoTime() - start) / 1e9);
            }
        }
        if (log != null && learner.merges() < want) {
            log.printf("bpe: stopped at %,d merges: no pair occurs twice any more (vocabulary %,d, not %,d)%n",
                    learner.merges(), ByteTokenizer.VOCAB + learner.merges(), vocabSize);
        }
        return new BpeTokenizer(learner.left(), learner.right());
    }

    /** Specials, bytes and merges. */
    public int vocabSize() {
        return bytes.length;
    }

    public int merges() {
        return left.length;
    }

    /** Bytes a token stands for: 1 for a special (it is one position of the byte models' stream too), else its length. */
    public int byteLength(int id) {
        return Math.max(1, bytes[id].length);
    }

    /** {@link #byteLength} of every id. */
    public int[] byteLengths() {
        int[] out = new int[bytes.length];
        for (int id = 0; id < out.length; id++) {
            out[id] = byteLength(id);
        }
        return out;
    }

    /** The bytes of a token (empty for a special). */
    public byte[] bytes(int id) {
        return bytes[id].clone();
    }

    /** Token ids of raw bytes (no specials added). */
    public int[] encode(byte[] text) {
        IntList out = new IntList(text.length / 3 + 4);
        encodeInto(text, 0, text.length, out);
        return out.toArray();
    }

    /**
     * Re-tokenizes a byte-tokenizer stream (ids 0..259): each run of byte ids between specials is BPE-encoded, the
     * specials stay where they are.
     */
    public int[] encodeByteIds(int[] byteIds) {
        IntList out = new IntList(byteIds.length / 3 + 4);
        byte[] run = new byte[256];
        int n = 0;
        for (int id : byteIds) {
            if (id < 0 || id >= ByteTokenizer.VOCAB) {
                throw new IllegalArgumentException("not a byte-tokenizer id: " + id);
            }
            if (id >= ByteTokenizer.OFFSET) {
                if (n == run.length) {
                    run = Arrays.copyOf(run, n * 2);
                }
                run[n++] = (byte) (id - ByteTokenizer.OFFSET);
            } else {
                encodeInto(run, 0, n, out);
                n = 0;
                out.add(id);
            }
        }
        encodeInto(run, 0, n, out);
        return out.toArray();
    }

    /** The bytes of token ids; specials produce no bytes. */
    public byte[] decode(int[] ids) {
        int n = 0;
        for (int id : ids) {
            if (id < 0 || id >= bytes.length) {
                throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + bytes.length);
            }
            n += bytes[id].length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (int id : ids) {
            System.arraycopy(bytes[id], 0, out, at, bytes[id].length);
            at += bytes[id].length;
        }
        return out;
    }

    private void encodeInto(byte[] text, int from, int to, IntList out) {
        PreSplit.forEach(text, from, to, (a, b) -> {
            Chunk probe = new Chunk(text, a, b);
            int[] ids = cache.get(probe);
            if (ids == null) {
                ids = encodeChunk(text, a, b);
                if (cache.size() >= CACHE_LIMIT) {
                    cache.clear(); // bounded memory on huge texts; frequent chunks come back at once
                }
                cache.put(new Chunk(Arrays.copyOfRange(text, a, b), 0, b - a), ids);
            }
            out.addAll(ids);
        });
    }

    /** Applies merges in rank order: the lowest-ranked pair present is merged everywhere, left to right, until none is. */
    private int[] encodeChunk(byte[] text, int from, int to) {
        int[] s = new int[to - from];
        for (int i = 0; i < s.length; i++) {
            s[i] = (text[from + i] & 0xFF) + ByteTokenizer.OFFSET;
        }
        int n = s.length;
        while (n > 1) {
            int best = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < n; i++) {
                Integer id = merged.get(key(s[i], s[i + 1]));
                if (id != null && id < best) {
                    best = id;
                }
            }
            if (best == Integer.MAX_VALUE) {
                break;
            }
            int r = best - ByteTokenizer.VOCAB;
            n = MergeLearner.replace(s, n, left[r], right[r], best);
        }
        return Arrays.copyOf(s, n);
    }

    static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    /**
     * The merges file's text: a header, then one "left right" line per merge in rank order, with the merged bytes as
     * a comment. Callers write it (atomically, or inside a checkpoint folder that is renamed into place).
     */
    public String mergesText() {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (int r = 0; r < left.length; r++) {
            sb.append(left[r]).append(' ').append(right[r]).append("\t# ").append(escape(bytes[ByteTokenizer.VOCAB + r]))
                    .append('\n');
        }
        return sb.toString();
    }

    /** Reads a merges file holding {@link #mergesText}; a malformed line is an error naming its line number. */
    public static BpeTokenizer load(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("BPE merges file " + file + " not found");
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
            throw new IOException(file + " is not a blt4j BPE merges file (its first line must be \"" + HEADER + "\")");
        }
        IntList l = new IntList(lines.size());
        IntList r = new IntList(lines.size());
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            String body = (hash < 0 ? line : line.substring(0, hash)).trim();
            if (body.isEmpty()) {
                continue;
            }
            String[] parts = body.split(" +");
            try {
                if (parts.length != 2) {
                    throw new NumberFormatException();
                }
                l.add(Integer.parseInt(parts[0]));
                r.add(Integer.parseInt(parts[1]));
            } catch (NumberFormatException e) {
                throw new IOException(file + " line " + (i + 1) + ": expected two token ids \"left right\", got \"" + line + "\"");
            }
        }
        try {
            return of(l.toArray(), r.toArray());
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Printable ASCII as it is, every other byte (and the backslash) as \\xNN: one merge per line, readable. */
    private static String escape(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            int v = x & 0xFF;
            if (v >= 0x20 && v < 0x7F && v != '\\') {
                sb.append((char) v);
            } else {
                sb.append(String.format("\\x%02x", v));
            }
        }
        return sb.toString();
    }

    /** A byte range compared by content (the key of chunk counts and the encoding cache). */
    static final class Chunk {
        final byte[] text;
        final int from;
        final int to;
        private final int hash;

        Chunk(byte[] text, int from, int to) {
            this.text = text;
            this.from = from;
            this.to = to;
            int h = 1;
            for (int i = from; i < to; i++) {
                h = 31 * h + text[i];
            }
            hash = h;
        }

        int length() {
            return to - from;
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Chunk c && Arrays.equals(text, from, to, c.text, c.from, c.to);
        }
    }

    /** A growable int array. */
    static final class IntList {
        private int[] a;
        private int n;

        IntList(int capacity) {
            a = new int[Math.max(4, capacity)];
        }

        void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        void addAll(int[] v) {
            if (n + v.length > a.length) {
                a = Arrays.copyOf(a, Math.max(n * 2, n + v.length));
            }
            System.arraycopy(v, 0, a, n, v.length);
            n += v.length;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }

    /** For tests: every pair ever merged, as a list of "left right" strings in rank order. */
    List<String> mergeList() {
        List<String> out = new ArrayList<>();
        for (int r = 0; r < left.length; r++) {
            out.add(left[r] + " " + right[r]);
        }
        return out;
    }
}
