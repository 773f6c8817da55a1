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
import java.util.zip.CRC32C;

/**
 * Collects named tensors and metadata and writes them as one safetensors file that PyTorch/HF tooling can
 * read. Writes are atomic (see {@link AtomicFiles}) so an interrupted save never destroys the previous
 * file, and data is streamed in small chunks so saving does not need a second copy of the model in memory.
 *
 * <p>Arrays are kept by reference, not copied: do not modify them between {@code add...} and
 * {@link #write(Path)}. Tensors are written in insertion order, which makes the output deterministic.
 *
 * <p>Every tensor's CRC32C (of its raw little-endian bytes) is recorded in {@code __metadata__} under
 * {@code blt4j.crc32c.<name>} as {@code "<8 hex digits> <dtype> <shape>"}, e.g. {@code "1a2b3c4d F32 [3,7]"};
 * {@link SafetensorsFile} verifies it on every read, and other readers ignore it. The checksums are computed
 * while the data is written (their text has a fixed width, so the header is rewritten in place afterwards).
 */
public final class SafetensorsWriter {
    private static final int CHUNK_BYTES = 1 << 20;

    /** Produces a tensor's elements on demand, so a model larger than memory can be written (converted, initialised). */
    @FunctionalInterface
    public interface FloatChunks {
        /** Puts elements {@code [from, from + count)} into {@code dst[0..count)}. */
        void read(long from, float[] dst, int count) throws IOException;
    }

    private record Entry(String name, StDtype dtype, long[] shape, float[] floats, int[] ints, FloatChunks chunks, long numel) {}

    private final List<Entry> entries = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** Adds an F32 tensor; {@code shape} must multiply to {@code data.length} (empty shape = scalar). */
    public SafetensorsWriter addFloats(String name, float[] data, int... shape) {
        return addFloats(name, StDtype.F32, data, shape);
    }

    /**
     * Adds a float tensor stored as {@code dtype}: F32, or BF16 / F16 rounded to nearest-even (values beyond
     * the F16 range become infinities, NaNs stay NaN).
     */
    public SafetensorsWriter addFloats(String name, StDtype dtype, float[] data, int... shape) {
        if (dtype != StDtype.F32 && dtype != StDtype.BF16 && dtype != StDtype.F16) {
            throw new IllegalArgumentException("tensor '" + name + "': cannot store floats as " + dtype
                    + " (supported: F32, BF16, F16)");
        }
        checkNew(name, data.length, shape);
        entries.add(new Entry(name, dtype, longs(shape), data, null, null, data.length));
        return this;
    }

    /**
     * Adds a float tensor of any size whose elements {@code chunks} produces while the file is written, stored as
     * F32, BF16 or F16.
     */
    public SafetensorsWriter addFloats(String name, StDtype dtype, FloatChunks chunks, long... shape) {
        if (dtype != StDtype.F32 && dtype != StDtype.BF16 && dtype != StDtype.F16) {
            throw new IllegalArgumentException("tensor '" + name + "': cannot store floats as " + dtype);
        }
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        checkName(name);
        entries.add(new Entry(name, dtype, shape.clone(), null, null, Objects.requireNonNull(chunks), n));
        return this;
    }

