package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.Tensor;

/** y = x·Wᵀ with W stored [out, in] as in the reference checkpoints; no bias (BLT has none). Stateless. */
public final class Linear {
    private final Parameter weight;
    private final int in;
    private final int out;
    private final Backend backend;

    public Linear(ParameterStore store, Backend backend, String name, int in, int out, double initStd) {
        this.weight = store.addMatrix(name + ".weight", Parameter.Init.normal(initStd), out, in);
        this.in = in;
        this.out = out;
        this.backend = backend;
    }

    public Parameter weight() {
        return weight;
    }

    public int in() {
        return in;
    }

    public int out() {
        return out;
    }

    /** x [T, in] → y [T, out] (the caller's buffer). */
    public void forward(Tensor x, Tensor y) {
        backend.matmul(x.reshape(x.rows(), in), false, weight.value(), true, y.reshape(x.rows(), out), false);
    }

    /** dW += dyᵀ·x; dx += dy·W when dx is not null. */
    public void backward(Tensor dy, Tensor x, Tensor dx) {
        backward(dy, x, dx, true);
    }

    /**
     * dW += dyᵀ·x; dx += dy·W, or dx = dy·W when not accumulating (a first contribution: the caller need not zero
     * dx first, a write and a read of the whole buffer saved).
     */
    public void backward(Tensor dy, Tensor x, Tensor dx, boolean accumulateDx) {
        Tensor x2 = x.reshape(x.rows(), in);
        Tensor dy2 = dy.reshape(x.rows(), out);
        backend.matmul(dy2, true, x2, false, weight.grad(), true);
        if (dx != null) {
            backend.matmul(dy2, false, weight.value(), false, dx.reshape(x.rows(), in), accumulateDx);
        }
    }
}
