package blt4j.compute;

/**
 * The transcendental functions of the reference kernels, in one place so that a device port (TornadoVM's
 * {@code TornadoMath}, fp32-only devices) can swap them. Computed in double and rounded once, as the reference
 * always has, so results do not depend on a float libm.
 */
public final class KernelMath {
    private KernelMath() {}

    /** bfloat16 bits to fp32 (exact: bf16 is the upper half of an fp32). */
    public static float bf16(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /** fp32 to bfloat16 bits, rounding to nearest-even; NaN stays a (quiet) NaN. */
    public static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    public static float exp(float x) {
        return (float) Math.exp(x);
    }

    public static float log(float x) {
        return (float) Math.log(x);
    }

    public static float sqrt(float x) {
        return (float) Math.sqrt(x);
    }

    /** 1/sqrt(x). */
    public static float invSqrt(float x) {
        return (float) (1.0 / Math.sqrt(x));
    }

    /** 1/(1 + e^−x). */
    public static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }
}
