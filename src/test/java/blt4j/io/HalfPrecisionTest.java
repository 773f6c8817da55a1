package blt4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HalfPrecisionTest {
    @TempDir
    Path dir;

    @Test
    void bf16KnownValues() throws Exception {
        int[] bits = {0x3F80, 0xC040, 0x4049, 0x0000, 0x8000, 0x0001, 0x807F, 0x7F80, 0xFF80, 0x7FC0, 0x7F7F};
        Path f = StFiles.raw(dir.resolve("bf16.safetensors"),
                "{\"x\":{\"dtype\":\"BF16\",\"shape\":[11],\"data_offsets\":[0,22]}}", StFiles.shortsLE(bits));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            float[] v = st.readFloats("x");
            assertEquals(1.0f, v[0]);
            assertEquals(-3.0f, v[1]);
            assertEquals(3.140625f, v[2]);
            assertEquals(Float.floatToRawIntBits(0.0f), Float.floatToRawIntBits(v[3]));
            assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(v[4]));
            assertEquals(0x1p-133f, v[5]); // smallest bf16 subnormal
            assertEquals(-0x7Fp-133f, v[6]); // largest negative subnormal
            assertEquals(Float.POSITIVE_INFINITY, v[7]);
            assertEquals(Float.NEGATIVE_INFINITY, v[8]);
            assertTrue(Float.isNaN(v[9]));
            assertEquals(0x1.FEp127f, v[10]); // largest finite bf16
        }
    }

    @Test
    void f16KnownValues() throws Exception {
        int[] bits = {0x3C00, 0xC000, 0x3555, 0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x7BFF, 0x7C00,
                0xFC00, 0x7E00, 0xFE01};
        Path f = StFiles.raw(dir.resolve("f16.safetensors"),
                "{\"x\":{\"dtype\":\"F16\",\"shape\":[2,7],\"data_offsets\":[0,28]}}", StFiles.shortsLE(bits));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            float[] v = st.readFloats("x");
            assertEquals(1.0f, v[0]);
            assertEquals(-2.0f, v[1]);
            assertEquals(0.333251953125f, v[2]);
            assertEquals(Float.floatToRawIntBits(0.0f), Float.floatToRawIntBits(v[3]));
            assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(v[4]));
            assertEquals(0x1p-24f, v[5]); // smallest subnormal, 5.96e-8
            assertEquals(-0x1p-24f, v[6]);
            assertEquals(1023 * 0x1p-24f, v[7]); // largest subnormal
            assertEquals(0x1p-14f, v[8]); // smallest normal
            assertEquals(65504f, v[9]); // largest finite
            assertEquals(Float.POSITIVE_INFINITY, v[10]);
            assertEquals(Float.NEGATIVE_INFINITY, v[11]);
            assertTrue(Float.isNaN(v[12]));
            assertTrue(Float.isNaN(v[13]));
        }
    }

    /** Every one of the 65536 half-precision patterns against an independent formula. */
    @Test
    void f16ExhaustiveAgainstFormula() {
        for (int h = 0; h < 0x10000; h++) {
            float got = SafetensorsFile.halfToFloat((short) h);
            int sign = (h >> 15) == 1 ? -1 : 1;
            int exp = (h >> 10) & 0x1F;
            int mant = h & 0x3FF;
            if (exp == 0x1F) {
                if (mant == 0) {
                    assertEquals(sign * Float.POSITIVE_INFINITY, got, "bits " + h);
                } else {
                    assertTrue(Float.isNaN(got), "bits " + h);
                }
                continue;
            }
            double expected = exp == 0 ? mant * Math.pow(2, -24) : (1 + mant / 1024.0) * Math.pow(2, exp - 15);
            expected *= sign;
            assertEquals((float) expected, got, "bits " + Integer.toHexString(h));
            assertEquals(sign < 0, (Float.floatToRawIntBits(got) >>> 31) == 1, "sign of " + h);
        }
    }

    @Test
    void halfTensorsStraddlingTinyWindowsAtOddOffsets() throws Exception {
        // One F16 element first, so the BF16 tensor starts at an odd-by-2 offset, then an I32 at offset 2 mod 4.
        int n = 77;
        int[] bf = new int[n];
        float[] expectedBf = new float[n];
        for (int i = 0; i < n; i++) {
            expectedBf[i] = (i - 38) * 0.5f; // exactly representable in bf16
            bf[i] = Float.floatToRawIntBits(expectedBf[i]) >>> 16;
        }
        int[] ints = new int[33];
        for (int i = 0; i < ints.length; i++) {
            ints[i] = i * 1_000_003 - 7;
        }
        long bfEnd = 2 + 2L * n;
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[0,2]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[7,11],\"data_offsets\":[2," + bfEnd + "]},"
                + "\"i\":{\"dtype\":\"I32\",\"shape\":[3,11],\"data_offsets\":[" + bfEnd + "," + (bfEnd + 132) + "]}}";
        Path f = StFiles.raw(dir.resolve("mixed.safetensors"), header,
                StFiles.concat(StFiles.shortsLE(0x3C00), StFiles.shortsLE(bf), StFiles.intsLE(ints)));
        for (long window : new long[] {1, 3, 7, 64, SafetensorsFile.DEFAULT_WINDOW_BYTES}) {
            try (SafetensorsFile st = SafetensorsFile.open(f, window)) {
                assertArrayEquals(new float[] {1.0f}, st.readFloats("h"), "window " + window);
                assertArrayEquals(expectedBf, st.readFloats("b"), "window " + window);
                assertArrayEquals(ints, st.readInts("i"), "window " + window);
            }
        }
    }
}