    /** A shape as 64-bit dimensions (the form {@link #addFloats(String, StDtype, FloatChunks, long...)} takes). */
    public static long[] longs(int[] shape) {
        long[] out = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            out[i] = shape[i];
        }
        return out;
    }

    /** Adds an I32 tensor; {@code shape} must multiply to {@code data.length} (empty shape = scalar). */
    public SafetensorsWriter addInts(String name, int[] data, int... shape) {
        checkNew(name, data.length, shape);
        entries.add(new Entry(name, StDtype.I32, longs(shape), null, data, null, data.length));
        return this;
    }

    /** Adds (or replaces) a {@code __metadata__} entry; keys starting {@code blt4j.crc32c.} are reserved. */
    public SafetensorsWriter putMetadata(String key, String value) {
        Objects.requireNonNull(key, "key");
        if (key.startsWith(SafetensorsHeader.CHECKSUM_PREFIX)) {
            throw new IllegalArgumentException("metadata key '" + key + "' is reserved for checksums");
        }
        metadata.put(key, Objects.requireNonNull(value, "value"));
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
        int[] crcs = new int[entries.size()];
        byte[] placeholder = header(crcs);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            buf.putLong(placeholder.length);
            writeFully(ch, buf.flip());
            writeFully(ch, ByteBuffer.wrap(placeholder));
            float[] scratch = null;
            for (int i = 0; i < entries.size(); i++) {
                Entry e = entries.get(i);
                CRC32C crc = new CRC32C();
                long n = e.numel();
                int per = CHUNK_BYTES / e.dtype.size();
                for (long off = 0; off < n; off += per) {
                    int k = (int) Math.min(per, n - off);
                    buf.clear();
                    if (e.chunks != null) {
                        scratch = scratch != null ? scratch : new float[CHUNK_BYTES / 2];
                        e.chunks.read(off, scratch, k);
                        fill(buf, e.dtype, scratch, null, 0, k);
                    } else {
                        fill(buf, e.dtype, e.floats, e.ints, (int) off, k);
                    }
                    buf.limit(k * e.dtype.size());
                    crc.update(buf.duplicate());
                    writeFully(ch, buf);
                }
                crcs[i] = (int) crc.getValue();
            }
            byte[] header = header(crcs);
            if (header.length != placeholder.length) {
                throw new IllegalStateException("checksum text changed the header length"); // fixed-width hex
            }
            ByteBuffer hb = ByteBuffer.wrap(header);
            for (long pos = 8; hb.hasRemaining(); ) {
                pos += ch.write(hb, pos);
            }
        }
    }

    /** Puts elements {@code [off, off + k)} of {@code floats} or {@code ints} into {@code buf} (position 0) as {@code dtype}. */
    private static void fill(ByteBuffer buf, StDtype dtype, float[] floats, int[] ints, int off, int k) {
        switch (dtype) {
            case F32 -> buf.asFloatBuffer().put(floats, off, k);
            case I32 -> buf.asIntBuffer().put(ints, off, k);
            case BF16 -> {
                for (int i = 0; i < k; i++) {
                    buf.putShort(2 * i, floatToBf16(floats[off + i]));
                }
            }
            case F16 -> {
                for (int i = 0; i < k; i++) {
                    buf.putShort(2 * i, floatToHalf(floats[off + i]));
                }
            }
            default -> throw new IllegalStateException("unexpected dtype " + dtype);
        }
    }

    /** fp32 to bfloat16 bits, rounding to nearest-even; NaN stays (quiet) NaN. */
    static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** fp32 to IEEE binary16 bits, rounding to nearest-even, with subnormals; overflow gives infinity. */
    static short floatToHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7FFFFFFF;
        if (abs > 0x7F800000) { // NaN: keep the top payload bits, and make sure it stays a NaN
            int mant = (abs >>> 13) & 0x3FF;
            return (short) (sign | 0x7C00 | 0x200 | mant);
        }
        if (abs >= 0x477FF000) { // >= 65520 (halfway to 2^16) rounds to infinity; also +-inf itself
            return (short) (sign | 0x7C00);
        }
        if (abs >= 0x38800000) { // normal in half: >= 2^-14
            int h = ((abs >>> 23) - 127 + 15) << 10 | ((abs >>> 13) & 0x3FF);
            int rem = abs & 0x1FFF;
            if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
                h++; // a carry out of the mantissa correctly bumps the exponent
            }
            return (short) (sign | h);
        }
        int m = (int) Math.rint(Float.intBitsToFloat(abs) * 0x1p24); // subnormal or zero; exact in double
        return (short) (sign | m); // m == 0x400 is the smallest normal, which is also the right encoding
    }

    /** The header JSON, space-padded to a multiple of 8 bytes like the reference implementation. */
    private byte[] header(int[] crcs) {
        StringWriter sw = new StringWriter();
        try (JsonWriter w = new JsonWriter(sw)) {
            w.setHtmlSafe(false);
            w.beginObject();
            w.name("__metadata__").beginObject();
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                w.name(m.getKey()).value(m.getValue());
            }
            for (int i = 0; i < entries.size(); i++) {
                Entry e = entries.get(i);
                w.name(SafetensorsHeader.CHECKSUM_PREFIX + e.name).value(String.format("%08x %s %s", crcs[i],
                        e.dtype.headerName(), SafetensorsHeader.json(e.shape)));
            }
            w.endObject();
            long offset = 0;
            for (Entry e : entries) {
                long bytes = e.numel() * e.dtype.size();
                w.name(e.name).beginObject();
                w.name("dtype").value(e.dtype.headerName());
                w.name("shape").beginArray();
                for (long d : e.shape) {
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

    private void checkName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.equals("__metadata__")) {
            throw new IllegalArgumentException("'__metadata__' is reserved and cannot name a tensor");
        }
        if (names.contains(name)) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        names.add(name);
    }

    private void checkNew(String name, int length, int[] shape) {
        Objects.requireNonNull(name, "name");
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
        checkName(name);
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
