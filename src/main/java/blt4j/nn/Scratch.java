package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.DType;
import blt4j.compute.Tensor;
import java.util.HashMap;
import java.util.Map;

/**
 * Per-layer activation buffers that grow to the largest shape seen and are reused as views afterwards, so a
 * training loop with fixed shapes allocates once (important for device backends).
 */
final class Scratch {
    private final Backend backend;
    private final Map<String, Tensor> buffers = new HashMap<>();

    Scratch(Backend backend) {
        this.backend = backend;
    }

    Tensor f32(String name, int rows, int cols) {
        return get(name, DType.F32, rows, cols);
    }

    Tensor i32(String name, int n) {
        return get(name, DType.I32, n, 1).reshape(n);
    }

    /** A zeroed float buffer (gradients that backward ops accumulate into). */
    Tensor zeros(String name, int rows, int cols) {
        Tensor t = f32(name, rows, cols);
        backend.zero(t);
        return t;
    }

    private Tensor get(String name, DType dtype, int rows, int cols) {
        int n = rows * cols;
        Tensor buf = buffers.get(name);
        if (buf == null || buf.size() < n) {
            buf = backend.allocate(dtype, Math.max(n, 1));
            buffers.put(name, buf);
        }
        return buf.view(0, rows, cols);
    }
}
