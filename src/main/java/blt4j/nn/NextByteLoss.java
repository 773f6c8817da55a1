package blt4j.nn;

import static blt4j.nn.Buffers.f32;
import static blt4j.nn.Buffers.first;
import static blt4j.nn.Buffers.i32;
import static blt4j.nn.Buffers.zeroed;

import blt4j.compute.Backend;
import blt4j.compute.Tensor;

/**
 * Mean next-byte cross-entropy over the counted positions (weight ≠ 0 and target ≥ 0) and its gradient.
 * Only the per-row losses cross to the host; the gradient stays on the backend. Stateless.
 */
public final class NextByteLoss {
    private final Backend backend;
    private final int vocab;

    /** Inputs and outputs of one loss, for up to T rows. */
    public static final class Acts {
        final Tensor targets;   // [T] I32
        final Tensor weights;   // [T]
        final Tensor losses;    // [T]
        final Tensor dLogits;   // [T, V] (null without training)
        final float[] hostLosses;
        Tensor logits;          // [T, V] of the last forward
        boolean weighted;
        int rows;
        int counted;

        Acts(Backend b, int capacity, int vocab, boolean training) {
            targets = i32(b, capacity);
            weights = f32(b, capacity, 1).reshape(capacity);
            losses = f32(b, capacity, 1).reshape(capacity);
            dLogits = training ? f32(b, capacity, vocab) : null;
            hostLosses = new float[capacity];
        }
    }

    public NextByteLoss(Backend backend, int vocab) {
        this.backend = backend;
        this.vocab = vocab;
    }

    public Acts newActs(int capacity, boolean training) {
        return new Acts(backend, capacity, vocab, training);
    }

    /** Mean loss in nats of logits [rows, vocab] against the target ids (weights may be null: all 1). */
    public double forward(Tensor logits, int[] targetIds, float[] rowWeights, Acts a) {
        int rows = logits.rows();
        if (targetIds.length != rows || (rowWeights != null && rowWeights.length != rows)) {
            throw new IllegalArgumentException("loss: " + rows + " logit rows but " + targetIds.length + " targets"
                    + (rowWeights == null ? "" : " and " + rowWeights.length + " weights"));
        }
        a.logits = logits;
        a.rows = rows;
        a.weighted = rowWeights != null;
        Tensor targets = first(a.targets, rows);
        backend.upload(targetIds, targets);
        Tensor weights = a.weighted ? first(a.weights, rows) : null;
        if (weights != null) {
            backend.upload(rowWeights, 0, weights);
        }
        Tensor losses = first(a.losses, rows);
        backend.crossEntropy(logits, targets, weights, losses);
        backend.download(losses, a.hostLosses, 0);
        double sum = 0;
        for (int i = 0; i < rows; i++) {
            sum += a.hostLosses[i];
        }
        int counted = 0;
        for (int i = 0; i < rows; i++) {
            if (targetIds[i] >= 0 && (rowWeights == null || rowWeights[i] != 0f)) {
                counted++;
            }
        }
        a.counted = counted;
        return sum / Math.max(1, counted);
    }

    /** ∂(mean loss)/∂logits of the forward that filled {@code a} (a view of a.dLogits). */
    public Tensor backward(Acts a) {
        Tensor d = zeroed(backend, a.dLogits, a.rows);
        backend.crossEntropyBackward(a.logits, first(a.targets, a.rows), a.weighted ? first(a.weights, a.rows) : null,
                1f / Math.max(1, a.counted), d);
        return d;
    }
}
