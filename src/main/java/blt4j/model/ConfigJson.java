package blt4j.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.annotations.SerializedName;
import com.google.gson.internal.LazilyParsedNumber;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.StringReader;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Strict reading of config JSON: malformed text, trailing content and duplicate keys (which a plain JSON reader
 * resolves silently by keeping the last) are refused, and fields are bound with their JSON types checked (no
 * string for a number, no fraction for an integer, no null for a required number). Every problem is a
 * {@link ConfigException} naming the source and the field.
 */
public final class ConfigJson {
    private ConfigJson() {}

    private static final BigDecimal INT_MIN = BigDecimal.valueOf(Integer.MIN_VALUE);
    private static final BigDecimal INT_MAX = BigDecimal.valueOf(Integer.MAX_VALUE);
    private static final BigDecimal LONG_MIN = BigDecimal.valueOf(Long.MIN_VALUE);
    private static final BigDecimal LONG_MAX = BigDecimal.valueOf(Long.MAX_VALUE);

    /**
     * A small text file (a config, a checkpoint's state), with errors that say what is wrong with it: missing, a
     * folder, a FIFO or device (refused before reading, so nothing hangs), too large to be one, not UTF-8.
     */
    public static String readText(Path file, String what) throws IOException {
        if (!Files.exists(file)) {
            throw new IOException(what + " not found: " + file);
        }
        if (!Files.isRegularFile(file)) {
            throw new IOException(what + " " + file + (Files.isDirectory(file) ? " is a folder" : " is not a regular file")
                    + ", not a JSON file");
        }
        long size = Files.size(file);
        if (size > (64L << 20)) {
            throw new IOException(what + " " + file + " is " + size + " bytes, far too large to be one");
        }
        try {
            return Files.readString(file);
        } catch (CharacterCodingException e) {
            throw new IOException(what + " " + file + " is not UTF-8 text (a binary or corrupt file?)", e);
        }
    }

