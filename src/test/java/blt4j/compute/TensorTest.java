package blt4j.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class TensorTest {
    final Backend be = new ReferenceBackend();

    /** The call throws IllegalArgumentException whose message contains every fragment. */
    static void rejects(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(f), "message '" + e.getMessage() + "' should mention " + f);
        }
    }

    static float[] iota(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
        }
        return x;
    }

    @Test
    void shapeAccessors() {
        Tensor t = be.zeros(2, 3, 4);
        assertEquals(3, t.rank());
        assertEquals(24, t.size());
        assertEquals(4, t.cols());
        assertEquals(6, t.rows());
        assertEquals(4, t.dim(-1));
        assertEquals(3, t.dim(-2));
        assertEquals(2, t.dim(0));
        assertArrayEquals(new int[] {2, 3, 4}, t.shape());
        t.shape()[0] = 99; // shape() is a copy
        assertEquals(2, t.dim(0));
        Tensor v = be.zeros(5);
        assertEquals(1, v.rows());
        assertEquals(5, v.cols());
        Tensor empty = be.zeros(0, 3);
        assertEquals(0, empty.size());
        assertEquals(0, empty.rows());
        assertEquals(DType.F32, t.dtype());
        assertEquals(DType.I32, be.allocate(DType.I32, 2).dtype());
    }

    @Test
    void viewsShareStorage() {
        Tensor base = be.fromHost(iota(12), 3, 4);
        Tensor v = base.view(5, 2, 3);
        assertTrue(v.sameStorage(base));
        assertEquals(5, v.offset());
        assertArrayEquals(new float[] {5, 6, 7, 8, 9, 10}, v.toHost());
        be.fill(v.view(1, 2), -1f); // a view of a view: elements 6 and 7 of base
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5, -1, -1, 8, 9, 10, 11}, base.toHost());
        assertArrayEquals(new float[] {}, base.view(12, 0).toHost()); // an empty view at the end is fine
    }

    @Test
    void reshapeKeepsElements() {
        Tensor base = be.fromHost(iota(12), 3, 4);
        Tensor r = base.reshape(2, 6);
        assertArrayEquals(new int[] {2, 6}, r.shape());
        assertArrayEquals(base.toHost(), r.toHost());
        assertTrue(r.sameStorage(base));
        Tensor v = base.view(4, 8).reshape(2, 2, 2);
        assertEquals(4, v.offset());
        assertArrayEquals(new float[] {4, 5, 6, 7, 8, 9, 10, 11}, v.toHost());
    }

    @Test
    void rowSlice() {
        Tensor m = be.fromHost(iota(12), 4, 3);
        Tensor s = m.rowSlice(1, 3);
        assertArrayEquals(new int[] {2, 3}, s.shape());
        assertArrayEquals(new float[] {3, 4, 5, 6, 7, 8}, s.toHost());
        assertEquals(0, m.rowSlice(2, 2).size());
        // rank 3: rows are all but the last dimension
        Tensor t3 = be.fromHost(iota(24), 2, 3, 4);
        Tensor s3 = t3.rowSlice(2, 5);
        assertArrayEquals(new int[] {3, 4}, s3.shape());
        assertArrayEquals(new float[] {8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, s3.toHost());
        // rank 1: per-row values (targets, losses) are sliced by element
        Tensor v = be.fromHost(iota(5), 5);
        assertArrayEquals(new float[] {1, 2}, v.rowSlice(1, 3).toHost());
        assertArrayEquals(new float[] {4}, v.rowSlice(4, 5).toHost());
        // slices of slices keep the offset
        assertArrayEquals(new float[] {6, 7, 8}, s.rowSlice(1, 2).toHost());
    }

    @Test
    void badShapesAreRejectedWithUsefulMessages() {
        rejects(() -> be.zeros(2, -3), "negative dimension", "[2, -3]");
        rejects(() -> be.zeros(1 << 16, 1 << 16), "2^31-1", "[65536, 65536]");
        Tensor t = be.zeros(3, 4);
        rejects(() -> t.reshape(5, 2), "cannot reshape", "[3, 4]", "[5, 2]");
        rejects(() -> t.reshape(-1, -12), "negative dimension");
        rejects(() -> t.view(10, 3), "outside tensor of shape [3, 4]", "[10, 13)");
        rejects(() -> t.view(-1, 2), "outside tensor");
        rejects(() -> t.view(12), "[12, 13)"); // no shape is a scalar: one element
        rejects(() -> t.rowSlice(2, 5), "rowSlice [2, 5)", "[3, 4]");
        rejects(() -> t.rowSlice(2, 1), "rowSlice [2, 1)");
        rejects(() -> t.rowSlice(-1, 1), "rowSlice [-1, 1)");
        rejects(() -> be.zeros(5).rowSlice(3, 6), "rowSlice [3, 6)", "5 rows");
        rejects(() -> be.fromHost(new float[5], 2, 3), "fromHost", "expected 6", "got 5");
        rejects(() -> be.fromHost(new int[7], 2, 3), "fromHost", "expected 6", "got 7");
        rejects(() -> be.upload(new float[4], 0, t), "upload", "4 floats", "need 12");
        rejects(() -> be.download(t, new float[11], 0), "download");
        rejects(() -> be.copy(be.zeros(3), be.allocate(DType.I32, 3)), "copy", "dtype");
        rejects(() -> be.copy(be.zeros(3), be.zeros(4)), "copy", "[3]", "[4]");
    }

    @Test
    void matmulShapeChecksNameTheShapes() {
        rejects(() -> be.matmul(be.zeros(2, 3), false, be.zeros(4, 5), false, be.zeros(2, 5), false),
                "matmul", "[2, 3]", "[4, 5]", "[2, 5]");
        // transposes are taken into account, and the message shows them
        rejects(() -> be.matmul(be.zeros(2, 3), true, be.zeros(3, 5), false, be.zeros(3, 5), false),
                "[2, 3]ᵀ", "[3, 5]", "[3, 5]");
        rejects(() -> be.matmul(be.zeros(2, 3), false, be.zeros(5, 4), true, be.zeros(2, 5), false), "[5, 4]ᵀ");
        // wrong output shape
        rejects(() -> be.matmul(be.zeros(2, 3), false, be.zeros(3, 5), false, be.zeros(5, 2), false), "[5, 2]");
        // ranks
        rejects(() -> be.matmul(be.zeros(2, 3), false, be.zeros(1, 3, 5), false, be.zeros(2, 5), false),
                "must all be 2-D or all 3-D", "[2, 3]", "[1, 3, 5]");
        rejects(() -> be.matmul(be.zeros(6), false, be.zeros(6), false, be.zeros(1), false), "must all be 2-D or all 3-D");
        // batches
        rejects(() -> be.matmul(be.zeros(2, 2, 3), false, be.zeros(3, 3, 5), false, be.zeros(2, 2, 5), false),
                "batch", "[2, 2, 3]", "[3, 3, 5]");
        // the right shapes pass, including 3-D with transposes
        be.matmul(be.zeros(2, 3, 2), true, be.zeros(2, 5, 3), true, be.zeros(2, 2, 5), false);
    }

    @Test
    void otherOpsCheckShapesAndTypes() {
        rejects(() -> be.matmul(be.allocate(DType.I32, 2, 2), false, be.zeros(2, 2), false, be.zeros(2, 2), false),
                "matmul", "expected F32");
        try (Backend other = new ReferenceBackend()) {
            Tensor foreign = other.zeros(2, 2);
            rejects(() -> be.add(foreign, be.zeros(2, 2), be.zeros(2, 2)), "another backend");
        }
        rejects(() -> be.add(be.zeros(2, 3), be.zeros(3, 3), be.zeros(2, 3)), "add", "[2, 3]", "[3, 3]");
        rejects(() -> be.rmsNorm(be.zeros(2, 4), be.zeros(3), be.zeros(2, 4), be.zeros(2), 1e-5f), "rmsNorm weight", "expected 4");
        rejects(() -> be.rmsNorm(be.zeros(2, 4), be.zeros(4), be.zeros(2, 4), be.zeros(3), 1e-5f), "rmsNorm rstd");
        RopeTables tables = RopeTables.build(be, 10000, 4, 8);
        rejects(() -> be.rope(be.zeros(2, 6), be.allocate(DType.I32, 2), tables.cos(), tables.sin(), be.zeros(2, 6), 2, 3),
                "head dim 3 must be even");
        rejects(() -> be.rope(be.zeros(2, 8), be.allocate(DType.I32, 3), tables.cos(), tables.sin(), be.zeros(2, 8), 2, 4),
                "rope positions");
        rejects(() -> RopeTables.build(be, 10000, 5, 8), "even");
        Ranges mask = AttentionMask.selfAttention(be, 2, 0, null);
        rejects(() -> be.attention(be.zeros(2, 6), be.zeros(2, 6), be.zeros(2, 6), be.zeros(2, 6), be.zeros(4, 2), mask, 4),
                "not divisible by 4 heads");
        rejects(() -> be.attention(be.zeros(2, 6), be.zeros(2, 4), be.zeros(2, 6), be.zeros(2, 6), be.zeros(2, 2), mask, 2),
                "row width 6");
        rejects(() -> be.crossEntropy(be.zeros(2, 4), be.allocate(DType.I32, 3), null, be.zeros(2)), "crossEntropy targets");
        rejects(() -> be.crossEntropy(be.zeros(2, 4), be.fromHost(new int[] {0, 4}, 2), null, be.zeros(2)),
                "crossEntropy:", "target 4", "vocabulary of 4");
        rejects(() -> be.embedding(be.zeros(3, 2), be.fromHost(new int[] {0, 3}, 2), be.zeros(2, 2), false),
                "embedding:", "id 3", "3 rows");
        rejects(() -> be.segmentMax(be.zeros(3, 2), Ranges.of(be, new int[] {0}, new int[] {4}), be.zeros(1, 2),
                be.allocate(DType.I32, 1, 2)), "segmentMax", "row 4 of 3");
        rejects(() -> be.adamw(be.zeros(2), be.zeros(2), be.zeros(2), be.zeros(2), 1e-3f, 0.9f, 0.95f, 1e-8f, 0f, 0),
                "step counts from 1");
    }
}
