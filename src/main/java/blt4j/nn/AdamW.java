package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.Tensor;

/**
 * AdamW over the whole parameter buffer in one op (decoupled weight decay on every parameter, as the reference
 * optimizer does). Moments live on the same backend as the parameters.
 */
public final class AdamW {
    private final ParameterStore store;
    private final Tensor m;
    private final Tensor v;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private int step;

    public AdamW(ParameterStore store, float beta1, float beta2, float eps, float weightDecay) {
        this.store = store;
        Backend b = store.backend();
        this.m = b.zeros(store.size());
        this.v = b.zeros(store.size());
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** The reference defaults: β 0.9/0.95, ε 1e-8. */
    public static AdamW standard(ParameterStore store, float weightDecay) {
        return new AdamW(store, 0.9f, 0.95f, 1e-8f, weightDecay);
    }

    public void step(float lr) {
        step++;
        store.backend().adamw(store.params(), store.grads(), m, v, lr, beta1, beta2, eps, weightDecay, step);
    }

    public int stepCount() {
        return step;
    }

    /** For resuming: restores the step count (moments are restored through {@link #moments()}). */
    public void setStepCount(int step) {
        this.step = step;
    }

    /** {m, v} tensors, for checkpointing. */
    public Tensor[] moments() {
        return new Tensor[] {m, v};
    }
}
