package blt4j.train;

import blt4j.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.Arrays;

/**
 * Training text as one token stream: every document becomes [BOS] + (byte+4)… + [EOS], documents concatenated.
 * Any bytes are accepted (byte-level model); ids are kept as 16-bit chars to halve memory. A BPE stream
 * ({@link #retokenized}) holds token ids instead, with the number of byte-stream positions each id stands for.
 */
public final class Corpus {
    private final char[] ids;
    private final int documents;
    private final long bytes;
    private final String source;
    private final int[] positionsPerId;   // null: every id is one position (the byte stream)

    private Corpus(char[] ids, int documents, long bytes, String source, int[] positionsPerId) {
        this.ids = ids;
        this.documents = documents;
        this.bytes = bytes;
        this.source = source;
        this.positionsPerId = positionsPerId;
    }

    /**
     * The same text as a stream of BPE tokens: byte runs re-encoded, specials kept. Each token counts as the
     * byte-stream positions it covers, so losses of every model are divided by the same numbers.
     */
    public Corpus retokenized(blt4j.tokenizer.BpeTokenizer bpe) {
        int[] tokens = bpe.encodeByteIds(ids());
        char[] packed = new char[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            packed[i] = (char) tokens[i];
        }
        return new Corpus(packed, documents, bytes, source + " (BPE " + bpe.vocabSize() + ")", bpe.byteLengths());
    }

    /** True for a byte-tokenizer stream, false for a BPE one. */
    public boolean byteStream() {
        return positionsPerId == null;
    }

    /** Byte-stream positions token id {@code id} stands for (1 in a byte stream). */
    public int positions(int id) {
        return positionsPerId == null ? 1 : positionsPerId[id];
    }

    /** Byte-stream positions of the whole stream (its length for a byte stream). */
    public long positions() {
        if (positionsPerId == null) {
            return ids.length;
        }
        long n = 0;
        for (char c : ids) {
            n += positionsPerId[c];
        }
        return n;
    }

    /** Raw bytes of the stream, specials dropped (the text BPE is trained on). */
    public List<byte[]> documentBytes() {
        List<byte[]> out = new ArrayList<>();
        java.io.ByteArrayOutputStream doc = new java.io.ByteArrayOutputStream();
        for (char c : ids) {
            if (c >= ByteTokenizer.OFFSET) {
                doc.write(c - ByteTokenizer.OFFSET);
            } else if (doc.size() > 0) {
                out.add(doc.toByteArray());
                doc.reset();
            }
        }
        if (doc.size() > 0) {
            out.add(doc.toByteArray());
        }
        return out;
    }

    /** One document per file; a folder is walked recursively (sorted paths, hidden files skipped). */
    public static Corpus load(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new IOException("training data not found: " + path);
        }
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(path)) {
            try (Stream<Path> s = Files.walk(path)) {
                s.filter(Files::isRegularFile)
                        .filter(p -> !p.getFileName().toString().startsWith("."))
                        .sorted()
                        .forEach(files::add);
            }
        } else {
            files.add(path);
        }
        List<byte[]> docs = new ArrayList<>();
        for (Path f : files) {
            docs.add(Files.readAllBytes(f));
        }
        return of(docs, path.toString());
    }

    public static Corpus of(List<byte[]> docs, String source) throws IOException {
        long total = 0;
        long bytes = 0;
        for (byte[] d : docs) {
            total += d.length + 2;
            bytes += d.length;
        }
        if (bytes == 0) {
            throw new IOException("training data " + source + " is empty");
        }
        if (total > Integer.MAX_VALUE) {
            throw new IOException("training data " + source + " is over 2 GiB; split it");
        }
        char[] ids = new char[(int) total];
        int at = 0;
        for (byte[] d : docs) {
            ids[at++] = ByteTokenizer.BOS;
            for (byte b : d) {
                ids[at++] = (char) ((b & 0xFF) + ByteTokenizer.OFFSET);
            }
            ids[at++] = ByteTokenizer.EOS;
        }
        return new Corpus(ids, docs.size(), bytes, source, null);
    }

    /**
     * The corpus shipped inside blt4j: the project's own sources and documentation (the only text it may ship),
     * copied into the jar under {@code corpus/} at build time.
     */
    public static Corpus embedded() throws IOException {
        List<byte[]> docs = new ArrayList<>();
        try {
            var url = Corpus.class.getResource("/corpus");
            if (url == null) {
                throw new IOException("embedded corpus missing from the jar (resource /corpus); rebuild with mvn package");
            }
            var uri = url.toURI();
            if ("jar".equals(uri.getScheme())) {
                try (FileSystem fs = FileSystems.newFileSystem(uri, Map.of())) {
                    collect(fs.getPath("/corpus"), docs);
                }
            } else {
                collect(Path.of(uri), docs);
            }
        } catch (URISyntaxException e) {
            throw new IOException("cannot locate embedded corpus: " + e.getMessage(), e);
        }
        return of(docs, "embedded corpus (blt4j sources and docs)");
    }

    private static void collect(Path root, List<byte[]> docs) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = new ArrayList<>(s.filter(Files::isRegularFile).toList());
        }
        Collections.sort(files, (a, b) -> a.toString().compareTo(b.toString()));
        for (Path f : files) {
            try (InputStream in = Files.newInputStream(f)) {
                docs.add(in.readAllBytes());
            }
        }
    }

    /** Splits off the last {@code fraction} of the stream as held-out data (the split point is a token index). */
    public Corpus[] split(double heldOutFraction) {
        int cut = (int) Math.round(ids.length * (1 - heldOutFraction));
        cut = Math.max(1, Math.min(ids.length - 1, cut));
        char[] train = Arrays.copyOfRange(ids, 0, cut);
        char[] held = Arrays.copyOfRange(ids, cut, ids.length);
        return new Corpus[] {
            new Corpus(train, documents, cut, source + " [first " + pct(1 - heldOutFraction) + "]", positionsPerId),
            new Corpus(held, documents, ids.length - cut, source + " [last " + pct(heldOutFraction) + "]", positionsPerId)
        };
    }

    private static String pct(double f) {
        return Math.round(f * 100) + "%";
    }

    public int length() {
        return ids.length;
    }

    /** All token ids of the stream (for patch precomputation). */
    public int[] ids() {
        int[] out = new int[ids.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = ids[i];
        }
        return out;
    }

    public int id(int i) {
        return ids[i];
    }

    public int documents() {
        return documents;
    }

    public long bytes() {
        return bytes;
    }

    public String source() {
        return source;
    }
}
