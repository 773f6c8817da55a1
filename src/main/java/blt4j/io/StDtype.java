package blt4j.io;

/**
 * Element types that may appear in a safetensors header. Named {@code StDtype} so that it never gets
 * confused with the compute precision of the model: this enum describes bytes on disk, nothing more.
 * All dtypes are recognised when parsing (so that a file with, say, a U8 tensor still opens), but only
 * some of them can be converted by {@link SafetensorsFile#readFloats} and {@link SafetensorsFile#readInts}.
 */
public enum StDtype {
    BOOL(1), U8(1), I8(1), F8_E4M3(1), F8_E5M2(1),
    U16(2), I16(2), F16(2), BF16(2),
    U32(4), I32(4), F32(4),
    U64(8), I64(8), F64(8);

    private final int size;

    StDtype(int size) {
        this.size = size;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    /** True for the dtypes that {@link SafetensorsFile#readInts} converts to int. */
    public boolean isIntReadable() {
        return this == I32 || this == I64;
    }

    /** The dtype for a header string such as {@code "BF16"}, or null when the name is unknown. */
    public static StDtype fromHeaderName(String name) {
        if (name == null) {
            return null;
        }
        for (StDtype d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }

    /** The header spelling of this dtype. */
    public String headerName() {
        return name();
    }
}
