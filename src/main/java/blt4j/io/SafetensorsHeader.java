package blt4j.io;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses and validates the JSON header of a safetensors file as strictly as the reference implementation:
 * duplicate keys anywhere are refused, every field must have its JSON type, all sizes are computed in 64 bits
 * with overflow reported as the file's fault, and the tensors' byte ranges must tile the data section
 * exactly. The header is read as a token stream (no Gson tree), so memory stays proportional to the header
 * length, which the caller has already checked against the file's real size.
 */
final class SafetensorsHeader {
    static final String METADATA_KEY = "__metadata__";

    /** Metadata key prefix of the per-tensor checksums that {@link SafetensorsWriter} records. */
    static final String CHECKSUM_PREFIX = "blt4j.crc32c.";

    /** Checksum value: 8 lowercase hex digits of CRC32C, then the dtype and shape it was computed for. */
    private static final Pattern CHECKSUM_VALUE = Pattern.compile("([0-9a-f]{8}) ([A-Z0-9_]+) (\\[[0-9,]*\\])");

    /** More dimensions than any real tensor has; bounds the work and memory one shape array can cost. */
    static final int MAX_RANK = 1024;

    /** JSON nesting deeper than this (in values the format does not define) is refused. */
    private static final int MAX_DEPTH = 64;

    /** What the header says, validated. */
    record Parsed(List<TensorInfo> tensorsByOffset, Map<String, String> metadata, Map<String, Integer> checksums) {}

    private final Path path;

    private SafetensorsHeader(Path path) {
        this.path = path;
    }

    /**
     * Parses the raw header bytes of a file whose data section is {@code dataSize} bytes. They are decoded
     * as strict UTF-8 while the JSON is read, so a large header is never held as a second, decoded copy.
     * The returned metadata excludes the checksum entries, which are returned separately by tensor name.
     */
    static Parsed parse(byte[] header, long dataSize, Path path) throws SafetensorsException {
        return new SafetensorsHeader(path).parse(header, dataSize);
    }

    private record RawEntry(String name, StDtype dtype, long[] shape, long begin, long end) {}

    private Parsed parse(byte[] header, long dataSize) throws SafetensorsException {
        if (header.length == 0 || header[0] != '{') {
            throw fail("header JSON is not an object: it must start with '{', found " + (header.length == 0
                    ? "an empty header" : quote(new String(header, 0, Math.min(20, header.length),
                    StandardCharsets.UTF_8))));
        }
        List<RawEntry> raw = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        boolean metadataSeen = false;
        Set<String> seen = new HashSet<>();
        try {
            CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
            JsonReader r = new JsonReader(new InputStreamReader(new ByteArrayInputStream(header), utf8));
            r.setStrictness(Strictness.STRICT);
            r.beginObject();
            while (r.hasNext()) {
                String name = r.nextName();
                if (!seen.add(name)) {
                    throw fail("duplicate key '" + name + "' in header");
                }
                if (METADATA_KEY.equals(name)) {
                    metadataSeen = true;
                    parseMetadata(r, metadata);
                } else {
                    raw.add(parseEntry(r, name));
                }
            }
            r.endObject();
            boolean trailing;
            try {
                trailing = r.peek() != JsonToken.END_DOCUMENT;
            } catch (CharacterCodingException e) {
                throw e;
            } catch (IOException e) {
                trailing = true; // a strict reader refuses a second top-level value outright
            }
            if (trailing) {
                throw fail("header has trailing data after the JSON object");
            }
        } catch (SafetensorsException e) {
            throw e;
        } catch (CharacterCodingException e) {
            throw new SafetensorsException(path, "header is not valid UTF-8", e);
        } catch (IOException | RuntimeException e) {
            // Gson reports syntax errors as IOException (MalformedJsonException, EOFException) and, for token
            // sequences that cannot occur after the peeks above, as IllegalStateException; both mean bad JSON.
            throw new SafetensorsException(path, "header is not valid JSON: " + gsonMessage(e), e);
        }
        assert metadataSeen || metadata.isEmpty();

        List<TensorInfo> infos = new ArrayList<>(raw.size());
        for (RawEntry e : raw) {
            infos.add(validate(e, dataSize));
        }
        List<TensorInfo> sorted = checkTiling(infos, dataSize);
        Map<String, Integer> checksums = extractChecksums(metadata, sorted);
        return new Parsed(sorted, metadata, checksums);
    }

    // ---------------------------------------------------------------- JSON

