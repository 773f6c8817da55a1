package blt4j.io;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.DoubleBuffer;
import java.nio.LongBuffer;
import java.nio.MappedByteBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Read-only, memory-mapped view of a safetensors file. The header is validated completely when the file
 * is opened, so a corrupt or truncated file fails early with a message naming the file and the problem
 * instead of an {@link IndexOutOfBoundsException} or a huge allocation halfway through loading a model.
 *
 * <p>The data section is mapped in windows of at most 1 GiB (a {@link MappedByteBuffer} cannot exceed
 * 2 GiB), so files and single tensors larger than 2 GiB are readable. Mappings stay valid after
 * {@link #close()} until they are garbage collected; the file must not be truncated while it is open.
 * Instances are safe for concurrent reads.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** Refuse headers larger than this: real headers are kilobytes, and the check bounds the allocation. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    /** Default mapping window. */
    static final long DEFAULT_WINDOW_BYTES = 1L << 30;

    /** Each window maps this many extra bytes so that an element starting in it never straddles two. */
    private static final int WINDOW_OVERLAP = 8;

    /** Elements converted per step for dtypes that need a conversion loop. */
    private static final int CONVERT_CHUNK = 1 << 14;

    private static final String METADATA_KEY = "__metadata__";
    private static final TypeAdapter<JsonElement> JSON = new Gson().getAdapter(JsonElement.class);

    private final Path path;
    private final long fileSize;
    private final long dataStart;
    private final long windowBytes;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private volatile ByteBuffer[] windows;

    private SafetensorsFile(Path path, long fileSize, long dataStart, long windowBytes,
                            Map<String, TensorInfo> tensors, Map<String, String> metadata, ByteBuffer[] windows) {
        this.path = path;
        this.fileSize = fileSize;
        this.dataStart = dataStart;
        this.windowBytes = windowBytes;
        this.tensors = tensors;
        this.metadata = metadata;
        this.windows = windows;
    }

    /** Opens and validates {@code path}; throws {@link SafetensorsException} if it is malformed. */
    public static SafetensorsFile open(Path path) throws IOException {
        return open(path, DEFAULT_WINDOW_BYTES);
    }

    /** As {@link #open(Path)} with a chosen mapping window; tests use tiny windows to exercise straddling. */
    static SafetensorsFile open(Path path, long windowBytes) throws IOException {
        if (windowBytes < 1 || windowBytes > Integer.MAX_VALUE - WINDOW_OVERLAP) {
            throw new IllegalArgumentException("window size out of range: " + windowBytes);
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new SafetensorsException(path, "file is " + size
                        + " bytes, shorter than the 8-byte header length prefix (empty or truncated file?)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, path);
            long headerLen = lenBuf.getLong(0);
            if (headerLen < 0 || headerLen > MAX_HEADER_BYTES) {
                throw new SafetensorsException(path, "absurd header size " + Long.toUnsignedString(headerLen)
                        + " bytes (limit " + MAX_HEADER_BYTES + "); not a safetensors file?");
            }
            if (8 + headerLen > size) {
                throw new SafetensorsException(path, "header length " + headerLen
                        + " extends past the end of the file (file size " + size + ", truncated file?)");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBytes, 8, path);
            headerBytes.flip();
            String header = decodeUtf8(headerBytes, path);

            long dataStart = 8 + headerLen;
            long dataSize = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<TensorInfo> infos = parseHeader(header, dataSize, metadata, path);
            Map<String, TensorInfo> byOffset = checkLayout(infos, path);
            ByteBuffer[] windows = mapWindows(ch, dataStart, dataSize, windowBytes);
            return new SafetensorsFile(path, size, dataStart, windowBytes, Collections.unmodifiableMap(byOffset),
                    Collections.unmodifiableMap(metadata), windows);
        }
    }

    /** The file this view reads. */
    public Path path() {
        return path;
    }

    /** File size in bytes. */
    public long fileSize() {
        return fileSize;
    }

    /** Absolute file offset of the data section (8 + header length). */
    public long dataStart() {
        return dataStart;
    }

    /** All tensors, ordered by data offset. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /** The {@code __metadata__} entries (empty when absent), in header order. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** True if the file holds a tensor called {@code name}. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The header entry for {@code name}; the error for a missing name lists similar names. */
    public TensorInfo info(String name) throws SafetensorsException {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new SafetensorsException(path, "no tensor named '" + name + "' (file has " + tensors.size()
                    + " tensors" + suggestions(name) + ")");
        }
        return t;
    }

    /** Reads a F32, BF16, F16 or F64 tensor as fp32. */
    public float[] readFloats(String name) throws SafetensorsException {
        TensorInfo t = info(name);
        float[] dst = new float[arrayLength(t)];
        readFloats(t, dst, 0);
        return dst;
    }

    /** Reads a float tensor after checking that its shape is exactly {@code expectedShape}. */
    public float[] readFloatsChecked(String name, int... expectedShape) throws SafetensorsException {
        TensorInfo t = info(name);
        if (!t.hasShape(expectedShape)) {
            throw new SafetensorsException(path, "tensor '" + name + "' has shape "
                    + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(expectedShape));
        }
        return readFloats(name);
    }

    /** Reads a float tensor into {@code dst} starting at {@code dstOffset}, converting to fp32. */
    public void readFloats(String name, float[] dst, int dstOffset) throws SafetensorsException {
        TensorInfo t = info(name);
        if (dstOffset < 0 || dstOffset > dst.length || dst.length - dstOffset < t.numel()) {
            throw new IllegalArgumentException(path + ": tensor '" + name + "' has " + t.numel()
                    + " elements, which do not fit in an array of length " + dst.length + " at offset " + dstOffset);
        }
        readFloats(t, dst, dstOffset);
    }

    /** Reads an I32 or I64 tensor; I64 values outside the int range are an error. */
    public int[] readInts(String name) throws SafetensorsException {
        TensorInfo t = info(name);
        if (!t.dtype().isIntReadable()) {
            throw new SafetensorsException(path, "tensor '" + name + "' has dtype " + t.dtype()
                    + ", cannot read it as integers (supported: I32, I64)");
        }
        int[] dst = new int[arrayLength(t)];
        ByteBuffer[] w = windows();
        if (t.dtype() == StDtype.I32) {
            forEachChunk(w, t, (chunk, count, index) -> chunk.asIntBuffer().get(dst, (int) index, count));
        } else {
            long[] tmp = new long[(int) Math.min(CONVERT_CHUNK, dst.length)];
            forEachChunk(w, t, (chunk, count, index) -> {
                LongBuffer lb = chunk.asLongBuffer();
                for (int done = 0; done < count; ) {
                    int k = Math.min(tmp.length, count - done);
                    lb.get(tmp, 0, k);
                    for (int i = 0; i < k; i++) {
                        long v = tmp[i];
                        if (v != (int) v) {
                            throw new SafetensorsException(path, "tensor '" + name + "' (I64) element "
                                    + (index + done + i) + " = " + v + " does not fit in an int");
                        }
                        dst[(int) index + done + i] = (int) v;
                    }
                    done += k;
                }
            });
        }
        return dst;
    }

    /** Releases the view; further reads fail. The mappings themselves are freed by the garbage collector. */
    @Override
    public void close() {
        windows = null;
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }

    // ---------------------------------------------------------------- reading

    private void readFloats(TensorInfo t, float[] dst, int dstOffset) throws SafetensorsException {
        ByteBuffer[] w = windows();
        switch (t.dtype()) {
            case F32 -> forEachChunk(w, t, (chunk, count, index) ->
                    chunk.asFloatBuffer().get(dst, dstOffset + (int) index, count));
            case F64 -> {
                double[] tmp = new double[(int) Math.min(CONVERT_CHUNK, t.numel())];
                forEachChunk(w, t, (chunk, count, index) -> {
                    DoubleBuffer db = chunk.asDoubleBuffer();
                    int base = dstOffset + (int) index;
                    for (int done = 0; done < count; ) {
                        int k = Math.min(tmp.length, count - done);
                        db.get(tmp, 0, k);
                        for (int i = 0; i < k; i++) {
                            dst[base + done + i] = (float) tmp[i];
                        }
                        done += k;
                    }
                });
            }
            case BF16, F16 -> {
                boolean bf16 = t.dtype() == StDtype.BF16;
                short[] tmp = new short[(int) Math.min(CONVERT_CHUNK, t.numel())];
                forEachChunk(w, t, (chunk, count, index) -> {
                    ShortBuffer sb = chunk.asShortBuffer();
                    int base = dstOffset + (int) index;
                    for (int done = 0; done < count; ) {
                        int k = Math.min(tmp.length, count - done);
                        sb.get(tmp, 0, k);
                        int o = base + done;
                        if (bf16) {
                            for (int i = 0; i < k; i++) {
                                dst[o + i] = Float.intBitsToFloat(tmp[i] << 16);
                            }
                        } else {
                            for (int i = 0; i < k; i++) {
                                dst[o + i] = halfToFloat(tmp[i]);
                            }
                        }
                        done += k;
                    }
                });
            }
            default -> throw new SafetensorsException(path, "tensor '" + t.name() + "' has dtype " + t.dtype()
                    + ", cannot read it as floats (supported: F32, BF16, F16, F64)");
        }
    }

    /** IEEE 754 binary16 bits to fp32, exact for every input including subnormals, infinities and NaN. */
    static float halfToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0) {
            float v = mant * 0x1p-24f; // zero or subnormal: mant * 2^-24, exact in fp32
            return sign != 0 ? -v : v;
        }
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13)); // inf, or NaN keeping its payload
        }
        return Float.intBitsToFloat(sign | ((exp + (127 - 15)) << 23) | (mant << 13));
    }

    @FunctionalInterface
    private interface ChunkReader {
        /** {@code chunk} holds {@code count} little-endian elements, the first being element {@code index}. */
        void read(ByteBuffer chunk, int count, long index) throws SafetensorsException;
    }

    /**
     * Walks the tensor's bytes window by window. Every element starting inside window k is read from
     * window k, which maps {@link #WINDOW_OVERLAP} extra bytes, so no element is ever split.
     */
    private void forEachChunk(ByteBuffer[] w, TensorInfo t, ChunkReader reader) throws SafetensorsException {
        int es = t.dtype().size();
        long pos = t.begin();
        long end = t.end();
        long index = 0;
        while (pos < end) {
            int k = (int) (pos / windowBytes);
            long windowStart = k * windowBytes;
            long limit = Math.min(windowStart + windowBytes, end);
            long count = (limit - pos + es - 1) / es;
            int off = (int) (pos - windowStart);
            ByteBuffer chunk = w[k].slice(off, (int) (count * es)).order(ByteOrder.LITTLE_ENDIAN);
            reader.read(chunk, (int) count, index);
            pos += count * es;
            index += count;
        }
    }

    private ByteBuffer[] windows() throws SafetensorsException {
        ByteBuffer[] w = windows;
        if (w == null) {
            throw new SafetensorsException(path, "file has been closed");
        }
        return w;
    }

    private int arrayLength(TensorInfo t) throws SafetensorsException {
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException(path, "tensor '" + t.name() + "' has " + n
                    + " elements, too many for one Java array");
        }
        return (int) n;
    }

    private String suggestions(String name) {
        if (tensors.isEmpty()) {
            return "";
        }
        List<String> keys = new ArrayList<>(tensors.keySet());
        keys.sort(Comparator.comparingInt((String k) -> -commonPrefix(k, name)).thenComparing(k -> k));
        List<String> few = keys.subList(0, Math.min(5, keys.size()));
        return "; closest: " + String.join(", ", few) + (keys.size() > few.size() ? ", ..." : "");
    }

    private static int commonPrefix(String a, String b) {
        int n = Math.min(a.length(), b.length());
        int i = 0;
        while (i < n && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        return i;
    }

    // ---------------------------------------------------------------- opening

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path path) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new SafetensorsException(path, "unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }

    private static String decodeUtf8(ByteBuffer bytes, Path path) throws SafetensorsException {
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes);
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsException(path, "header is not valid UTF-8", e);
        }
    }

    private static List<TensorInfo> parseHeader(String header, long dataSize, Map<String, String> metadata,
                                                Path path) throws SafetensorsException {
        List<TensorInfo> infos = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        try {
            JsonReader r = new JsonReader(new StringReader(header));
            r.setStrictness(Strictness.STRICT);
            JsonToken first = r.peek();
            if (first != JsonToken.BEGIN_OBJECT) {
                throw new SafetensorsException(path, "header JSON is not an object (it starts with " + first + ")");
            }
            r.beginObject();
            while (r.hasNext()) {
                String name = r.nextName();
                if (!seen.add(name)) {
                    throw new SafetensorsException(path, "duplicate key '" + name + "' in header");
                }
                JsonElement value = JSON.read(r);
                if (METADATA_KEY.equals(name)) {
                    parseMetadata(value, metadata, path);
                } else {
                    infos.add(parseEntry(name, value, dataSize, path));
                }
            }
            r.endObject();
            boolean trailing;
            try {
                trailing = r.peek() != JsonToken.END_DOCUMENT;
            } catch (IOException e) {
                trailing = true; // a strict reader refuses a second top-level value outright
            }
            if (trailing) {
                throw new SafetensorsException(path, "header has trailing data after the JSON object");
            }
        } catch (SafetensorsException e) {
            throw e;
        } catch (IOException | JsonParseException | IllegalStateException | NumberFormatException e) {
            throw new SafetensorsException(path, "header is not valid JSON: " + gsonMessage(e), e);
        }
        return infos;
    }

    /** Gson's message without its advice to switch to lenient parsing, which would not help here. */
    private static String gsonMessage(Exception e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        if (nl >= 0) {
            m = m.substring(0, nl);
        }
        return m.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
    }

    private static void parseMetadata(JsonElement value, Map<String, String> metadata, Path path)
            throws SafetensorsException {
        if (!value.isJsonObject()) {
            throw new SafetensorsException(path, "__metadata__ must be an object of strings, got " + describe(value));
        }
        for (Map.Entry<String, JsonElement> e : value.getAsJsonObject().entrySet()) {
            JsonElement v = e.getValue();
            if (!(v.isJsonPrimitive() && v.getAsJsonPrimitive().isString())) {
                throw new SafetensorsException(path, "__metadata__ value for '" + e.getKey()
                        + "' must be a string, got " + describe(v));
            }
            metadata.put(e.getKey(), v.getAsString());
        }
    }

    private static TensorInfo parseEntry(String name, JsonElement value, long dataSize, Path path)
            throws SafetensorsException {
        String where = "tensor '" + name + "'";
        if (!value.isJsonObject()) {
            throw new SafetensorsException(path, where + ": entry must be an object, got " + describe(value));
        }
        JsonObject o = value.getAsJsonObject();
        JsonElement dtypeEl = require(o, "dtype", where, path);
        JsonElement shapeEl = require(o, "shape", where, path);
        JsonElement offsetsEl = require(o, "data_offsets", where, path);

        if (!(dtypeEl.isJsonPrimitive() && dtypeEl.getAsJsonPrimitive().isString())) {
            throw new SafetensorsException(path, where + ": dtype must be a string, got " + describe(dtypeEl));
        }
        StDtype dtype = StDtype.fromHeaderName(dtypeEl.getAsString());
        if (dtype == null) {
            throw new SafetensorsException(path, where + ": unknown dtype '" + dtypeEl.getAsString() + "'");
        }

        if (!shapeEl.isJsonArray()) {
            throw new SafetensorsException(path, where + ": shape must be an array, got " + describe(shapeEl));
        }
        JsonArray shapeArr = shapeEl.getAsJsonArray();
        long[] shape = new long[shapeArr.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            long d = integer(shapeArr.get(i), where + ": shape[" + i + "]", path);
            if (d < 0) {
                throw new SafetensorsException(path, where + ": negative dimension " + d + " in shape " + shapeArr);
            }
            shape[i] = d;
            try {
                numel = Math.multiplyExact(numel, d);
            } catch (ArithmeticException e) {
                throw new SafetensorsException(path, where + ": shape " + shapeArr + " overflows (element count"
                        + " exceeds 2^63)");
            }
        }

        if (!offsetsEl.isJsonArray() || offsetsEl.getAsJsonArray().size() != 2) {
            throw new SafetensorsException(path, where + ": data_offsets must be an array [begin, end], got "
                    + describe(offsetsEl));
        }
        JsonArray offsets = offsetsEl.getAsJsonArray();
        long begin = integer(offsets.get(0), where + ": data_offsets[0]", path);
        long end = integer(offsets.get(1), where + ": data_offsets[1]", path);
        if (begin < 0 || end < 0) {
            throw new SafetensorsException(path, where + ": negative data_offsets " + offsets);
        }
        if (begin > end) {
            throw new SafetensorsException(path, where + ": data_offsets " + offsets + " have begin > end");
        }
        if (end > dataSize) {
            throw new SafetensorsException(path, where + ": data_offsets " + offsets
                    + " extend past the end of the file (data section is " + dataSize + " bytes, truncated file?)");
        }
        long expected;
        try {
            expected = Math.multiplyExact(numel, dtype.size());
        } catch (ArithmeticException e) {
            expected = -1;
        }
        if (expected != end - begin) {
            throw new SafetensorsException(path, where + ": byte length " + (end - begin) + " from data_offsets "
                    + offsets + " does not match shape " + shapeArr + " x " + dtype + " (" + numel + " elements x "
                    + dtype.size() + " bytes" + (expected >= 0 ? " = " + expected : " overflows") + ")");
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static JsonElement require(JsonObject o, String field, String where, Path path)
            throws SafetensorsException {
        JsonElement e = o.get(field);
        if (e == null) {
            throw new SafetensorsException(path, where + ": missing field '" + field + "'");
        }
        return e;
    }

    /** A JSON integer; rejects fractions, exponents, strings and values beyond the long range. */
    private static long integer(JsonElement e, String what, Path path) throws SafetensorsException {
        if (e.isJsonPrimitive()) {
            JsonPrimitive p = e.getAsJsonPrimitive();
            if (p.isNumber()) {
                String text = p.getAsString();
                try {
                    return Long.parseLong(text);
                } catch (NumberFormatException ignored) {
                    throw new SafetensorsException(path, what + " must be an integer in the long range, got "
                            + text);
                }
            }
        }
        throw new SafetensorsException(path, what + " must be an integer, got " + describe(e));
    }

    private static String describe(JsonElement e) {
        String kind = e.isJsonObject() ? "object" : e.isJsonArray() ? "array" : e.isJsonNull() ? "null"
                : e.getAsJsonPrimitive().isString() ? "string" : e.getAsJsonPrimitive().isNumber() ? "number"
                : "boolean";
        String text = e.toString();
        if (text.length() > 60) {
            text = text.substring(0, 57) + "...";
        }
        return kind + " " + text;
    }

    /** Orders tensors by offset and rejects overlapping byte ranges; gaps are allowed. */
    private static Map<String, TensorInfo> checkLayout(List<TensorInfo> infos, Path path)
            throws SafetensorsException {
        List<TensorInfo> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        TensorInfo prev = null;
        for (TensorInfo t : sorted) {
            if (t.byteLength() == 0) {
                continue; // empty tensors occupy no bytes and cannot overlap anything
            }
            if (prev != null && t.begin() < prev.end()) {
                throw new SafetensorsException(path, "tensors '" + prev.name() + "' [" + prev.begin() + ", "
                        + prev.end() + ") and '" + t.name() + "' [" + t.begin() + ", " + t.end() + ") overlap");
            }
            prev = t;
        }
        Map<String, TensorInfo> map = new LinkedHashMap<>();
        for (TensorInfo t : sorted) {
            map.put(t.name(), t);
        }
        return map;
    }

    private static ByteBuffer[] mapWindows(FileChannel ch, long dataStart, long dataSize, long windowBytes)
            throws IOException {
        long n = (dataSize + windowBytes - 1) / windowBytes;
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("window size " + windowBytes + " too small for " + dataSize + " bytes");
        }
        int count = (int) n;
        ByteBuffer[] w = new ByteBuffer[count];
        for (int k = 0; k < count; k++) {
            long start = k * windowBytes;
            long len = Math.min(windowBytes + WINDOW_OVERLAP, dataSize - start);
            w[k] = ch.map(FileChannel.MapMode.READ_ONLY, dataStart + start, len);
        }
        return w;
    }
}
