package blt4j.model;

/**
 * A model config (or the JSON it came from) that cannot describe a model blt4j builds: a field out of range, of the
 * wrong JSON type, missing where required, duplicated, or a shape too large for memory. The message names the
 * source (the file when known, else {@code config}), the field by its reference JSON name and the accepted range,
 * e.g. {@code runs/x/config.json: n_heads_global = 0; must be ≥ 1 and divide dim_global (256)}.
 */
public final class ConfigException extends IllegalArgumentException {
    private final String source;
    private final String field;
    private final String detail;

    /** @param field the reference JSON name, or null when the problem is not one field's */
    public ConfigException(String source, String field, String detail) {
        this(source, field, detail, null);
    }

    public ConfigException(String source, String field, String detail, Throwable cause) {
        super((source == null ? "config" : source) + ": " + detail, cause);
        this.source = source == null ? "config" : source;
        this.field = field;
        this.detail = detail;
    }

    /** {@code source: field = value; rule}. */
    public static ConfigException field(String source, String field, Object value, String rule) {
        return new ConfigException(source, field, field + " = " + show(value) + "; " + rule);
    }

    /** The same problem reported for another source (a file path once the caller knows it). */
    public ConfigException withSource(String newSource) {
        return new ConfigException(newSource, field, detail, getCause());
    }

    public String source() {
        return source;
    }

    /** The reference JSON name of the offending field, or null. */
    public String field() {
        return field;
    }

    /** Throws {@link #field} unless {@code ok}. */
    static void require(boolean ok, String source, String field, Object value, String rule) {
        if (!ok) {
            throw field(source, field, value, rule);
        }
    }

    private static String show(Object value) {
        String s = String.valueOf(value);
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }
}