    private void parseMetadata(JsonReader r, Map<String, String> metadata) throws IOException {
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw fail("__metadata__ must be an object of strings, got " + describe(r));
        }
        r.beginObject();
        while (r.hasNext()) {
            String key = r.nextName();
            if (metadata.containsKey(key)) {
                throw fail("duplicate key '" + key + "' in __metadata__");
            }
            if (r.peek() != JsonToken.STRING) {
                throw fail("__metadata__ value for '" + key + "' must be a string, got " + describe(r));
            }
            metadata.put(key, r.nextString());
        }
        r.endObject();
    }

    private RawEntry parseEntry(JsonReader r, String name) throws IOException {
        String where = "tensor '" + name + "'";
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw fail(where + ": entry must be an object, got " + describe(r));
        }
        StDtype dtype = null;
        long[] shape = null;
        long[] offsets = null;
        Set<String> fields = new HashSet<>();
        r.beginObject();
        while (r.hasNext()) {
            String field = r.nextName();
            if (!fields.add(field)) {
                throw fail(where + ": duplicate key '" + field + "' in its entry");
            }
            switch (field) {
                case "dtype" -> {
                    if (r.peek() != JsonToken.STRING) {
                        throw fail(where + ": dtype must be a string, got " + describe(r));
                    }
                    String d = r.nextString();
                    dtype = StDtype.fromHeaderName(d);
                    if (dtype == null) {
                        throw fail(where + ": unknown dtype " + quote(d));
                    }
                }
                case "shape" -> {
                    if (r.peek() != JsonToken.BEGIN_ARRAY) {
                        throw fail(where + ": shape must be an array, got " + describe(r));
                    }
                    shape = integerArray(r, where + ": shape", MAX_RANK, where + ": shape has more than "
                            + MAX_RANK + " dimensions (more than this reader supports)");
                    for (long d : shape) {
                        if (d < 0) {
                            throw fail(where + ": negative dimension " + d + " in shape " + brief(shape));
                        }
                    }
                }
                case "data_offsets" -> {
                    if (r.peek() != JsonToken.BEGIN_ARRAY) {
                        throw fail(where + ": data_offsets must be an array [begin, end], got " + describe(r));
                    }
                    offsets = integerArray(r, where + ": data_offsets", 2, where
                            + ": data_offsets must be an array [begin, end], got more than 2 elements");
                    if (offsets.length != 2) {
                        throw fail(where + ": data_offsets must be an array [begin, end], got " + offsets.length
                                + " element(s) " + brief(offsets));
                    }
                }
                default -> skipChecked(r, where + ": field '" + field + "'", 0);
            }
        }
        r.endObject();
        if (dtype == null) {
            throw fail(where + ": missing field 'dtype'");
        }
        if (shape == null) {
            throw fail(where + ": missing field 'shape'");
        }
        if (offsets == null) {
            throw fail(where + ": missing field 'data_offsets'");
        }
        return new RawEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    /** Reads an array of JSON integers; more than {@code max} elements is an error. */
    private long[] integerArray(JsonReader r, String what, int max, String tooMany) throws IOException {
        long[] out = new long[Math.min(max, 4)];
        int n = 0;
        r.beginArray();
        while (r.hasNext()) {
            if (n == max) {
                throw fail(tooMany);
            }
            if (n == out.length) {
                out = Arrays.copyOf(out, Math.min(max, out.length * 2));
            }
            String element = what + "[" + n + "]";
            if (r.peek() != JsonToken.NUMBER) {
                throw fail(element + " must be an integer, got " + describe(r));
            }
            String text = r.nextString();
            try {
                out[n++] = Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw fail(element + " must be an integer in the long range, got " + text);
            }
        }
        r.endArray();
        return Arrays.copyOf(out, n);
    }

    /** Skips a value the format does not define, still refusing duplicate keys and absurd nesting in it. */
    private void skipChecked(JsonReader r, String where, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw fail(where + ": nested deeper than " + MAX_DEPTH + " levels");
        }
        switch (r.peek()) {
            case BEGIN_OBJECT -> {
                Set<String> keys = new HashSet<>();
                r.beginObject();
                while (r.hasNext()) {
                    String k = r.nextName();
                    if (!keys.add(k)) {
                        throw fail(where + ": duplicate key '" + k + "'");
                    }
                    skipChecked(r, where, depth + 1);
                }
                r.endObject();
            }
            case BEGIN_ARRAY -> {
                r.beginArray();
                while (r.hasNext()) {
                    skipChecked(r, where, depth + 1);
                }
                r.endArray();
            }
            default -> r.skipValue();
        }
    }

    /** The kind and text of the next value, for an error message; only called just before failing. */
    private static String describe(JsonReader r) throws IOException {
        JsonToken t = r.peek();
        return switch (t) {
            case STRING -> "string " + quote(r.nextString());
            case NUMBER -> "number " + shorten(r.nextString());
            case BOOLEAN -> "boolean " + r.nextBoolean();
            case NULL -> "null";
            case BEGIN_ARRAY -> "array";
            case BEGIN_OBJECT -> "object";
            default -> t.toString();
        };
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

    // ---------------------------------------------------------------- sizes and layout

    private TensorInfo validate(RawEntry e, long dataSize) throws SafetensorsException {
        String where = "tensor '" + e.name() + "'";
        long numel = 1;
        for (long d : e.shape()) {
            try {
                numel = Math.multiplyExact(numel, d);
            } catch (ArithmeticException x) {
                throw fail(where + ": shape " + brief(e.shape()) + " overflows 64-bit arithmetic (element count"
                        + " exceeds 2^63)");
            }
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(numel, e.dtype().size());
        } catch (ArithmeticException x) {
            throw fail(where + ": shape " + brief(e.shape()) + " x " + e.dtype() + " overflows 64-bit arithmetic ("
                    + numel + " elements x " + e.dtype().size() + " bytes exceeds 2^63)");
        }
        long begin = e.begin();
        long end = e.end();
        String offs = json(new long[] {begin, end});
        if (begin < 0 || end < 0) {
            throw fail(where + ": negative data_offsets " + offs);
        }
        if (begin > end) {
            throw fail(where + ": data_offsets " + offs + " have begin > end");
        }
        if (end > dataSize) {
            throw fail(where + ": data_offsets " + offs + " extend past the end of the file (data section is "
                    + dataSize + " bytes, truncated file?)");
        }
        if (end - begin != bytes) {
            throw fail(where + ": byte length " + (end - begin) + " from data_offsets " + offs
                    + " does not match shape " + brief(e.shape()) + " x " + e.dtype() + " (" + numel + " elements x "
                    + e.dtype().size() + " bytes = " + bytes + ")");
        }
        return new TensorInfo(e.name(), e.dtype(), e.shape(), begin, end);
    }

    /**
     * Sorted by (begin, end), the byte ranges must tile the data section: the first begins at 0, each begins
     * where the previous ended and the last ends at the end of the file. This is the reference's rule; it
     * catches a header length that is a few bytes off (which would shift every tensor), relocated tensors,
     * and bytes appended to or cut from the file.
     */
    private List<TensorInfo> checkTiling(List<TensorInfo> infos, long dataSize) throws SafetensorsException {
        List<TensorInfo> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long cursor = 0;
        TensorInfo prev = null;
        for (TensorInfo t : sorted) {
            if (t.begin() < cursor) {
                throw fail("tensors '" + prev.name() + "' [" + prev.begin() + ", " + prev.end() + ") and '" + t.name()
                        + "' [" + t.begin() + ", " + t.end() + ") overlap");
            }
            if (t.begin() > cursor) {
                throw fail("bytes [" + cursor + ", " + t.begin() + ") of the data section belong to no tensor"
                        + " (gap before tensor '" + t.name() + "'; the reference format allows no gaps: wrong header"
                        + " length or edited data_offsets?)");
            }
            cursor = t.end();
            prev = t;
        }
        if (cursor != dataSize) {
            throw fail("data section is " + dataSize + " bytes but the tensors end at byte " + cursor + " ("
                    + (dataSize - cursor) + " bytes belong to no tensor: wrong header length, bytes appended to the"
                    + " file, or edited data_offsets?)");
        }
        return sorted;
    }

    /** Removes the checksum entries from {@code metadata} and checks that they describe the tensors present. */
    private Map<String, Integer> extractChecksums(Map<String, String> metadata, List<TensorInfo> tensors)
            throws SafetensorsException {
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (TensorInfo t : tensors) {
            byName.put(t.name(), t);
        }
        Map<String, Integer> checksums = new LinkedHashMap<>();
        var it = metadata.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<String, String> m = it.next();
            if (!m.getKey().startsWith(CHECKSUM_PREFIX)) {
                continue;
            }
            String name = m.getKey().substring(CHECKSUM_PREFIX.length());
            String where = "__metadata__ checksum '" + m.getKey() + "'";
            TensorInfo t = byName.get(name);
            if (t == null) {
                throw fail(where + " is for a tensor the file does not have (renamed or corrupt header?)");
            }
            Matcher v = CHECKSUM_VALUE.matcher(m.getValue());
            if (!v.matches()) {
                throw fail(where + " is malformed: " + quote(m.getValue()) + " (expected 8 hex digits, dtype, shape)");
            }
            String recorded = v.group(2) + " " + v.group(3);
            String actual = t.dtype().headerName() + " " + json(t.shape());
            if (!recorded.equals(actual)) {
                throw fail("tensor '" + name + "': header says " + actual + " but its checksum was recorded for "
                        + recorded + " (header edited or corrupt)");
            }
            checksums.put(name, Integer.parseUnsignedInt(v.group(1), 16));
            it.remove();
        }
        if (!checksums.isEmpty() && checksums.size() != tensors.size()) {
            for (TensorInfo t : tensors) {
                if (!checksums.containsKey(t.name())) {
                    throw fail("tensor '" + t.name() + "' has no checksum although the file records checksums for "
                            + checksums.size() + " other tensors (renamed or corrupt header?)");
                }
            }
        }
        return checksums;
    }

    // ---------------------------------------------------------------- helpers

    /** The values as the reference writer spells a shape: {@code [2,3]}. Exact (checksums bind to it). */
    static String json(long[] values) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                b.append(',');
            }
            b.append(values[i]);
        }
        return b.append(']').toString();
    }

    /** {@link #json(long[])} cut short for messages. */
    private static String brief(long[] values) {
        String s = json(values);
        return s.length() > 200 ? s.substring(0, 197) + "..." : s;
    }

    static String json(int[] values) {
        long[] l = new long[values.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = values[i];
        }
        return json(l);
    }

    private static String quote(String s) {
        return "'" + shorten(s) + "'";
    }

    private static String shorten(String s) {
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }

    private SafetensorsException fail(String problem) {
        return new SafetensorsException(path, problem);
    }
}
