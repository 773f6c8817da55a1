package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.Tensor;

/** y = x / sqrt(mean(x²) + eps) · w, per row. Stateless: the caller keeps rstd [T] for the backward. */
public final class RmsNorm {
    private final Parameter weight;
    private final float eps;
    private final Backend backend;

    public RmsNorm(ParameterStore store, Backend backend, String name, int dim, float eps) {
        this.weight = store.add(name + ".weight", Parameter.Init.constant(1f), dim);
        this.eps = eps;
        this.backend = backend;
    }

    /** y [T, d] = norm(x); rstd [T] receives 1/sqrt(mean(x²) + eps). */
    public void forward(Tensor x, Tensor y, Tensor rstd) {
        backend.rmsNorm(x, weight.value(), y, rstd, eps);
    }

    /** dx += ∂L/∂x for the x and rstd of a forward. */
    public void backward(Tensor dy, Tensor x, Tensor rstd, Tensor dx) {
        backend.rmsNormBackward(dy, x, weight.value(), rstd, dx, weight.grad());
    }
}
