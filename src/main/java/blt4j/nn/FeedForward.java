package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.Tensor;

/** SwiGLU feed-forward: w2(silu(w1·x) ⊙ w3·x), parameter names as in the reference (w1 gate, w3 up, w2 down). */
public final class FeedForward {
    private final Linear w1;
    private final Linear w3;
    private final Linear w2;
    private final Backend backend;
    private final Scratch scratch;
    private Tensor gate;
    private Tensor up;
    private Tensor hidden;

    public FeedForward(ParameterStore store, Backend backend, String name, int dim, int hiddenDim, double inStd, double outStd) {
        this.w1 = new Linear(store, backend, name + ".w1", dim, hiddenDim, inStd);
        this.w3 = new Linear(store, backend, name + ".w3", dim, hiddenDim, inStd);
        this.w2 = new Linear(store, backend, name + ".w2", hiddenDim, dim, outStd);
        this.backend = backend;
        this.scratch = new Scratch(backend);
    }

    /** The reference FFN width: int(2·4d/3), times the multiplier, rounded up to a multiple (BLT-REFERENCE §6.2). */
    public static int hiddenDim(int dim, int multipleOf, double ffnDimMultiplier) {
        int h = (int) (2 * (4 * dim) / 3.0);
        h = (int) (ffnDimMultiplier * h);
        return multipleOf * ((h + multipleOf - 1) / multipleOf);
    }

    public Tensor forward(Tensor x) {
        gate = w1.forward(x);
        up = w3.forward(x);
        hidden = scratch.f32("hidden", x.rows(), gate.cols());
        backend.swiglu(gate, up, hidden);
        return w2.forward(hidden);
    }

    public void backward(Tensor dy, Tensor x, Tensor dx) {
        int rows = x.rows();
        Tensor dHidden = scratch.zeros("dHidden", rows, hidden.cols());
        w2.backward(dy, hidden, dHidden);
        Tensor dGate = scratch.zeros("dGate", rows, gate.cols());
        Tensor dUp = scratch.zeros("dUp", rows, up.cols());
        backend.swigluBackward(dHidden, gate, up, dGate, dUp);
        w1.backward(dGate, x, dx);
        w3.backward(dUp, x, dx);
    }
}
