package blt4j.nn;

import static blt4j.nn.Buffers.f32;
import static blt4j.nn.Buffers.first;

import blt4j.compute.Backend;
import blt4j.compute.Tensor;

/** SwiGLU feed-forward: w2(silu(w1·x) ⊙ w3·x), parameter names as in the reference (w1 gate, w3 up, w2 down). Stateless. */
public final class FeedForward {
    private final Linear w1;
    private final Linear w3;
    private final Linear w2;
    private final Backend backend;
    private final int dim;
    private final int hiddenDim;

    /** What one forward keeps for its backward, for up to T rows; F = hidden width. */
    public static final class Acts {
        final Tensor gate;     // [T, F] w1·x
        final Tensor up;       // [T, F] w3·x
        final Tensor hidden;   // [T, F] silu(gate) ⊙ up
        final Tensor out;      // [T, d] w2·hidden
        final Tensor dHidden;  // [T, F] gradient scratch (null without training)
        final Tensor dGate;    // [T, F]
        final Tensor dUp;      // [T, F]

        Acts(Backend b, int capacity, int dim, int hiddenDim, boolean training) {
            gate = f32(b, capacity, hiddenDim);
            up = f32(b, capacity, hiddenDim);
            hidden = f32(b, capacity, hiddenDim);
            out = f32(b, capacity, dim);
            dHidden = training ? f32(b, capacity, hiddenDim) : null;
            dGate = training ? f32(b, capacity, hiddenDim) : null;
            dUp = training ? f32(b, capacity, hiddenDim) : null;
        }
    }

    public FeedForward(ParameterStore store, Backend backend, String name, int dim, int hiddenDim, double inStd, double outStd) {
        this.w1 = new Linear(store, backend, name + ".w1", dim, hiddenDim, inStd);
        this.w3 = new Linear(store, backend, name + ".w3", dim, hiddenDim, inStd);
        this.w2 = new Linear(store, backend, name + ".w2", hiddenDim, dim, outStd);
        this.backend = backend;
        this.dim = dim;
        this.hiddenDim = hiddenDim;
    }

    /** The reference FFN width: int(2·4d/3), times the multiplier, rounded up to a multiple (BLT-REFERENCE §6.2). */
    /** Width of the hidden layer. */
    public int hiddenDim() {
        return hiddenDim;
    }

    public static int hiddenDim(int dim, int multipleOf, double ffnDimMultiplier) {
        int h = (int) (2 * (4 * dim) / 3.0);
        h = (int) (ffnDimMultiplier * h);
        return multipleOf * ((h + multipleOf - 1) / multipleOf);
    }

    public Acts newActs(int capacity, boolean training) {
        return new Acts(backend, capacity, dim, hiddenDim, training);
    }

    /** Returns a.out [T, d]. */
    public Tensor forward(Tensor x, Acts a) {
        int rows = x.rows();
        Tensor gate = first(a.gate, rows);
        Tensor up = first(a.up, rows);
        Tensor hidden = first(a.hidden, rows);
        // one op for both projections and their product: the cpu backend forms it in registers (gate and up are
        // kept only when a backward will read them)
        backend.swigluMatmul(x, w1.weight().value(), w3.weight().value(), gate, up, hidden, a.dHidden != null);
        Tensor out = first(a.out, rows);
        w2.forward(hidden, out);
        return out;
    }

    /** dx = ∂L/∂x (overwritten, not added to) for the forward that filled {@code a} from x. */
    public void backward(Tensor dy, Tensor x, Tensor dx, Acts a) {
        int rows = x.rows();
        Tensor dHidden = first(a.dHidden, rows);
        w2.backward(dy, first(a.hidden, rows), dHidden, false);
        Tensor dGate = first(a.dGate, rows);   // overwritten by swigluBackward
        Tensor dUp = first(a.dUp, rows);
        backend.swigluBackward(dHidden, first(a.gate, rows), first(a.up, rows), dGate, dUp);
        w1.backward(dGate, x, dx, false);
        w3.backward(dUp, x, dx);
    }
}
