package blt4j.compute;

import java.util.Arrays;

/** Shared memory handling for backends whose tensors live in Java arrays ({@code float[]} or {@code int[]}). */
public abstract class HostBackend extends Backend {

    /** The float array behind a host tensor (read it from {@code t.offset()}). */
    protected static float[] f(Tensor t) {
        return t == null ? null : (float[]) t.storage();
    }

    /** The int array behind a host tensor. */
    protected static int[] i(Tensor t) {
        return (int[]) t.storage();
    }

    /** The storage is the host copy. */
    @Override
    protected int[] hostInts(Tensor t) {
        return i(t);
    }

    /** Offset of a possibly-null tensor. */
    protected static int o(Tensor t) {
        return t == null ? 0 : t.offset();
    }

    @Override
    protected Object allocateStorage(DType dtype, int size) {
        try {
            return switch (dtype) {
                case F32 -> new float[size];
                case I32 -> new int[size];
                case BF16 -> new short[size];
            };
        } catch (OutOfMemoryError e) {
            throw new IllegalStateException("out of memory allocating " + size + " x " + dtype + " ("
                    + (long) size * dtype.bytes() / (1 << 20) + " MiB); raise -Xmx or use a smaller model", e);
        }
    }

    @Override
    protected void writeFloats(Tensor dst, float[] src, int srcOffset) {
        System.arraycopy(src, srcOffset, f(dst), dst.offset(), dst.size());
    }

    @Override
    protected void writeInts(Tensor dst, int[] src, int srcOffset) {
        System.arraycopy(src, srcOffset, i(dst), dst.offset(), dst.size());
    }

    @Override
    protected void readFloats(Tensor src, float[] dst, int dstOffset) {
        System.arraycopy(f(src), src.offset(), dst, dstOffset, src.size());
    }

    @Override
    protected void readInts(Tensor src, int[] dst) {
        System.arraycopy(i(src), src.offset(), dst, 0, src.size());
    }

    /** The bfloat16 bits behind a host BF16 tensor held in the heap (see {@link #mapped} for one read in place). */
    protected static short[] h(Tensor t) {
        return (short[]) t.storage();
    }

    /** The mapped bits behind a BF16 tensor read in place from its file, or null for one held in the heap. */
    protected static java.nio.ShortBuffer mapped(Tensor t) {
        return t.storage() instanceof java.nio.ShortBuffer b ? b : null;
    }

    /** Elements [from, from + count) of a BF16 tensor's storage into {@code dst[0..count)}, wherever they lie. */
    protected static void bf16Range(Tensor t, int from, short[] dst, int count) {
        java.nio.ShortBuffer b = mapped(t);
        if (b != null) {
            b.get(from, dst, 0, count);
        } else {
            System.arraycopy(h(t), from, dst, 0, count);
        }
    }

    @Override
    protected void writeBf16(Tensor dst, short[] src, int srcOffset) {
        if (mapped(dst) != null) {
            throw new IllegalStateException("a weight read in place from its file is read-only: " + dst);
        }
        System.arraycopy(src, srcOffset, h(dst), dst.offset(), dst.size());
    }

    @Override
    protected void readBf16(Tensor src, short[] dst) {
        bf16Range(src, src.offset(), dst, src.size());
    }

    @Override
    protected Object wrapBf16Storage(java.nio.ShortBuffer bits, int size) {
        return bits;
    }

    @Override
    protected void copyKernel(Tensor src, Tensor dst) {
        System.arraycopy(src.storage(), src.offset(), dst.storage(), dst.offset(), src.size());
    }

    @Override
    protected void fillKernel(Tensor t, float value) {
        Arrays.fill(f(t), t.offset(), t.offset() + t.size(), value);
    }
}
