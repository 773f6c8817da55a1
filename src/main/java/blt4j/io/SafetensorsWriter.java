package blt4j.io;

import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Collects named tensors and metadata and writes them as one safetensors file that PyTorch/HF tooling can
 * read. Writes are atomic (see {@link AtomicFiles}) so an interrupted save never destroys the previous
 * file, and data is streamed in small chunks so saving does not need a second copy of the model in memory.
 *
 * <p>Arrays are kept by reference, not copied: do not modify them between {@code add...} and
 * {@link #write(Path)}. Tensors are written in insertion order, which makes the output deterministic.
 */
public final class SafetensorsWriter {
    private static final int CHUNK_BYTES = 1 << 20;

    private record Entry(String name, StDtype dtype, int[] shape, float[] floats, int[] ints) {
        long numel() {
            return floats != null ? floats.length : ints.length;
        }
    }

    private final List<Entry> entries = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** Adds an F32 tensor; {@code shape} must multiply to {@code data.length} (empty shape = scalar). */
    public SafetensorsWriter addFloats(String name, float[] data, int... shape) {
        checkNew(name, data.length, shape);
        entries.add(new Entry(name, StDtype.F32, shape.clone(), data, null));
        return this;
    }

    /** Adds an I32 tensor; {@code shape} must multiply to {@code data.length} (empty shape = scalar). */
    public SafetensorsWriter addInts(String name, int[] data, int... shape) {
        checkNew(name, data.length, shape);
        entries.add(new Entry(name, StDtype.I32, shape.clone(), null, data));
        return this;
    }

    /** Adds (or replaces) a {@code __metadata__} entry. */
    public SafetensorsWriter putMetadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    /** Number of tensors added so far. */
    public int size() {
        return entries.size();
    }

    /** Atomically writes everything added so far to {@code target}, replacing any existing file. */
    public void write(Path target) throws IOException {
        AtomicFiles.writeAtomically(target, this::writeTo);
    }

    /** Writes the file contents to {@code file} directly (no atomicity); exposed for tests. */
    void writeTo(Path file) throws IOException {
        byte[] header = header();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            buf.putLong(header.length);
            writeFully(ch, buf.flip());
            writeFully(ch, ByteBuffer.wrap(header));
            for (Entry e : entries) {
                int n = (int) e.numel();
                int per = CHUNK_BYTES / 4;
                for (int off = 0; off < n; off += per) {
                    int k = Math.min(per, n - off);
                    buf.clear();
                    if (e.floats != null) {
                        buf.asFloatBuffer().put(e.floats, off, k);
                    } else {
                        buf.asIntBuffer().put(e.ints, off, k);
                    }
                    buf.limit(k * 4);
                    writeFully(ch, buf);
                }
            }
        }
    }

    /** The header JSON, space-padded to a multiple of 8 bytes like the reference implementation. */
    private byte[] header() {
        StringWriter sw = new StringWriter();
        try (JsonWriter w = new JsonWriter(sw)) {
            w.setHtmlSafe(false);
            w.beginObject();
            if (!metadata.isEmpty()) {
                w.name("__metadata__").beginObject();
                for (Map.Entry<String, String> m : metadata.entrySet()) {
                    w.name(m.getKey()).value(m.getValue());
                }
                w.endObject();
            }
            long offset = 0;
            for (Entry e : entries) {
                long bytes = e.numel() * e.dtype.size();
                w.name(e.name).beginObject();
                w.name("dtype").value(e.dtype.headerName());
                w.name("shape").beginArray();
                for (int d : e.shape) {
                    w.value(d);
                }
                w.endArray();
                w.name("data_offsets").beginArray().value(offset).value(offset + bytes).endArray();
                w.endObject();
                offset += bytes;
            }
            w.endObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // StringWriter does not throw
        }
        byte[] json = sw.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private void checkNew(String name, int length, int[] shape) {
        Objects.requireNonNull(name, "name");
        if (name.equals("__metadata__")) {
            throw new IllegalArgumentException("'__metadata__' is reserved and cannot name a tensor");
        }
        if (names.contains(name)) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': negative dimension in shape "
                        + Arrays.toString(shape));
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                break;
            }
        }
        if (n != length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape)
                    + " needs " + n + " elements but the array has " + length);
        }
        names.add(name);
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
