package blt4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PyTorch zip checkpoints built byte for byte the way {@code torch.save} writes them (protocol-2 pickle,
 * STORED zip entries), so the reader is tested against files it did not write, and without Python.
 */
class TorchCheckpointTest {
    @TempDir
    Path dir;

    // ---------------------------------------------------------------- round trips

    @Test
    void f32RoundTripsExactly() throws Exception {
        float[] values = {1f, -2.5f, 0x1p-149f, Float.MAX_VALUE, -0.0f, 3.14159265f};
        Path f = new CheckpointBuilder().storage("0", floatsLE(values))
                .tensor("layer.weight", "FloatStorage", "0", 0, 2, 3).write(dir.resolve("f32.pth"));
        try (TorchCheckpoint ck = TorchCheckpoint.open(f)) {
            assertEquals(List.of("layer.weight"), List.copyOf(ck.names()));
            assertTrue(ck.contains("layer.weight"));
            assertFalse(ck.contains("layer.bias"));
            assertArrayEquals(new int[] {2, 3}, ck.intShape("layer.weight"));
            TorchCheckpoint.StoredTensor t = ck.info("layer.weight");
            assertEquals(StDtype.F32, t.dtype());
            assertEquals("0", t.storageKey());
            assertEquals(0, t.elementOffset());
            float[] got = ck.readFloats("layer.weight");
            for (int i = 0; i < values.length; i++) {
                assertEquals(Float.floatToRawIntBits(values[i]), Float.floatToRawIntBits(got[i]), "element " + i);
            }
        }
    }

    @Test
    void bf16RoundTripsWithRoundToNearestEven() throws Exception {
        // What torch's .to(torch.bfloat16) stores for these fp32 values, computed here independently.
        float[] inputs = {1f, 1f + 0x1p-8f, 1f + 3 * 0x1p-8f, (float) Math.PI, -3f, 0x1p-133f, 1f + 0x1.8p-8f};
        float[] expected = {1f, 1f, 1.015625f, 3.140625f, -3f, 0x1p-133f, 1.0078125f};
        int[] bits = new int[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            bits[i] = bf16RoundNearestEven(inputs[i]);
            assertEquals(expected[i], Float.intBitsToFloat(bits[i] << 16), "test's own rounding of " + inputs[i]);
        }
        Path f = new CheckpointBuilder().storage("0", shortsLE(bits))
                .tensor("emb", "BFloat16Storage", "0", 0, 7).write(dir.resolve("bf16.pth"));
        try (TorchCheckpoint ck = TorchCheckpoint.open(f)) {
            assertEquals(StDtype.BF16, ck.info("emb").dtype());
            assertArrayEquals(expected, ck.readFloats("emb"));
        }
    }

