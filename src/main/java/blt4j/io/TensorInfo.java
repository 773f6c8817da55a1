package blt4j.io;

import java.util.Arrays;
import java.util.Objects;

/**
 * One header entry of a safetensors file. Kept separate from the data so that callers can check names,
 * dtypes and shapes of a whole checkpoint before reading (and allocating) anything.
 *
 * @param name  tensor name
 * @param dtype element type on disk
 * @param shape dimensions, outermost first; empty for a scalar (the accessor returns a copy)
 * @param begin first byte, relative to the start of the data section (just after the header)
 * @param end   one past the last byte, relative to the start of the data section
 */
public record TensorInfo(String name, StDtype dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions (0 for a scalar). */
    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}. */
    public long dim(int i) {
        return shape[i];
    }

    /** Number of elements: the product of the shape, 1 for a scalar. */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Length of the data in bytes. */
    public long byteLength() {
        return end - begin;
    }

    /** The shape as ints; throws {@link ArithmeticException} if a dimension does not fit. */
    public int[] intShape() {
        int[] s = new int[shape.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = Math.toIntExact(shape[i]);
        }
        return s;
    }

    /** True if the shape equals the given dimensions. */
    public boolean hasShape(int... dims) {
        if (dims.length != shape.length) {
            return false;
        }
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] != shape[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && begin == t.begin
                && end == t.end;
    }

    @Override
    public int hashCode() {
        return ((name.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape)) * 31
                + Long.hashCode(begin) * 17 + Long.hashCode(end);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " @[" + begin + ", " + end + ")";
    }
}
