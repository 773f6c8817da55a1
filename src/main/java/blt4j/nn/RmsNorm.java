package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.Tensor;

/** y = x / sqrt(mean(x²) + eps) · w, per row. */
public final class RmsNorm {
    private final Parameter weight;
    private final float eps;
    private final Backend backend;
    private final Scratch scratch;
    private Tensor rstd;

    public RmsNorm(ParameterStore store, Backend backend, String name, int dim, float eps) {
        this.weight = store.add(name + ".weight", Parameter.Init.constant(1f), dim);
        this.eps = eps;
        this.backend = backend;
        this.scratch = new Scratch(backend);
    }

    public Tensor forward(Tensor x) {
        Tensor y = scratch.f32("y", x.rows(), x.cols());
        rstd = scratch.f32("rstd", x.rows(), 1);
        backend.rmsNorm(x, weight.value(), y, rstd, eps);
        return y;
    }

    /** dx += ∂L/∂x for the x of the last forward. */
    public void backward(Tensor dy, Tensor x, Tensor dx) {
        backend.rmsNormBackward(dy, x, weight.value(), rstd, dx, weight.grad());
    }
}