    @Test
    void f16RoundTripsIncludingSubnormalsInfinitiesAndNan() throws Exception {
        int[] bits = {0x3C00, 0xC000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0x7C00, 0xFC00, 0x8000, 0x7E00};
        Path f = new CheckpointBuilder().storage("0", shortsLE(bits))
                .tensor("h", "HalfStorage", "0", 0, 10).write(dir.resolve("f16.pth"));
        try (TorchCheckpoint ck = TorchCheckpoint.open(f)) {
            float[] v = ck.readFloats("h");
            assertEquals(1f, v[0]);
            assertEquals(-2f, v[1]);
            assertEquals(0x1p-24f, v[2]); // smallest subnormal
            assertEquals(1023 * 0x1p-24f, v[3]); // largest subnormal
            assertEquals(0x1p-14f, v[4]); // smallest normal
            assertEquals(65504f, v[5]);
            assertEquals(Float.POSITIVE_INFINITY, v[6]);
            assertEquals(Float.NEGATIVE_INFINITY, v[7]);
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(v[8]));
            assertTrue(Float.isNaN(v[9]));
        }
    }

    @Test
    void f64IsRoundedToFloat() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-1e300);
        Path f = new CheckpointBuilder().storage("0", b.array())
                .tensor("d", "DoubleStorage", "0", 0, 2).write(dir.resolve("f64.pth"));
        try (TorchCheckpoint ck = TorchCheckpoint.open(f)) {
            assertArrayEquals(new float[] {0.1f, Float.NEGATIVE_INFINITY}, ck.readFloats("d"));
        }
    }

    @Test
    void stateDictUnderModelNextToOptimizerState() throws Exception {
        Path f = new CheckpointBuilder().underModel()
                .storage("0", floatsLE(1, 2, 3, 4)).storage("1", floatsLE(5, 6))
                .tensor("tok_embeddings.weight", "FloatStorage", "0", 0, 2, 2)
                .tensor("norm.weight", "FloatStorage", "1", 0, 2)
                .write(dir.resolve("consolidated.pth"));
        try (TorchCheckpoint ck = TorchCheckpoint.open(f)) {
            // The optimizer's tensors (storages opt0, opt1) and the "_metadata" BUILD state are not weights.
            assertEquals(List.of("tok_embeddings.weight", "norm.weight"), List.copyOf(ck.names()));
            assertArrayEquals(new float[] {1, 2, 3, 4}, ck.readFloats("tok_embeddings.weight"));
            assertArrayEquals(new float[] {5, 6}, ck.readFloats("norm.weight"));
        }
    }

    @Test
    void tensorsSharingOneStorageAtDifferentOffsets() throws Exception {
        Path f = new CheckpointBuilder().storage("0", floatsLE(10, 11, 12, 13, 14, 15, 16))
                .tensor("wq", "FloatStorage", "0", 0, 3)
                .tensor("wk", "FloatStorage", "0", 3, 2, 2)
                .write(dir.resolve("shared.pth"));
        try (TorchCheckpoint ck = TorchCheckpoint.open(f)) {
            assertArrayEquals(new float[] {10, 11, 12}, ck.readFloats("wq"));
            assertArrayEquals(new float[] {13, 14, 15, 16}, ck.readFloats("wk"));
            assertEquals(3, ck.info("wk").elementOffset());
        }
    }

    @Test
    void zeroDimTensor() throws Exception {
        Path f = new CheckpointBuilder().storage("0", floatsLE(7, 42.5f))
                .tensor("scale", "FloatStorage", "0", 1).write(dir.resolve("scalar.pth"));
        try (TorchCheckpoint ck = TorchCheckpoint.open(f)) {
            assertArrayEquals(new int[0], ck.intShape("scale"));
            assertEquals(1, ck.info("scale").numel());
            assertArrayEquals(new float[] {42.5f}, ck.readFloats("scale"));
        }
    }

    @Test
    void parameterDeflatedEntriesAndStrideOfSizeOneDims() throws Exception {
        // nn.Parameter pickles through _rebuild_parameter; a size-1 dim may carry any stride (torch calls it contiguous).
        CheckpointBuilder b = new CheckpointBuilder().storage("0", floatsLE(1, 2, 3, 4, 5, 6));
        b.tensors.add(new TensorSpec("p", "FloatStorage", "0", 6, 0, new long[] {1, 2, 3}, new long[] {99, 3, 1}, true));
        Path f = writeZip(dir.resolve("deflated.pth"), b.entries(), ZipEntry.DEFLATED);
        try (TorchCheckpoint ck = TorchCheckpoint.open(f)) {
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, ck.readFloats("p"));
        }
    }

    @Test
    void closedCheckpointRefusesReads() throws Exception {
        Path f = new CheckpointBuilder().storage("0", floatsLE(1)).tensor("x", "FloatStorage", "0", 0, 1)
                .write(dir.resolve("closed.pth"));
        TorchCheckpoint ck = TorchCheckpoint.open(f);
        ck.close();
        assertRejected(f, () -> ck.readFloats("x"), "checkpoint has been closed");
        assertRejected(f, () -> ck.readFloats("nope"), "no tensor named 'nope' (the state dict has 1 tensors)");
    }

    // ---------------------------------------------------------------- refused files

    @Test
    void refusesOsSystemWithoutRunningIt() throws Exception {
        Path marker = dir.resolve("pwned");
        byte[] pickle = new PickleWriter().proto(2).global("os", "system")
                .str("touch " + marker).raw(0x85).put().raw('R').stop();
        Path f = writeZip(dir.resolve("evil.pth"), torchEntries(pickle, Map.of()), ZipEntry.STORED);
        assertOpenRejected(f, "refuses global os.system");
        assertFalse(Files.exists(marker));
    }

    @Test
    void refusesBuiltinsEvalThroughGlobalAndStackGlobal() throws Exception {
        byte[] viaGlobal = new PickleWriter().proto(2).global("builtins", "eval").str("1+1").raw(0x85, 'R').stop();
        assertOpenRejected(writeZip(dir.resolve("eval1.pth"), torchEntries(viaGlobal, Map.of()), ZipEntry.STORED),
                "refuses global builtins.eval");
        byte[] viaStack = new PickleWriter().proto(4).shortStr("builtins").raw(0x94).shortStr("eval").raw(0x94, 0x93)
                .shortStr("1+1").raw(0x85, 'R').stop();
        assertOpenRejected(writeZip(dir.resolve("eval2.pth"), torchEntries(viaStack, Map.of()), ZipEntry.STORED),
                "refuses global builtins.eval");
    }

    @Test
    void refusesNonContiguousTensor() throws Exception {
        CheckpointBuilder b = new CheckpointBuilder().storage("0", floatsLE(1, 2, 3, 4, 5, 6));
        b.tensors.add(new TensorSpec("w.T", "FloatStorage", "0", 6, 0, new long[] {3, 2}, new long[] {1, 3}, false));
        assertOpenRejected(b.write(dir.resolve("strided.pth")),
                "tensor 'w.T' is not contiguous: shape [3, 2] has strides [1, 3], row-major needs [2, 1]");
    }

    @Test
    void refusesTruncatedStorage() throws Exception {
        CheckpointBuilder b = new CheckpointBuilder().storage("0", floatsLE(1, 2, 3));
        b.tensors.add(new TensorSpec("w", "FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1}, false));
        assertOpenRejected(b.write(dir.resolve("short.pth")), "tensor 'w': storage entry archive/data/0 holds 12 bytes,"
                + " but its 4 F32 elements need 16 (truncated file?)");
    }

    @Test
    void refusesMissingStorageEntry() throws Exception {
        CheckpointBuilder b = new CheckpointBuilder().storage("0", floatsLE(1, 2));
        b.tensors.add(new TensorSpec("w", "FloatStorage", "7", 2, 0, new long[] {2}, new long[] {1}, false));
        assertOpenRejected(b.write(dir.resolve("missing.pth")),
                "tensor 'w': its storage '7' has no entry archive/data/7");
    }

    @Test
    void refusesTensorPastTheEndOfItsStorage() throws Exception {
        Path f = new CheckpointBuilder().storage("0", floatsLE(1, 2, 3, 4))
                .tensor("w", "FloatStorage", "0", 2, 3).write(dir.resolve("overrun.pth"));
        assertOpenRejected(f, "tensor 'w': its 3 elements at offset 2 extend past the end of storage '0' (4 elements)");
        // An offset near 2^63 must not wrap around in the bounds check.
        CheckpointBuilder b = new CheckpointBuilder().storage("0", floatsLE(1, 2, 3, 4));
        b.tensors.add(new TensorSpec("w", "FloatStorage", "0", 4, Long.MAX_VALUE - 1, new long[] {4}, new long[] {1}, false));
        assertOpenRejected(b.write(dir.resolve("wrap.pth")), "extend past the end of storage '0'");
    }

    @Test
    void refusesBigEndianByteOrder() throws Exception {
        CheckpointBuilder b = new CheckpointBuilder().storage("0", floatsLE(1)).tensor("x", "FloatStorage", "0", 0, 1);
        Map<String, byte[]> entries = b.entries();
        entries.put("archive/byteorder", "big".getBytes(StandardCharsets.US_ASCII));
        assertOpenRejected(writeZip(dir.resolve("big.pth"), entries, ZipEntry.STORED),
                "archive/byteorder is 'big'; only little-endian checkpoints are supported");
    }

    @Test
    void refusesPickleWithoutStop() throws Exception {
        byte[] whole = new CheckpointBuilder().storage("0", floatsLE(1, 2)).tensor("x", "FloatStorage", "0", 0, 2).pickle();
        byte[] cut = Arrays.copyOf(whole, whole.length / 2);
        Path f = writeZip(dir.resolve("cut.pth"), torchEntries(cut, Map.of("0", floatsLE(1, 2))), ZipEntry.STORED);
        assertOpenRejected(f, "archive/data.pkl: pickle");
        assertOpenRejected(f, "truncated");
    }

    @Test
    void refusesFileThatIsNotAZip() throws Exception {
        Path f = Files.writeString(dir.resolve("notes.pth"), "these are not the weights you are looking for");
        assertOpenRejected(f, "not a zip archive (starts with bytes 74686573");
        Path legacy = Files.write(dir.resolve("legacy.pth"), new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10});
        assertOpenRejected(legacy, "legacy torch.save format");
        Path fakeZip = Files.write(dir.resolve("fake.pth"), new byte[] {'P', 'K', 3, 4, 0, 0, 0});
        assertOpenRejected(fakeZip, "not a readable zip archive");
    }

    @Test
    void refusesEmptyFile() throws Exception {
        Path f = Files.write(dir.resolve("empty.pth"), new byte[0]);
        assertOpenRejected(f, "file is empty (0 bytes)");
    }

    @Test
    void refusesZipWithoutDataPkl() throws Exception {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("readme.txt", new byte[] {'h', 'i'});
        assertOpenRejected(writeZip(dir.resolve("plain.zip"), entries, ZipEntry.STORED), "has no <archive>/data.pkl");
    }

    // ---------------------------------------------------------------- the unpickler on its own

    @Test
    void unpicklerReadsWhatPythonWrites() throws Exception {
        // pickle.dumps(v, protocol=p) by CPython 3 for p = 0, 2, 4 with
        // v = {'a': [1, -2, 2**70, -2**63, 1.5, inf, 'xé€\n', None, True, False, (1, 2), (), (3, 4, 5, 6), d], 'd': d},
        // d = {'k': 'v'} (one object referenced twice, so the second is a memo GET).
        String[] hex = {
            "286470300a56610a70310a286c70320a49310a61492d320a614c313138303539313632303731373431313330333432344c0a614c"
                + "2d393232333337323033363835343737353830384c0a6146312e350a6146696e660a615678e95c75323061635c75303030"
                + "610a70330a614e614930310a614930300a612849310a49320a7470340a612874612849330a49340a49350a49360a747035"
                + "0a61286470360a566b0a70370a56760a70380a73617356640a70390a67360a732e",
            "80027d71002858010000006171015d7102284b014afeffffff8a090000000000000000408a080000000000000080473ff800"
                + "0000000000477ff0000000000000580700000078c3a9e282ac0a71034e88894b014b0286710429284b034b044b054b067471"
                + "057d710658010000006b71075801000000767108736558010000006471096806752e",
            "8004956b000000000000007d94288c0161945d94284b014afeffffff8a090000000000000000408a08000000000000008047"
                + "3ff8000000000000477ff00000000000008c0778c3a9e282ac0a944e88894b014b02869429284b034b044b054b0674947d"
                + "948c016b948c01769473658c0164946806752e"};
        for (String h : hex) {
            Map<?, ?> v = assertInstanceOf(Map.class, RestrictedUnpickler.load(HexFormat.of().parseHex(h)));
            List<?> a = assertInstanceOf(List.class, v.get("a"));
            assertEquals(14, a.size());
            assertEquals(1L, a.get(0));
            assertEquals(-2L, a.get(1));
            assertEquals(BigInteger.ONE.shiftLeft(70), a.get(2));
            assertEquals(Long.MIN_VALUE, a.get(3));
            assertEquals(1.5, a.get(4));
            assertEquals(Double.POSITIVE_INFINITY, a.get(5));
            assertEquals("x\u00e9\u20ac\n", a.get(6));
            assertNull(a.get(7));
            assertEquals(Boolean.TRUE, a.get(8));
            assertEquals(Boolean.FALSE, a.get(9));
            assertEquals(List.of(1L, 2L), a.get(10));
            assertEquals(List.of(), a.get(11));
            assertEquals(List.of(3L, 4L, 5L, 6L), a.get(12));
            assertEquals(Map.of("k", "v"), v.get("d"));
            assertTrue(a.get(13) == v.get("d"), "memo GET returns the same object");
        }
        // protocol 5: {'s': {1, 2}, 'f': frozenset({'z'}), 'ba': bytearray(b'q\0'), 'b': b'yz', 'big': 2**70,
        //              'o': OrderedDict([('x', 1)])}
        byte[] p5 = HexFormat.of().parseHex("80059573000000000000007d94288c0173948f94284b014b02908c016694288c017a9491"
                + "948c026261949602000000000000007100948c0162944302797a948c03626967948a0900000000000000004"
                + "08c016f948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c0178944b0173752e");
        Map<?, ?> v = assertInstanceOf(Map.class, RestrictedUnpickler.load(p5));
        assertEquals(Set.of(1L, 2L), v.get("s"));
        assertEquals(Set.of("z"), v.get("f"));
        assertArrayEquals(new byte[] {'q', 0}, (byte[]) v.get("ba"));
        assertArrayEquals(new byte[] {'y', 'z'}, (byte[]) v.get("b"));
        assertEquals(BigInteger.ONE.shiftLeft(70), v.get("big"));
        assertEquals(Map.of("x", 1L), v.get("o"));
    }

    @Test
    void unpicklerRefusesInstancesExtensionsAndLies() {
        assertUnpickleRejected(bytes("cposix\nsystem\n."), "refuses global posix.system");
        assertUnpickleRejected(bytes("(ios\nsystem\nS'ls'\n."), "refuses global os.system (INST)");
        assertUnpickleRejected(new PickleWriter().proto(2).global("collections", "OrderedDict").raw(')', 0x81).stop(),
                "refuses NEWOBJ of collections.OrderedDict");
        assertUnpickleRejected(new PickleWriter().proto(2).raw('(').global("collections", "OrderedDict").raw('o').stop(),
                "refuses OBJ of collections.OrderedDict");
        assertUnpickleRejected(new PickleWriter().proto(2).raw(0x82, 7).stop(), "refuses extension code 7 (EXT1)");
        assertUnpickleRejected(new PickleWriter().proto(2).raw(']', 'N', 'b').stop(), "refuses BUILD on a list");
        assertUnpickleRejected(new PickleWriter().proto(2).global("torch", "FloatStorage").raw(')', 'R').stop(),
                "refuses to call torch.FloatStorage");
        assertUnpickleRejected(new PickleWriter().proto(2).raw(0xff).stop(), "pickle byte 2: unknown opcode 0xff");
        assertUnpickleRejected(new PickleWriter().proto(6).stop(), "unsupported pickle protocol 6");
        // Length fields larger than the input fail before anything is allocated.
        assertUnpickleRejected(new PickleWriter().proto(2).raw('X', 0xff, 0xff, 0xff, 0x7f).stop(),
                "BINUNICODE length 2147483647 exceeds the 1 bytes that remain");
        assertUnpickleRejected(new PickleWriter().proto(4).raw(0x8d, 0, 0, 0, 0, 0, 0, 0, 0x80).stop(),
                "BINUNICODE8 length 9223372036854775808 exceeds");
        assertUnpickleRejected(new PickleWriter().proto(2).raw(0x8b, 0, 0, 0, 0x40).stop(), "LONG4 length 1073741824");
        assertUnpickleRejected(new PickleWriter().proto(2).raw('j', 0xff, 0xff, 0xff, 0xff).stop(),
                "memo has no entry 4294967295");
        assertUnpickleRejected(new PickleWriter().proto(2).raw('}', ']', ']', 's').stop(), "dict key or set element is a list");
        assertUnpickleRejected(new PickleWriter().proto(2).raw('N', 'N').stop(), "STOP with 2 values on the stack");
        assertUnpickleRejected(new PickleWriter().proto(2).raw('0').stop(), "no MARK to pop to");
        assertUnpickleRejected(new byte[0], "pickle ends at byte 0 without a STOP opcode");
    }

    private static byte[] bytes(String latin1) {
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static void assertUnpickleRejected(byte[] pickle, String problem) {
        IOException e = assertThrows(IOException.class, () -> RestrictedUnpickler.load(pickle));
        assertTrue(e.getMessage().contains(problem), "message should say '" + problem + "': " + e.getMessage());
    }

    // ---------------------------------------------------------------- assertions

    private interface IOAction {
        void run() throws IOException;
    }

    private static void assertRejected(Path file, IOAction action, String problem) {
        TorchCheckpointException e = assertThrows(TorchCheckpointException.class, action::run);
        String msg = e.getMessage();
        assertTrue(msg.startsWith(file.toString()), "message should name the file: " + msg);
        assertTrue(msg.contains(problem), "message should say '" + problem + "': " + msg);
        assertEquals(file, e.file());
    }

    private static void assertOpenRejected(Path file, String problem) {
        assertRejected(file, () -> TorchCheckpoint.open(file).close(), problem);
    }

    // ---------------------------------------------------------------- writing checkpoints as torch.save does

    /** The bf16 torch stores for {@code v}: fp32 rounded to its upper 16 bits, ties to even (finite inputs). */
    private static int bf16RoundNearestEven(float v) {
        int bits = Float.floatToRawIntBits(v);
        int upper = bits >>> 16;
        int lower = bits & 0xFFFF;
        if (lower > 0x8000 || (lower == 0x8000 && (upper & 1) == 1)) {
            upper++;
        }
        return upper & 0xFFFF;
    }

    static byte[] floatsLE(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    static byte[] shortsLE(int... values) {
        return StFiles.shortsLE(values);
    }

    /** One tensor of a state dict, as the arguments of {@code _rebuild_tensor_v2} and its storage's persistent id. */
    record TensorSpec(String name, String storageType, String key, long storageNumel, long offset, long[] shape,
                      long[] stride, boolean parameter) {}

    /** Writes pickle opcodes as CPython's pickler does at protocol 2: strings and globals memoized and re-read by BINGET. */
    static final class PickleWriter {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final Map<String, Integer> memo = new HashMap<>();
        private int nextMemo;

        PickleWriter raw(int... opcodes) {
            for (int b : opcodes) {
                out.write(b);
            }
            return this;
        }

        PickleWriter proto(int version) {
            return raw(0x80, version);
        }

        private PickleWriter le32(long v) {
            return raw((int) v & 0xFF, (int) (v >>> 8) & 0xFF, (int) (v >>> 16) & 0xFF, (int) (v >>> 24) & 0xFF);
        }

        /** BINPUT of the value just written, under the next memo index. */
        PickleWriter put() {
            int i = nextMemo++;
            return i < 256 ? raw('q', i) : raw('r').le32(i);
        }

        private boolean memoized(String key) {
            Integer i = memo.get(key);
            if (i == null) {
                memo.put(key, nextMemo);
                return false;
            }
            if (i < 256) {
                raw('h', i);
            } else {
                raw('j').le32(i);
            }
            return true;
        }

        PickleWriter str(String s) {
            if (memoized("str " + s)) {
                return this;
            }
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            raw('X').le32(b.length);
            out.writeBytes(b);
            return put();
        }

        /** SHORT_BINUNICODE without memo (protocol 4 style, for hand-made pickles). */
        PickleWriter shortStr(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            raw(0x8c, b.length);
            out.writeBytes(b);
            return this;
        }

        PickleWriter global(String module, String name) {
            if (memoized("global " + module + "." + name)) {
                return this;
            }
            raw('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
            return put();
        }

        /** CPython's choice: BININT1, BININT2, BININT, else LONG1 with the minimal two's complement bytes. */
        PickleWriter integer(long v) {
            if (v >= 0 && v < 256) {
                return raw('K', (int) v);
            }
            if (v >= 0 && v < 65536) {
                return raw('M', (int) v & 0xFF, (int) v >>> 8);
            }
            if (v == (int) v) {
                return raw('J').le32(v);
            }
            byte[] be = BigInteger.valueOf(v).toByteArray();
            raw(0x8a, be.length);
            for (int i = be.length - 1; i >= 0; i--) {
                raw(be[i] & 0xFF);
            }
            return this;
        }

        PickleWriter real(double v) {
            raw('G');
            out.writeBytes(ByteBuffer.allocate(8).putDouble(v).array());
            return this;
        }

        /** A tuple of ints: EMPTY_TUPLE, TUPLE1..3 or MARK..TUPLE, then memoized (except the empty one). */
        PickleWriter intTuple(long... values) {
            if (values.length == 0) {
                return raw(')');
            }
            if (values.length > 3) {
                raw('(');
            }
            for (long v : values) {
                integer(v);
            }
            return raw(values.length > 3 ? 't' : 0x85 + values.length - 1).put();
        }

        /** {@code OrderedDict()}: GLOBAL, EMPTY_TUPLE, REDUCE. */
        PickleWriter emptyOrderedDict() {
            return global("collections", "OrderedDict").raw(')', 'R').put();
        }

        /** {@code _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())}, maybe wrapped as a Parameter. */
        PickleWriter tensor(TensorSpec t) {
            if (t.parameter()) {
                global("torch._utils", "_rebuild_parameter");
            }
            global("torch._utils", "_rebuild_tensor_v2").raw('(');
            raw('(').str("storage").global("torch", t.storageType()).str(t.key()).str("cpu").integer(t.storageNumel())
                    .raw('t').put().raw('Q');
            integer(t.offset()).intTuple(t.shape()).intTuple(t.stride()).raw(0x89).emptyOrderedDict();
            raw('t').put().raw('R').put();
            if (t.parameter()) {
                raw(0x88).emptyOrderedDict().raw(0x87).put().raw('R').put(); // (data, True, OrderedDict())
            }
            return this;
        }

        byte[] stop() {
            raw('.');
            return out.toByteArray();
        }
    }

    /** A state dict over raw storages, written as the zip torch.save produces. */
    static final class CheckpointBuilder {
        final List<TensorSpec> tensors = new ArrayList<>();
        final Map<String, byte[]> storages = new LinkedHashMap<>();
        private boolean underModel;

        /** Nest the state dict as {@code {"model": sd, "optim": {...}}}, as facebook/blt's consolidated.pth does. */
        CheckpointBuilder underModel() {
            underModel = true;
            storages.put("opt0", floatsLE(3));
            storages.put("opt1", floatsLE(0, 0));
            return this;
        }

        CheckpointBuilder storage(String key, byte[] bytes) {
            storages.put(key, bytes);
            return this;
        }

        /** A contiguous tensor; the storage's numel follows from its bytes. */
        CheckpointBuilder tensor(String name, String storageType, String key, long offset, long... shape) {
            long[] stride = new long[shape.length];
            long s = 1;
            for (int i = shape.length - 1; i >= 0; i--) {
                stride[i] = s;
                s *= shape[i];
            }
            int es = storageType.equals("FloatStorage") ? 4 : storageType.equals("DoubleStorage") ? 8 : 2;
            tensors.add(new TensorSpec(name, storageType, key, storages.get(key).length / es, offset, shape, stride, false));
            return this;
        }

        byte[] pickle() {
            PickleWriter w = new PickleWriter().proto(2);
            if (underModel) {
                w.raw('}').put().raw('(').str("model");
            }
            stateDict(w);
            if (underModel) {
                w.str("optim");
                optimizerState(w);
                w.str("epoch").integer(3).raw('u');
            }
            return w.stop();
        }

        private void stateDict(PickleWriter w) {
            w.emptyOrderedDict();
            if (tensors.size() > 1) {
                w.raw('(');
            }
            for (TensorSpec t : tensors) {
                w.str(t.name()).tensor(t);
            }
            if (!tensors.isEmpty()) {
                w.raw(tensors.size() > 1 ? 'u' : 's');
            }
            // state_dict() carries a _metadata attribute, which pickles as BUILD on the OrderedDict.
            w.raw('}').put().str("_metadata").emptyOrderedDict().raw('s', 'b');
        }

        /** {@code {'state': {0: {'step': tensor, 'exp_avg': tensor}}, 'param_groups': [{'lr': 1e-3, 'betas': (.9, .95), 'params': [0]}]}}. */
        private static void optimizerState(PickleWriter w) {
            w.raw('}').put().raw('(').str("state").raw('}').put().integer(0).raw('}').put().raw('(');
            w.str("step").tensor(new TensorSpec("step", "FloatStorage", "opt0", 1, 0, new long[0], new long[0], false));
            w.str("exp_avg").tensor(new TensorSpec("exp_avg", "FloatStorage", "opt1", 2, 0, new long[] {2}, new long[] {1}, false));
            w.raw('u', 's');
            w.str("param_groups").raw(']').put().raw('}').put().raw('(').str("lr").real(1e-3).str("betas")
                    .real(0.9).real(0.95).raw(0x86).put().str("params").raw(']').put().integer(0).raw('a', 'u', 'a');
            w.raw('u');
        }

        Map<String, byte[]> entries() {
            return torchEntries(pickle(), storages);
        }

        Path write(Path file) throws IOException {
            return writeZip(file, entries(), ZipEntry.STORED);
        }
    }

    /** The entries torch.save writes, in its order, under the top folder {@code archive/}. */
    static Map<String, byte[]> torchEntries(byte[] pickle, Map<String, byte[]> storages) {
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("archive/data.pkl", pickle);
        e.put("archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        storages.forEach((key, bytes) -> e.put("archive/data/" + key, bytes));
        e.put("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        e.put("archive/.data/serialization_id", "1234567890".getBytes(StandardCharsets.US_ASCII));
        return e;
    }

    static Path writeZip(Path file, Map<String, byte[]> entries, int method) throws IOException {
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
            for (Map.Entry<String, byte[]> kv : entries.entrySet()) {
                ZipEntry ze = new ZipEntry(kv.getKey());
                ze.setMethod(method);
                if (method == ZipEntry.STORED) { // STORED entries need their sizes and CRC up front
                    CRC32 crc = new CRC32();
                    crc.update(kv.getValue());
                    ze.setSize(kv.getValue().length);
                    ze.setCompressedSize(kv.getValue().length);
                    ze.setCrc(crc.getValue());
                }
                zip.putNextEntry(ze);
                zip.write(kv.getValue());
                zip.closeEntry();
            }
        }
        return file;
    }
}
