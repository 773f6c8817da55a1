package blt4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTest {
    @TempDir
    Path dir;

    private static float[] randomFloats(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    @Test
    void roundTripAwkwardShapesAndMetadata() throws Exception {
        float[] scalar = {3.5f};
        float[] one = {-0.0f};
        float[] empty = {};
        float[] m37 = randomFloats(21, 1);
        m37[4] = Float.NaN;
        m37[5] = Float.NEGATIVE_INFINITY;
        m37[6] = Float.MIN_VALUE;
        int[] ids = {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 42, 7};
        int[] intScalar = {-5};
        Path f = dir.resolve("sub/dir/rt.safetensors");
        new SafetensorsWriter()
                .putMetadata("format", "pt")
                .putMetadata("note", "ünïcödé \"quoted\" <html>")
                .addFloats("z.scalar", scalar)
                .addFloats("a.one", one, 1)
                .addFloats("m.empty", empty, 0, 5)
                .addFloats("b.m37", m37, 3, 7)
                .addInts("ids", ids, 2, 3)
                .addInts("i.scalar", intScalar)
                .write(f);

        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(Map.of("format", "pt", "note", "ünïcödé \"quoted\" <html>"), st.metadata());
            assertEquals(List.of("z.scalar", "a.one", "m.empty", "b.m37", "ids", "i.scalar"),
                    List.copyOf(st.tensors().keySet()), "insertion order equals offset order");
            assertEquals(0, st.info("z.scalar").rank());
            assertEquals(1, st.info("z.scalar").numel());
            assertArrayEquals(new long[] {0, 5}, st.info("m.empty").shape());
            assertEquals(0, st.info("m.empty").numel());
            assertArrayEquals(new int[] {3, 7}, st.info("b.m37").intShape());
            assertEquals(StDtype.I32, st.info("ids").dtype());
            assertEquals(StDtype.F32, st.info("b.m37").dtype());

            assertArrayEquals(scalar, st.readFloats("z.scalar"));
            assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(st.readFloats("a.one")[0]));
            assertEquals(0, st.readFloats("m.empty").length);
            float[] back = st.readFloats("b.m37");
            for (int i = 0; i < m37.length; i++) {
                assertEquals(Float.floatToRawIntBits(m37[i]), Float.floatToRawIntBits(back[i]), "element " + i);
            }
            assertArrayEquals(ids, st.readInts("ids"));
            assertArrayEquals(intScalar, st.readInts("i.scalar"));
            assertArrayEquals(m37, st.readFloatsChecked("b.m37", 3, 7));
            SafetensorsException e = assertThrows(SafetensorsException.class,
                    () -> st.readFloatsChecked("b.m37", 7, 3));
            assertTrue(e.getMessage().contains("[3, 7], expected [7, 3]"), e.getMessage());

            float[] dst = new float[30];
            st.readFloats("b.m37", dst, 9);
            assertArrayEquals(m37, Arrays.copyOfRange(dst, 9, 30));
            assertThrows(IllegalArgumentException.class, () -> st.readFloats("b.m37", dst, 10));
        }
    }

    @Test
    void headerIsSpacePaddedToMultipleOf8AndCompatible() throws Exception {
        Path f = dir.resolve("pad.safetensors");
        new SafetensorsWriter().addFloats("w", new float[] {1, 2, 3}, 3).write(f);
        byte[] bytes = Files.readAllBytes(f);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        assertEquals(0, n % 8);
        assertEquals(8 + n + 12, bytes.length);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        CRC32C crc = new CRC32C();
        crc.update(bytes, (int) (8 + n), 12);
        String expected = String.format("{\"__metadata__\":{\"blt4j.crc32c.w\":\"%08x F32 [3]\"},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", crc.getValue());
        assertTrue(header.startsWith(expected), header + " vs " + expected);
        assertTrue(header.substring(header.lastIndexOf('}') + 1).isBlank());
        assertEquals(1.0f, b.getFloat((int) (8 + n)));
        assertEquals(3.0f, b.getFloat((int) (8 + n + 8)));
    }

    @Test
    void writeIsDeterministic() throws Exception {
        float[] w = randomFloats(100, 3);
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        for (Path p : new Path[] {a, b}) {
            new SafetensorsWriter().putMetadata("k", "v").addFloats("x", w, 10, 10).addInts("y", new int[] {1}, 1)
                    .write(p);
        }
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    }

    @Test
    void tensorsStraddlingTinyWindows() throws Exception {
        Path f = dir.resolve("windows.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        float[][] data = new float[5][];
        int[] lengths = {1, 15, 16, 17, 300};
        for (int i = 0; i < lengths.length; i++) {
            data[i] = randomFloats(lengths[i], 10 + i);
            w.addFloats("t" + i, data[i], lengths[i]);
        }
        int[] ints = new int[99];
        for (int i = 0; i < ints.length; i++) {
            ints[i] = i * i - 50;
        }
        w.addInts("ints", ints, 9, 11);
        w.write(f);
        for (long window : new long[] {64, 60, 13, 4, 1}) {
            try (SafetensorsFile st = SafetensorsFile.open(f, window)) {
                for (int i = 0; i < lengths.length; i++) {
                    assertArrayEquals(data[i], st.readFloats("t" + i), "t" + i + " window " + window);
                }
                assertArrayEquals(ints, st.readInts("ints"), "window " + window);
            }
        }
    }

    @Test
    void largerTensorBulkRoundTrip() throws Exception {
        // 4 Mi floats = 16 MiB: several writer chunks, one bulk read.
        float[] big = randomFloats(1 << 22, 99);
        Path f = dir.resolve("big.safetensors");
        new SafetensorsWriter().addFloats("big", big, 1024, 4096).write(f);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertArrayEquals(big, st.readFloats("big"));
        }
        try (SafetensorsFile st = SafetensorsFile.open(f, 1 << 20)) {
            assertArrayEquals(big, st.readFloats("big"));
        }
    }

    @Test
    void readsI64AndRejectsOutOfRange() throws Exception {
        byte[] data = StFiles.longsLE(1, -2, Integer.MAX_VALUE, Integer.MIN_VALUE, 1L << 31);
        Path ok = StFiles.raw(dir.resolve("i64ok.safetensors"),
                "{\"ok\":{\"dtype\":\"I64\",\"shape\":[4],\"data_offsets\":[0,32]}}", Arrays.copyOf(data, 32));
        Path big = StFiles.raw(dir.resolve("i64big.safetensors"),
                "{\"big\":{\"dtype\":\"I64\",\"shape\":[5],\"data_offsets\":[0,40]}}", data);
        try (SafetensorsFile st = SafetensorsFile.open(ok)) {
            assertArrayEquals(new int[] {1, -2, Integer.MAX_VALUE, Integer.MIN_VALUE}, st.readInts("ok"));
        }
        try (SafetensorsFile st = SafetensorsFile.open(big)) {
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> st.readInts("big"));
            assertTrue(e.getMessage().contains("i64big.safetensors"), e.getMessage());
            assertTrue(e.getMessage().contains("element 4 = 2147483648 does not fit in an int"), e.getMessage());
        }
    }

    @Test
    void wrongKindOfReadAndMissingKey() throws Exception {
        Path f = dir.resolve("kinds.safetensors");
        new SafetensorsWriter()
                .addFloats("layers.0.attention.wq.weight", new float[] {1}, 1)
                .addFloats("layers.0.attention.wk.weight", new float[] {1}, 1)
                .addInts("tokens", new int[] {1, 2}, 2)
                .write(f);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertTrue(st.contains("tokens"));
            assertFalse(st.contains("nope"));
            SafetensorsException e1 = assertThrows(SafetensorsException.class, () -> st.readInts(
                    "layers.0.attention.wq.weight"));
            assertTrue(e1.getMessage().contains("kinds.safetensors"), e1.getMessage());
            assertTrue(e1.getMessage().contains("has dtype F32, cannot read it as integers"), e1.getMessage());
            SafetensorsException e2 = assertThrows(SafetensorsException.class, () -> st.readFloats("tokens"));
            assertTrue(e2.getMessage().contains("has dtype I32, cannot read it as floats"), e2.getMessage());
            SafetensorsException e3 = assertThrows(SafetensorsException.class,
                    () -> st.readFloats("layers.0.attention.wv.weight"));
            assertTrue(e3.getMessage().contains("kinds.safetensors"), e3.getMessage());
            assertTrue(e3.getMessage().contains("no tensor named 'layers.0.attention.wv.weight'"), e3.getMessage());
            assertTrue(e3.getMessage().contains("layers.0.attention.wk.weight"), "lists similar keys: "
                    + e3.getMessage());
        }
        SafetensorsFile closed = SafetensorsFile.open(f);
        closed.close();
        SafetensorsException e4 = assertThrows(SafetensorsException.class, () -> closed.readInts("tokens"));
        assertTrue(e4.getMessage().contains("closed"), e4.getMessage());
    }

    @Test
    void writerRejectsBadInput() {
        SafetensorsWriter w = new SafetensorsWriter().addFloats("a", new float[6], 2, 3);
        assertThrows(IllegalArgumentException.class, () -> w.addFloats("a", new float[1], 1));
        assertThrows(IllegalArgumentException.class, () -> w.addFloats("b", new float[5], 2, 3));
        assertThrows(IllegalArgumentException.class, () -> w.addInts("c", new int[0], -1, 0));
        assertThrows(IllegalArgumentException.class, () -> w.addInts("__metadata__", new int[1]));
        assertEquals(1, w.size());
    }
}
