package blt4j.compute;

import java.util.Arrays;

/**
 * A handle to row-major data owned by one backend: storage + element offset + shape.
 * Views share storage (parameters are views into one buffer); nothing here copies data.
 * Host backends keep a {@code float[]} or {@code int[]}; device backends keep their own buffer object.
 */
public final class Tensor {
    private final Backend backend;
    private final Object storage;
    private final int offset;
    private final int[] shape;
    private final DType dtype;
    private final int size;

    Tensor(Backend backend, Object storage, int offset, DType dtype, int... shape) {
        this.backend = backend;
        this.storage = storage;
        this.offset = offset;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.size = checkedSize(shape);
    }

    static int checkedSize(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("tensor of shape " + Arrays.toString(shape)
                        + " has more than 2^31-1 elements, the limit of one buffer");
            }
        }
        return (int) n;
    }

    public Backend backend() {
        return backend;
    }

    /** Backend-specific storage object; only the owning backend interprets it. */
    public Object storage() {
        return storage;
    }

    public int offset() {
        return offset;
    }

    public DType dtype() {
        return dtype;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    /** Number of elements. */
    public int size() {
        return size;
    }

    /** Size of the last dimension (1 for a scalar). */
    public int cols() {
        return shape.length == 0 ? 1 : shape[shape.length - 1];
    }

    /** Product of all but the last dimension. */
    public int rows() {
        int c = cols();
        return c == 0 ? 0 : size / c;
    }

    /** A view of {@code size(shape)} elements starting {@code elementOffset} elements into this tensor. */
    public Tensor view(int elementOffset, int... newShape) {
        int n = checkedSize(newShape);
        if (elementOffset < 0 || (long) elementOffset + n > size) {
            throw new IllegalArgumentException("view [" + elementOffset + ", " + ((long) elementOffset + n)
                    + ") outside tensor of shape " + Arrays.toString(shape));
        }
        return new Tensor(backend, storage, offset + elementOffset, dtype, newShape);
    }

    /** The same elements under another shape with the same element count. */
    public Tensor reshape(int... newShape) {
        if (checkedSize(newShape) != size) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
        }
        return new Tensor(backend, storage, offset, dtype, newShape);
    }

    /**
     * Rows {@code [from, to)} of a tensor seen as [rows, cols], as a 2-D view {@code [to − from, cols]}.
     * A 1-D tensor (per-row values such as targets, losses, rstd) is sliced by element: {@code [to − from]}.
     */
    public Tensor rowSlice(int from, int to) {
        boolean vector = shape.length <= 1;
        int n = vector ? size : rows();
        if (from < 0 || to < from || to > n) {
            throw new IllegalArgumentException("rowSlice [" + from + ", " + to + ") outside the " + n + " rows of tensor of shape "
                    + Arrays.toString(shape));
        }
        if (vector) {
            return view(from, to - from);
        }
        int c = cols();
        return view(from * c, to - from, c);
    }

    public float[] toHost() {
        return backend.toHost(this);
    }

    public int[] toHostInts() {
        return backend.toHostInts(this);
    }

    public boolean sameStorage(Tensor other) {
        return storage == other.storage;
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape) + " " + dtype + " on " + backend.name();
    }
}
