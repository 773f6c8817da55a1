package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.Tensor;

/**
 * Mean next-byte cross-entropy over the counted positions (weight ≠ 0 and target ≥ 0) and its gradient.
 * Only the per-row losses cross to the host; the gradient stays on the backend.
 */
public final class NextByteLoss {
    private final Backend backend;
    private Tensor logits;
    private Tensor targets;
    private Tensor weights;
    private int counted;

    public NextByteLoss(Backend backend) {
        this.backend = backend;
    }

    /** Mean loss in nats of logits [rows, vocab] against the target ids (weights may be null: all 1). */
    public double forward(Tensor logits, int[] targetIds, float[] rowWeights) {
        int rows = logits.rows();
        this.logits = logits;
        targets = backend.fromHost(targetIds, rows);
        weights = rowWeights == null ? null : backend.fromHost(rowWeights, rows);
        Tensor losses = backend.zeros(rows);
        backend.crossEntropy(logits, targets, weights, losses);
        double sum = 0;
        for (float v : losses.toHost()) {
            sum += v;
        }
        counted = 0;
        for (int i = 0; i < targetIds.length; i++) {
            if (targetIds[i] >= 0 && (rowWeights == null || rowWeights[i] != 0f)) {
                counted++;
            }
        }
        return sum / Math.max(1, counted);
    }

    /** ∂(mean loss)/∂logits of the last forward. */
    public Tensor backward() {
        Tensor d = backend.zeros(logits.rows(), logits.cols());
        backend.crossEntropyBackward(logits, targets, weights, 1f / Math.max(1, counted), d);
        return d;
    }

    /** Checks ids before they index embedding tables (a clear error instead of a bad read on a device). */
    public static void requireByteIds(int[] ids, int vocab) {
        for (int id : ids) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("token id " + id + " outside the " + vocab + "-entry byte vocabulary");
            }
        }
    }
}