    /** Parses a JSON object strictly; duplicate keys at any depth are refused. */
    public static JsonObject parseObject(String text, String source) {
        if (text == null || text.isBlank()) {
            throw new ConfigException(source, null, "empty config (no JSON object)");
        }
        try (JsonReader r = new JsonReader(new StringReader(text))) {
            r.setStrictness(Strictness.STRICT);
            if (r.peek() != JsonToken.BEGIN_OBJECT) {
                throw new ConfigException(source, null, "a config must be a JSON object, found " + r.peek());
            }
            JsonElement e = read(r, "", source);
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new ConfigException(source, null, "not valid JSON: content after the config object");
            }
            return e.getAsJsonObject();
        } catch (ConfigException e) {
            throw e;
        } catch (IOException | IllegalStateException | NumberFormatException e) {
            throw new ConfigException(source, null, "not valid JSON: " + e.getMessage(), e);
        }
    }

    private static JsonElement read(JsonReader r, String path, String source) throws IOException {
        switch (r.peek()) {
            case BEGIN_OBJECT -> {
                JsonObject o = new JsonObject();
                r.beginObject();
                while (r.hasNext()) {
                    String name = r.nextName();
                    String full = path.isEmpty() ? name : path + "." + name;
                    if (o.has(name)) {
                        throw new ConfigException(source, full, "key " + full + " appears twice; duplicate keys are refused "
                                + "(which one was meant is ambiguous)");
                    }
                    o.add(name, read(r, full, source));
                }
                r.endObject();
                return o;
            }
            case BEGIN_ARRAY -> {
                JsonArray a = new JsonArray();
                r.beginArray();
                while (r.hasNext()) {
                    a.add(read(r, path, source));
                }
                r.endArray();
                return a;
            }
            case STRING -> {
                return new JsonPrimitive(r.nextString());
            }
            case NUMBER -> {
                return new JsonPrimitive(new LazilyParsedNumber(r.nextString()));
            }
            case BOOLEAN -> {
                return new JsonPrimitive(r.nextBoolean());
            }
            case NULL -> {
                r.nextNull();
                return JsonNull.INSTANCE;
            }
            default -> throw new ConfigException(source, path.isEmpty() ? null : path, "not valid JSON at " + r.getPath());
        }
    }

    /** The JSON name of a config field: its {@code @SerializedName}, else the Java name. */
    static String jsonName(Field f) {
        SerializedName n = f.getAnnotation(SerializedName.class);
        return n == null ? f.getName() : n.value();
    }

    /** The config fields of a class (public, not static, not transient). */
    static List<Field> fields(Class<?> c) {
        List<Field> out = new ArrayList<>();
        for (Field f : c.getDeclaredFields()) {
            int m = f.getModifiers();
            if (!Modifier.isStatic(m) && !Modifier.isTransient(m) && !f.isSynthetic()) {
                f.setAccessible(true);
                out.add(f);
            }
        }
        return out;
    }

    /** How many keys of {@code obj} name a field of {@code type} (0 means the section describes nothing we read). */
    static int knownKeys(JsonObject obj, Class<?> type) {
        int n = 0;
        for (Field f : fields(type)) {
            if (obj.has(jsonName(f))) {
                n++;
            }
        }
        return n;
    }

    /**
     * Sets the fields of {@code target} present in {@code obj}, checking each JSON value's type; unknown keys are
     * ignored (released configs carry fields blt4j does not use).
     *
     * @param nullKeepsDefault names of primitive fields where JSON null means "unset" (the reference's optional ones)
     */
    static void bind(JsonObject obj, Object target, String source, String prefix, Set<String> nullKeepsDefault) {
        for (Field f : fields(target.getClass())) {
            String name = jsonName(f);
            if (!obj.has(name)) {
                continue;
            }
            JsonElement v = obj.get(name);
            String label = prefix + name;
            try {
                Object value = convert(v, f, label, source, nullKeepsDefault.contains(name));
                if (value != KEEP) {
                    f.set(target, value);
                }
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static final Object KEEP = new Object();

    private static Object convert(JsonElement v, Field f, String label, String source, boolean nullKeeps) {
        Class<?> t = f.getType();
        if (v.isJsonNull()) {
            if (!t.isPrimitive()) {
                return null;
            }
            if (nullKeeps) {
                return KEEP;
            }
            throw ConfigException.field(source, label, "null", "must be " + kind(t) + ", not null");
        }
        if (t == int.class || t == Integer.class) {
            return (int) integral(v, label, source, INT_MIN, INT_MAX, "an integer (32-bit)");
        }
        if (t == long.class || t == Long.class) {
            return integral(v, label, source, LONG_MIN, LONG_MAX, "an integer (64-bit)");
        }
        if (t == double.class || t == Double.class) {
            return number(v, label, source).doubleValue();
        }
        if (t == float.class || t == Float.class) {
            return (float) number(v, label, source).doubleValue();
        }
        if (t == boolean.class || t == Boolean.class) {
            if (!(v.isJsonPrimitive() && v.getAsJsonPrimitive().isBoolean())) {
                throw ConfigException.field(source, label, v, "must be true or false");
            }
            return v.getAsBoolean();
        }
        if (t == String.class) {
            if (!(v.isJsonPrimitive() && v.getAsJsonPrimitive().isString())) {
                throw ConfigException.field(source, label, v, "must be a string");
            }
            return v.getAsString();
        }
        if (t == List.class) {
            if (!v.isJsonArray()) {
                throw ConfigException.field(source, label, v, "must be a list of integers");
            }
            List<Integer> out = new ArrayList<>();
            for (JsonElement e : v.getAsJsonArray()) {
                out.add((int) integral(e, label, source, INT_MIN, INT_MAX, "a list of integers"));
            }
            return List.copyOf(out);
        }
        throw new IllegalStateException("config field " + label + " has an unsupported Java type " + t);
    }

    private static String kind(Class<?> t) {
        if (t == int.class || t == long.class) {
            return "an integer";
        }
        if (t == boolean.class) {
            return "true or false";
        }
        return "a number";
    }

    private static BigDecimal number(JsonElement v, String label, String source) {
        if (!(v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber())) {
            throw ConfigException.field(source, label, v, "must be a number" + (v.isJsonPrimitive()
                    && v.getAsJsonPrimitive().isString() ? " (not a string)" : ""));
        }
        try {
            return new BigDecimal(v.getAsString());
        } catch (NumberFormatException e) {
            throw ConfigException.field(source, label, v, "must be a number");
        }
    }

    private static long integral(JsonElement v, String label, String source, BigDecimal min, BigDecimal max, String what) {
        if (!(v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber())) {
            throw ConfigException.field(source, label, v, "must be " + what + (v.isJsonPrimitive()
                    && v.getAsJsonPrimitive().isString() ? " (not a string)" : ""));
        }
        BigDecimal d = number(v, label, source);
        if (d.signum() != 0 && d.stripTrailingZeros().scale() > 0) {
            throw ConfigException.field(source, label, v, "must be " + what + ", not a fraction");
        }
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw ConfigException.field(source, label, v, "must be " + what + " in [" + min + ", " + max + "]");
        }
        return d.longValueExact();
    }

    /** A section of {@code root} that must be a JSON object when present (null when absent). */
    public static JsonObject section(JsonObject root, String key, String source) {
        if (!root.has(key)) {
            return null;
        }
        JsonElement e = root.get(key);
        if (!e.isJsonObject()) {
            throw ConfigException.field(source, key, e, "must be a JSON object");
        }
        return e.getAsJsonObject();
    }
}
