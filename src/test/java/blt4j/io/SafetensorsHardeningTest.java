package blt4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Regression tests for the defects an outside tester found in the safetensors reader and writer. */
class SafetensorsHardeningTest {
    @TempDir
    Path dir;

    private static String entry(String name, String body) {
        return "\"" + name + "\":{" + body + "}";
    }

    private static final String TWO = "{"
            + entry("a", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]") + ","
            + entry("b", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]") + "}";
    private static final byte[] DATA = StFiles.floatsLE(1f, 2f, 3f, 4f);

    private SafetensorsException rejected(Path file, String problem) {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> {
            try (SafetensorsFile st = SafetensorsFile.open(file)) {
                for (TensorInfo t : st.tensors().values()) {
                    if (t.dtype().isIntReadable()) {
                        st.readInts(t.name());
                    } else {
                        st.readFloats(t.name());
                    }
                }
            }
        });
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(problem), "says '" + problem + "': " + e.getMessage());
        return e;
    }

    private Path header(String name, String header, byte[] data) throws IOException {
        return StFiles.raw(dir.resolve(name + ".safetensors"), header, data);
    }

    // ---------------------------------------------------------------- layout: tiling

    @Test
    void headerLengthAFewBytesShortOrLongIsRefused() throws Exception {
        // A padded header (as every writer pads) used to parse with a prefix 1..7 bytes short: all data shifted.
        byte[] h = (TWO + "       ").getBytes(StandardCharsets.UTF_8);
        for (int delta = -7; delta <= 8; delta++) {
            if (delta == 0) {
                continue;
            }
            Path f = StFiles.rawWithLength(dir.resolve("len" + delta + ".safetensors"), h.length + delta, h, DATA);
            assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(f).close(), "delta " + delta);
        }
        Path shortBy3 = StFiles.rawWithLength(dir.resolve("short3.safetensors"), h.length - 3, h, DATA);
        rejected(shortBy3, "data section is 19 bytes but the tensors end at byte 16");
        Path exact = StFiles.rawWithLength(dir.resolve("exact.safetensors"), h.length, h, DATA);
        try (SafetensorsFile st = SafetensorsFile.open(exact)) {
            assertArrayEquals(new float[] {3f, 4f}, st.readFloats("b"));
        }
    }

    @Test
    void gapsTrailingBytesAndRelocationsAreRefused() throws Exception {
        rejected(header("gap", "{"
                + entry("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]") + ","
                + entry("b", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]") + "}", new byte[12]),
                "bytes [4, 8) of the data section belong to no tensor");
        rejected(header("lead", "{"
                + entry("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]") + "}", new byte[8]),
                "bytes [0, 4) of the data section belong to no tensor");
        rejected(header("trail", TWO, Arrays.copyOf(DATA, 17)), "17 bytes but the tensors end at byte 16");
        rejected(header("none", "{}", new byte[4]), "4 bytes but the tensors end at byte 0");
        // b moved into bytes appended after the data
        rejected(header("moved", "{"
                + entry("a", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]") + ","
                + entry("b", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]") + "}", new byte[24]),
                "bytes [8, 16) of the data section belong to no tensor");
        rejected(header("emptyInside", "{"
                + entry("a", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]") + ","
                + entry("e", "\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]") + "}", new byte[8]),
                "overlap");
    }

    @Test
    void headerMustStartWithBrace() throws Exception {
        rejected(header("ws", " " + TWO, DATA), "header JSON is not an object: it must start with '{'");
        rejected(header("emptyHeader", "", new byte[0]), "found an empty header");
    }

    // ---------------------------------------------------------------- sizes

    @Test
    void sizesAre64BitAndOverflowNamesTensorAndField() throws Exception {
        rejected(header("ovf", "{" + entry("w", "\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],"
                + "\"data_offsets\":[0,0]") + "}", new byte[0]), "tensor 'w': shape [4294967296,4294967296] overflows");
        rejected(header("ovfBytes", "{" + entry("w", "\"dtype\":\"F64\",\"shape\":[2305843009213693952],"
                + "\"data_offsets\":[0,0]") + "}", new byte[0]), "tensor 'w': shape [2305843009213693952] x F64 overflows");
        rejected(header("bigNum", "{" + entry("w", "\"dtype\":\"F32\",\"shape\":[18446744073709551616],"
                + "\"data_offsets\":[0,0]") + "}", new byte[0]), "tensor 'w': shape[0] must be an integer in the long range");
        rejected(header("negOff", "{" + entry("w", "\"dtype\":\"F32\",\"shape\":[1],"
                + "\"data_offsets\":[-4,0]") + "}", new byte[0]), "tensor 'w': negative data_offsets");
        rejected(header("negDim", "{" + entry("w", "\"dtype\":\"F32\",\"shape\":[-2,-2],"
                + "\"data_offsets\":[0,16]") + "}", new byte[16]), "tensor 'w': negative dimension -2");
        rejected(header("mismatch", "{" + entry("w", "\"dtype\":\"BF16\",\"shape\":[3],"
                + "\"data_offsets\":[0,8]") + "}", new byte[8]), "byte length 8 from data_offsets [0,8] does not match");
        StringBuilder rank = new StringBuilder("[");
        for (int i = 0; i <= SafetensorsHeader.MAX_RANK; i++) {
            rank.append(i == 0 ? "" : ",").append(1);
        }
        rejected(header("rank", "{" + entry("w", "\"dtype\":\"F32\",\"shape\":" + rank + "],"
                + "\"data_offsets\":[0,4]") + "}", new byte[4]), "more than 1024 dimensions");
    }

    @Test
    void emptyTensorWithHugeDimensionOpensButIsNoIntShape() throws Exception {
        // [0, 2^32] has no elements, so the reference accepts it; asking for it as ints used to throw a raw
        // ArithmeticException ("integer overflow") from TensorInfo.intShape.
        Path f = header("zeroHuge", "{" + entry("w", "\"dtype\":\"F32\",\"shape\":[0,4294967296],"
                + "\"data_offsets\":[0,0]") + "}", new byte[0]);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(0, st.readFloats("w").length);
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> st.intShape("w"));
            assertTrue(e.getMessage().contains(f + ": tensor 'w': dimension 1 of shape [0, 4294967296] is too large"),
                    e.getMessage());
            SafetensorsWeights weights = new SafetensorsWeights(st);
            assertThrows(SafetensorsException.class, () -> weights.shape("w"));
        }
    }

    // ---------------------------------------------------------------- JSON strictness

    @Test
    void duplicateKeysAnywhereAreRefused() throws Exception {
        String a = entry("a", "\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]");
        rejected(header("dupMeta", "{\"__metadata__\":{\"x\":\"1\"},\"__metadata__\":{\"y\":\"2\"}," + a + "}", DATA),
                "duplicate key '__metadata__' in header");
        rejected(header("dupInMeta", "{\"__metadata__\":{\"x\":\"1\",\"x\":\"2\"}," + a + "}", DATA),
                "duplicate key 'x' in __metadata__");
        rejected(header("dupField", "{" + entry("a", "\"dtype\":\"F32\",\"shape\":[4],\"dtype\":\"I32\","
                + "\"data_offsets\":[0,16]") + "}", DATA), "tensor 'a': duplicate key 'dtype' in its entry");
        rejected(header("dupNested", "{" + entry("a", "\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16],"
                + "\"extra\":{\"k\":1,\"k\":2}") + "}", DATA), "duplicate key 'k'");
        rejected(header("dupTensor", "{" + a + "," + a + "}", DATA), "duplicate key 'a' in header");
        // an unknown field without duplicates is ignored, as by the reference
        try (SafetensorsFile st = SafetensorsFile.open(header("extra", "{" + entry("a", "\"dtype\":\"F32\","
                + "\"shape\":[4],\"extra\":[{\"k\":[1,null]}],\"data_offsets\":[0,16]") + "}", DATA))) {
            assertArrayEquals(new float[] {1, 2, 3, 4}, st.readFloats("a"));
        }
    }

    @Test
    void wrongJsonTypesGiveCleanErrors() throws Exception {
        String[][] cases = {
                {"\"dtype\":null,\"shape\":[4],\"data_offsets\":[0,16]", "dtype must be a string, got null"},
                {"\"dtype\":[\"F32\"],\"shape\":[4],\"data_offsets\":[0,16]", "dtype must be a string, got array"},
                {"\"dtype\":\"F32\",\"shape\":null,\"data_offsets\":[0,16]", "shape must be an array, got null"},
                {"\"dtype\":\"F32\",\"shape\":{},\"data_offsets\":[0,16]", "shape must be an array, got object"},
                {"\"dtype\":\"F32\",\"shape\":[\"4\"],\"data_offsets\":[0,16]", "shape[0] must be an integer, got string"},
                {"\"dtype\":\"F32\",\"shape\":[null],\"data_offsets\":[0,16]", "shape[0] must be an integer, got null"},
                {"\"dtype\":\"F32\",\"shape\":[[4]],\"data_offsets\":[0,16]", "shape[0] must be an integer, got array"},
                {"\"dtype\":\"F32\",\"shape\":[true],\"data_offsets\":[0,16]", "shape[0] must be an integer, got boolean"},
                {"\"dtype\":\"F32\",\"shape\":[4e0],\"data_offsets\":[0,16]", "shape[0] must be an integer in the long"},
                {"\"dtype\":\"F32\",\"shape\":[1e400],\"data_offsets\":[0,16]", "shape[0] must be an integer in the long"},
                {"\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":null", "data_offsets must be an array"},
                {"\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":\"0,16\"", "data_offsets must be an array"},
                {"\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0]", "data_offsets must be an array [begin, end]"},
                {"\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16,16,16]", "data_offsets must be an array [begin, end], got more than 2"},
                {"\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,null]", "data_offsets[1] must be an integer, got null"},
                {"\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0.0,16]", "data_offsets[0] must be an integer in"},
        };
        for (int i = 0; i < cases.length; i++) {
            rejected(header("type" + i, "{" + entry("w", cases[i][0]) + "}", DATA), "tensor 'w': " + cases[i][1]);
        }
        rejected(header("entryNull", "{\"w\":null}", DATA), "tensor 'w': entry must be an object, got null");
        rejected(header("entryNum", "{\"w\":5}", DATA), "tensor 'w': entry must be an object, got number 5");
        rejected(header("metaNull", "{\"__metadata__\":null}", new byte[0]), "__metadata__ must be an object");
        rejected(header("metaValNull", "{\"__metadata__\":{\"k\":null}}", new byte[0]),
                "__metadata__ value for 'k' must be a string, got null");
        rejected(header("metaValObj", "{\"__metadata__\":{\"k\":{}}}", new byte[0]),
                "__metadata__ value for 'k' must be a string, got object");
        rejected(header("nan", "{" + entry("w", "\"dtype\":\"F32\",\"shape\":[NaN],\"data_offsets\":[0,16]") + "}",
                DATA), "header is not valid JSON");
        StringBuilder deep = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            deep.append('[');
        }
        rejected(header("deep", "{" + entry("w", "\"x\":" + deep) + "}", DATA), "nested deeper than 64 levels");
        rejected(header("deepTop", "{\"w\":" + deep, DATA), "tensor 'w': entry must be an object, got array");
    }

    // ---------------------------------------------------------------- only regular files

    @Test
    void directoriesAndLinksToThemAreRefused() throws Exception {
        Path d = Files.createDirectory(dir.resolve("checkpoint.safetensors"));
        rejected(d, "is a directory, not a regular file");
        Path link = Files.createSymbolicLink(dir.resolve("link.safetensors"), d);
        rejected(link, "is a directory (through a symbolic link), not a regular file");
        Path missing = dir.resolve("missing.safetensors");
        rejected(missing, "no such file");
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling.safetensors"), missing);
        rejected(dangling, "is a symbolic link to a missing file");
        Path devNull = Path.of("/dev/null");
        if (Files.exists(devNull)) {
            rejected(devNull, "is a character device, not a regular file");
        }
        // a link to a regular file is followed
        Path real = header("real", TWO, DATA);
        try (SafetensorsFile st = SafetensorsFile.open(Files.createSymbolicLink(dir.resolve("ok.safetensors"), real))) {
            assertArrayEquals(new float[] {1f, 2f}, st.readFloats("a"));
        }
    }

    @Test
    void fifoIsRefusedWithoutBlocking() throws Exception {
        Path fifo = dir.resolve("fifo.safetensors");
        if (!mkfifo(fifo)) {
            System.err.println("!!! SKIPPING FIFO case: mkfifo is not available on this machine");
            Assumptions.abort("mkfifo not available");
        }
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> rejected(fifo, "is a FIFO (named pipe), not a regular"));
    }

    /** Creates a FIFO with the mkfifo command; false when the command is missing or fails. */
    static boolean mkfifo(Path p) throws InterruptedException {
        try {
            Process pr = new ProcessBuilder("mkfifo", p.toString()).redirectErrorStream(true).start();
            if (!pr.waitFor(10, TimeUnit.SECONDS)) {
                pr.destroyForcibly();
                return false;
            }
            return pr.exitValue() == 0 && Files.exists(p);
        } catch (IOException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------- checksums

    private Path written(String name) throws IOException {
        Path f = dir.resolve(name + ".safetensors");
        new SafetensorsWriter().putMetadata("format", "blt4j")
                .addFloats("f32", new float[] {1.5f, -2f, 3f, 0.25f, 7f, 8f}, 2, 3)
                .addFloats("bf16", StDtype.BF16, new float[] {1f, -0.5f, 3f, 1e30f}, 4)
                .addFloats("f16", StDtype.F16, new float[] {1f, -0.5f, 3f, 65504f}, 2, 2)
                .addInts("i32", new int[] {7, -7, Integer.MAX_VALUE}, 3)
                .write(f);
        return f;
    }

    @Test
    void writerRecordsChecksumsAndReaderVerifiesThem() throws Exception {
        Path f = written("sums");
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(Map.of("format", "blt4j"), st.metadata(), "checksums are not user metadata");
            for (String t : st.tensors().keySet()) {
                assertTrue(st.hasChecksum(t), t);
            }
            float big = Float.intBitsToFloat(SafetensorsWriter.floatToBf16(1e30f) << 16);
            assertEquals(1e30f, big, 1e30f / 128);
            assertArrayEquals(new float[] {1f, -0.5f, 3f, big}, st.readFloats("bf16"));
            assertArrayEquals(new float[] {1f, -0.5f, 3f, 65504f}, st.readFloats("f16"));
            assertArrayEquals(new int[] {7, -7, Integer.MAX_VALUE}, st.readInts("i32"));
        }
        byte[] bytes = Files.readAllBytes(f);
        long dataStart;
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            dataStart = st.dataStart();
            for (TensorInfo t : st.tensors().values()) {
                for (long b = t.begin(); b < t.end(); b++) {
                    byte[] copy = bytes.clone();
                    copy[(int) (dataStart + b)] ^= 0x10;
                    Path bad = Files.write(dir.resolve("flip.safetensors"), copy);
                    try (SafetensorsFile corrupt = SafetensorsFile.open(bad)) {
                        SafetensorsException e = assertThrows(SafetensorsException.class, () -> {
                            if (t.dtype() == StDtype.I32) {
                                corrupt.readInts(t.name());
                            } else {
                                corrupt.readFloats(t.name());
                            }
                        });
                        assertTrue(e.getMessage().startsWith(bad + ": tensor '" + t.name() + "': checksum mismatch"),
                                e.getMessage());
                    }
                }
            }
        }
    }

    /** Rewrites the header text of {@code f} (same length, so the data stays where it is). */
    private Path editHeader(Path f, String name, String from, String to) throws IOException {
        assertEquals(from.length(), to.length());
        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String h = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(h.contains(from), h);
        byte[] nh = h.replace(from, to).getBytes(StandardCharsets.UTF_8);
        System.arraycopy(nh, 0, bytes, 8, nh.length);
        return Files.write(dir.resolve(name + ".safetensors"), bytes);
    }

    @Test
    void headerEditsThatChecksumsCatch() throws Exception {
        Path f = written("orig");
        // swap two tensors of equal byte length: tiling still holds, the checksums do not
        Path swapped = editHeader(f, "swap", "\"bf16\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]},"
                        + "\"f16\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[32,40]}",
                "\"bf16\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[32,40]},"
                        + "\"f16\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[24,32]}");
        rejected(swapped, "checksum mismatch");
        rejected(editHeader(f, "dtype", "\"dtype\":\"BF16\"", "\"dtype\":\"F16\" "),
                "tensor 'bf16': header says F16 [4] but its checksum was recorded for BF16 [4]");
        rejected(editHeader(f, "reshape", "\"shape\":[2,3]", "\"shape\":[3,2]"),
                "header says F32 [3,2] but its checksum was recorded for F32 [2,3]");
        rejected(editHeader(f, "rename", "\"i32\":{", "\"i33\":{"),
                "checksum 'blt4j.crc32c.i32' is for a tensor the file does not have");
        rejected(editHeader(f, "lostSum", "\"blt4j.crc32c.i32\"", "\"blt4j.crc32x.i32\""),
                "tensor 'i32' has no checksum although the file records checksums for 3 other tensors");
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            String v = "blt4j.crc32c.f32\":\"";
            byte[] b = Files.readAllBytes(f);
            String h = new String(b, StandardCharsets.UTF_8);
            int at = h.indexOf(v) + v.length();
            rejected(editHeader(f, "badHex", v + h.substring(at, at + 8), v + "xyzxyzxy"),
                    "checksum 'blt4j.crc32c.f32' is malformed");
            assertTrue(st.hasChecksum("f32"));
        }
    }

    @Test
    void filesWithoutChecksumsLoadAsBefore() throws Exception {
        Path f = header("plain", TWO, DATA);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertFalse(st.hasChecksum("a"));
            assertArrayEquals(new float[] {3f, 4f}, st.readFloats("b"));
        }
    }

    @Test
    void checksumKeysAreReservedInTheWriter() {
        SafetensorsWriter w = new SafetensorsWriter();
        assertThrows(IllegalArgumentException.class, () -> w.putMetadata("blt4j.crc32c.x", "00000000 F32 []"));
        assertThrows(IllegalArgumentException.class, () -> w.addFloats("x", StDtype.I32, new float[1], 1));
    }

    // ---------------------------------------------------------------- half-precision writing

    @Test
    void f16EncodingRoundTripsEveryHalfAndRoundsToNearestEven() {
        for (int h = 0; h < 0x10000; h++) {
            float f = SafetensorsFile.halfToFloat((short) h);
            short back = SafetensorsWriter.floatToHalf(f);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(SafetensorsFile.halfToFloat(back)), Integer.toHexString(h));
            } else {
                assertEquals((short) h, back, Integer.toHexString(h));
            }
        }
        assertEquals((short) 0x3C00, SafetensorsWriter.floatToHalf(1f + 0x1p-11f)); // tie, to even
        assertEquals((short) 0x3C02, SafetensorsWriter.floatToHalf(1f + 3 * 0x1p-11f)); // tie, to even (up)
        assertEquals((short) 0x3C01, SafetensorsWriter.floatToHalf(1f + 0x1p-11f + 0x1p-20f));
        assertEquals((short) 0x7BFF, SafetensorsWriter.floatToHalf(65519.99f));
        assertEquals((short) 0x7C00, SafetensorsWriter.floatToHalf(65520f));
        assertEquals((short) 0xFC00, SafetensorsWriter.floatToHalf(-1e10f));
        assertEquals((short) 0x0000, SafetensorsWriter.floatToHalf(0x1p-26f)); // below half the smallest subnormal
        assertEquals((short) 0x0001, SafetensorsWriter.floatToHalf(0x1p-25f + 0x1p-30f));
        assertEquals((short) 0x0400, SafetensorsWriter.floatToHalf(0x1p-14f - 0x1p-30f)); // rounds up to normal
    }

    @Test
    void bf16EncodingRoundTripsAndRoundsToNearestEven() {
        for (int h = 0; h < 0x10000; h++) {
            float f = Float.intBitsToFloat(h << 16);
            short back = SafetensorsWriter.floatToBf16(f);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(Float.intBitsToFloat(back << 16)), Integer.toHexString(h));
            } else {
                assertEquals((short) h, back, Integer.toHexString(h));
            }
        }
        assertEquals((short) 0x3F80, SafetensorsWriter.floatToBf16(Float.intBitsToFloat(0x3F808000))); // tie, even
        assertEquals((short) 0x3F82, SafetensorsWriter.floatToBf16(Float.intBitsToFloat(0x3F818000))); // tie, even
        assertEquals((short) 0x3F81, SafetensorsWriter.floatToBf16(Float.intBitsToFloat(0x3F808001)));
        assertEquals((short) 0x7F80, SafetensorsWriter.floatToBf16(Float.MAX_VALUE)); // rounds to infinity
    }
}
