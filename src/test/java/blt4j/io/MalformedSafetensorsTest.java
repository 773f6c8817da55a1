package blt4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every malformed file must fail at open with a message naming the file and the specific problem. */
class MalformedSafetensorsTest {
    @TempDir
    Path dir;

    private static final byte[] DATA16 = new byte[16];

    private static String entry(String name, String body) {
        return "\"" + name + "\":{" + body + "}";
    }

    /** Opens the file, expects rejection, and checks the message names the file and contains {@code problem}. */
    private void assertRejected(Path file, String problem) {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> {
            try (SafetensorsFile ignored = SafetensorsFile.open(file)) {
                // should not get here
            }
        });
        String msg = e.getMessage();
        assertTrue(msg.contains(file.toString()), "message should name the file: " + msg);
        assertTrue(msg.contains(problem), "message should say '" + problem + "': " + msg);
        assertEquals(file, e.file());
    }

    private void assertHeaderRejected(String name, String header, byte[] data, String problem) throws Exception {
        assertRejected(StFiles.raw(dir.resolve(name + ".safetensors"), header, data), problem);
    }

    @Test
    void fileShorterThanLengthPrefix() throws Exception {
        Path empty = Files.write(dir.resolve("empty.safetensors"), new byte[0]);
        assertRejected(empty, "file is 0 bytes, shorter than the 8-byte header length prefix");
        Path five = Files.write(dir.resolve("five.safetensors"), new byte[5]);
        assertRejected(five, "file is 5 bytes, shorter than the 8-byte");
    }

    @Test
    void headerLengthPastEndOfFile() throws Exception {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        Path f = StFiles.rawWithLength(dir.resolve("trunc.safetensors"), 1000, h, new byte[0]);
        assertRejected(f, "header length 1000 extends past the end of the file (file size 10");
    }

    @Test
    void absurdHeaderSize() throws Exception {
        Path huge = StFiles.rawWithLength(dir.resolve("huge.safetensors"), 1L << 40, new byte[8], new byte[0]);
        assertRejected(huge, "absurd header size 1099511627776 bytes");
        // Top bit set: negative as a Java long, must be treated as unsigned and still rejected.
        Path neg = StFiles.rawWithLength(dir.resolve("neg.safetensors"), -1L, new byte[8], new byte[0]);
        assertRejected(neg, "absurd header size 18446744073709551615 bytes");
    }

    @Test
    void headerNotUtf8() throws Exception {
        byte[] h = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        Path f = StFiles.rawWithLength(dir.resolve("utf8.safetensors"), h.length, h, new byte[0]);
        assertRejected(f, "header is not valid UTF-8");
    }

    @Test
    void headerNotJson() throws Exception {
        assertHeaderRejected("json1", "{\"a\":", new byte[0], "header is not valid JSON");
        assertHeaderRejected("json2", "{a:{}}", new byte[0], "header is not valid JSON: malformed JSON at line 1 column 3"); // lenient-only syntax
        assertHeaderRejected("json3", "{} {}", new byte[0], "trailing data after the JSON object");
    }

    @Test
    void headerNotAnObject() throws Exception {
        assertHeaderRejected("arr", "[1,2]", new byte[0], "header JSON is not an object");
        assertHeaderRejected("entry", "{\"x\":[1]}", new byte[0], "tensor 'x': entry must be an object, got array");
    }

    @Test
    void missingFields() throws Exception {
        assertHeaderRejected("nodtype", "{" + entry("w", "\"shape\":[4],\"data_offsets\":[0,16]") + "}", DATA16,
                "tensor 'w': missing field 'dtype'");
        assertHeaderRejected("noshape", "{" + entry("w", "\"dtype\":\"F32\",\"data_offsets\":[0,16]") + "}", DATA16,
                "tensor 'w': missing field 'shape'");
        assertHeaderRejected("nooffs", "{" + entry("w", "\"dtype\":\"F32\",\"shape\":[4]") + "}", DATA16,
                "tensor 'w': missing field 'data_offsets'");
    }

    @Test
    void wrongFieldTypes() throws Exception {
        assertHeaderRejected("dtypenum", "{" + entry("w", "\"dtype\":5,\"shape\":[4],\"data_offsets\":[0,16]") + "}",
                DATA16, "tensor 'w': dtype must be a string, got number 5");
        assertHeaderRejected("shapestr", "{" + entry("w", "\"dtype\":\"F32\",\"shape\":\"4\",\"data_offsets\":[0,16]")
                + "}", DATA16, "tensor 'w': shape must be an array, got string");
        assertHeaderRejected("shapefrac", "{" + entry("w", "\"dtype\":\"F32\",\"shape\":[4.5],\"data_offsets\":[0,16]")
                + "}", DATA16, "tensor 'w': shape[0] must be an integer in the long range, got 4.5");
        assertHeaderRejected("offs3", "{" + entry("w", "\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,8,16]")
                + "}", DATA16, "tensor 'w': data_offsets must be an array [begin, end]");
        assertHeaderRejected("offsstr", "{" + entry("w", "\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[\"0\",16]")
                + "}", DATA16, "tensor 'w': data_offsets[0] must be an integer, got string");
    }

    @Test
    void unknownDtype() throws Exception {
        assertHeaderRejected("dtype", "{" + entry("w", "\"dtype\":\"F33\",\"shape\":[4],\"data_offsets\":[0,16]") + "}",
                DATA16, "tensor 'w': unknown dtype 'F33'");
    }

    @Test
    void negativeDimension() throws Exception {
        assertHeaderRejected("negdim", "{" + entry("w", "\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]")
                + "}", DATA16, "tensor 'w': negative dimension -4");
    }

    @Test
    void shapeProductOverflow() throws Exception {
        assertHeaderRejected("overflow", "{" + entry("w",
                        "\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,16]") + "}", DATA16,
                "tensor 'w': shape [4294967296,4294967296] overflows");
        // numel fits in a long but numel * 4 bytes does not: reported as the overflow it is, no allocation.
        assertHeaderRejected("overflow2", "{" + entry("w",
                        "\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,16]") + "}", DATA16,
                "tensor 'w': shape [4611686018427387904] x F32 overflows 64-bit arithmetic");
    }

    @Test
    void offsetsPastEndOfFile() throws Exception {
        assertHeaderRejected("pastend", "{" + entry("w", "\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]")
                + "}", DATA16, "tensor 'w': data_offsets [0,32] extend past the end of the file (data section is 16");
    }

    @Test
    void beginAfterEnd() throws Exception {
        assertHeaderRejected("backwards", "{" + entry("w", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,8]")
                + "}", DATA16, "tensor 'w': data_offsets [16,8] have begin > end");
        assertHeaderRejected("negoff", "{" + entry("w", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]")
                + "}", DATA16, "tensor 'w': negative data_offsets");
    }

    @Test
    void byteLengthMismatch() throws Exception {
        assertHeaderRejected("mismatch", "{" + entry("w", "\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]")
                + "}", DATA16, "tensor 'w': byte length 16 from data_offsets [0,16] does not match shape [3] x F32");
    }

    @Test
    void overlappingTensors() throws Exception {
        assertHeaderRejected("overlap", "{"
                        + entry("a", "\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]") + ","
                        + entry("b", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]") + "}", DATA16,
                "tensors 'a' [0, 12) and 'b' [8, 16) overlap");
    }

    @Test
    void duplicateKeyAndBadMetadata() throws Exception {
        assertHeaderRejected("dup", "{"
                        + entry("a", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]") + ","
                        + entry("a", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]") + "}", DATA16,
                "duplicate key 'a' in header");
        assertHeaderRejected("meta1", "{\"__metadata__\":{\"step\":5}}", new byte[0],
                "__metadata__ value for 'step' must be a string, got number 5");
        assertHeaderRejected("meta2", "{\"__metadata__\":[\"x\"]}", new byte[0],
                "__metadata__ must be an object of strings");
    }

    @Test
    void paddedHeaderAndEmptyTensorsAreAccepted() throws Exception {
        // Empty tensors sharing an offset, header padded with spaces inside its declared length: all legal.
        String header = "{"
                + entry("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]") + ","
                + entry("e", "\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]") + ","
                + entry("b", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]") + ","
                + entry("z", "\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[8,8]") + "}       ";
        Path f = StFiles.raw(dir.resolve("padded.safetensors"), header, StFiles.floatsLE(1f, 2f));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(2f, st.readFloats("b")[0]);
            assertEquals(4, st.tensors().size());
            assertFalse(st.hasChecksum("a"));
        }
    }
}
