package blt4j.nn;

import blt4j.compute.Tensor;

/** A named weight: a view into the store's one parameter buffer, with its gradient view beside it. */
public final class Parameter {
    private final String name;
    private final int[] shape;
    private long offset;
    private final boolean matrix;
    private boolean lowPrecision;
    private int segment;
    private Tensor attached;
    private final Init init;
    ParameterStore store;

    Parameter(String name, int[] shape, long offset, Init init, boolean matrix) {
        this.name = name;
        this.matrix = matrix;
        this.shape = shape.clone();
        this.offset = offset;
        this.init = init;
    }

    public String name() {
        return name;
    }

    public int[] shape() {
        return shape.clone();
    }

    /** Element offset inside the parameter buffer (which an allocated store keeps below 2^31). */
    public int offset() {
        return Math.toIntExact(offset);
    }

    public int size() {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    public Init init() {
        return init;
    }

    /** True for a Linear weight (the right operand of X·Wᵀ), which an inference store may keep in bfloat16. */
    public boolean matrix() {
        return matrix;
    }

    /** True when this weight lives in the store's bfloat16 buffer. */
    public boolean lowPrecision() {
        return lowPrecision;
    }

    /** Placed by the store's allocation: an element offset into the fp32 buffer, or into one bf16 segment. */
    void place(long offset, boolean lowPrecision, int segment) {
        this.offset = offset;
        this.lowPrecision = lowPrecision;
        this.segment = segment;
    }

    /** Gives this weight a tensor of its own (a bf16 matrix read where it lies in a mapped file). */
    void attach(Tensor t) {
        if (!lowPrecision || !java.util.Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException("cannot attach " + t + " to " + name);
        }
        this.attached = t;
    }

    public Tensor value() {
        if (attached != null) {
            return attached;
        }
        return (lowPrecision ? store.lowPrecisionSegment(segment) : store.params()).view(offset(), shape);
    }

    public Tensor grad() {
        return store.grads().view(offset(), shape);
    }

    /** How a parameter starts: truncated normal (cut at ±3σ) with the given σ, or a constant. */
    public record Init(double std, float constant) {
        public static Init normal(double std) {
            return new Init(std, 0f);
        }

        public static Init constant(float value) {
            return new Init(0, value);
        }
    }
}
