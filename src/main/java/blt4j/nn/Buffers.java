package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.DType;
import blt4j.compute.Tensor;

/**
 * Allocation helpers for activation states: every buffer is allocated once at its capacity and used through views
 * of its first rows, so a step with fewer rows (fewer patches) reuses it without allocating.
 */
public final class Buffers {
    private Buffers() {}

    /** A float buffer [rows, cols]. */
    public static Tensor f32(Backend backend, int rows, int cols) {
        return backend.allocate(DType.F32, rows, cols);
    }

    /** An int buffer [n]. */
    public static Tensor i32(Backend backend, int n) {
        return backend.allocate(DType.I32, n);
    }

    /** The first {@code rows} rows of a [capacity, cols] buffer (or the first {@code rows} elements of a vector). */
    public static Tensor first(Tensor buffer, int rows) {
        return buffer.rowSlice(0, rows);
    }

    /** The first {@code rows}·{@code cols} elements of a buffer, as [rows, cols]. */
    public static Tensor first(Tensor buffer, int rows, int cols) {
        return buffer.view(0, rows, cols);
    }

    /** A zeroed view of the first rows (gradients that backward ops accumulate into). */
    public static Tensor zeroed(Backend backend, Tensor buffer, int rows) {
        Tensor t = first(buffer, rows);
        backend.zero(t);
        return t;
    }
}
