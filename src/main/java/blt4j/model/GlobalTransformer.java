package blt4j.model;

import static blt4j.nn.Buffers.f32;
import static blt4j.nn.Buffers.first;
import static blt4j.nn.Buffers.i32;
import static blt4j.nn.Buffers.zeroed;

import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.RopeTables;
import blt4j.compute.Tensor;
import blt4j.nn.KvCache;
import blt4j.nn.Linear;
import blt4j.nn.ParameterStore;
import blt4j.nn.RangeBuffer;
import blt4j.nn.TransformerStack;

/**
 * The latent transformer over patches (BLT-REFERENCE §6): optional input projection when k·d_local ≠ d_global,
 * block-causal attention over patch positions with RoPE, and no final norm. Stateless: activations live in
 * {@link Acts} (a batch) and {@link Step} (a generation).
 */
final class GlobalTransformer {
    private final BltConfig.Global config;
    private final Backend backend;
    private final Linear inputProjection;
    private final TransformerStack layers;
    private final RopeTables rope;

    /** Activations of one batch of up to P patches. */
    final class Acts {
        final Tensor projected;               // [P, d_global] token_embedding_projection(patches) (null without it)
        final TransformerStack.Acts layers;
        final Tensor dProjected;              // [P, d_global] gradient scratch (null without training or projection)
        Tensor input;                         // [P, k·d_local] of the last forward (view)

        Acts(int patchCapacity, boolean training) {
            projected = inputProjection == null ? null : f32(backend, patchCapacity, config.dim());
            layers = GlobalTransformer.this.layers.newActs(patchCapacity, training);
            dProjected = training && inputProjection != null ? f32(backend, patchCapacity, config.dim()) : null;
        }
    }

    /** Incremental state: one patch per step, a KV cache of up to {@code capacity} patches. */
    final class Step {
        final KvCache[] caches;
        final Tensor projected;               // [1, d_global] (null without projection)
        final Tensor position;                // [1] I32
        final RangeBuffer mask;               // [1]
        final TransformerStack.Acts layers;   // 1 row
        int patches;

        Step(int capacity) {
            caches = GlobalTransformer.this.layers.newCaches(Math.min(capacity, maxPatches()));
            projected = inputProjection == null ? null : f32(backend, 1, config.dim());
            position = i32(backend, 1);
            mask = new RangeBuffer(backend, 1);
            this.layers = GlobalTransformer.this.layers.newActs(1, false);
        }
    }

    GlobalTransformer(BltConfig.Global c, ParameterStore store, Backend backend) {
        this.config = c;
        this.backend = backend;
        int in = c.inputDim();
        inputProjection = c.inputProjection()
                ? new Linear(store, backend, "global_transformer.token_embedding_projection", in, c.dim(), 1.0 / Math.sqrt(in))
                : null;
        layers = new TransformerStack(store, backend, "global_transformer.", c.nLayers(), c.dim(), c.nHeads(), c.hiddenDim(),
                c.normEps());
        rope = RopeTables.build(backend, c.ropeTheta(), c.dim() / c.nHeads(), c.maxPatches());
    }

    Acts newActs(int patchCapacity, boolean training) {
        return new Acts(patchCapacity, training);
    }

    Step newStep(int capacity) {
        return new Step(capacity);
    }

    Tensor forward(Tensor patches, Tensor positions, Ranges mask, Acts a) {
        a.input = patches;
        Tensor x = patches;
        if (inputProjection != null) {
            x = first(a.projected, patches.rows());
            inputProjection.forward(patches, x);
        }
        return layers.forward(x, positions, rope, mask, a.layers);
    }

    /** dPatches += ∂L/∂patches given dOut. */
    void backward(Tensor dOut, Tensor dPatches, Acts a) {
        if (inputProjection == null) {
            layers.backward(dOut, dPatches, a.layers);
            return;
        }
        Tensor dx = zeroed(backend, a.dProjected, dOut.rows());
        layers.backward(dOut, dx, a.layers);
        inputProjection.backward(dx, a.input, dPatches);
    }

    /** One global step for the next patch (single document: plain causal); returns its output [1, d_global]. */
    Tensor step(Tensor patch, Step s) {
        int index = s.patches;
        if (index >= maxPatches()) {
            throw new IllegalStateException("generation reached " + maxPatches() + " patches, the global model's max_seqlen");
        }
        Tensor x = patch;
        if (inputProjection != null) {
            x = s.projected;
            inputProjection.forward(patch, x);
        }
        s.mask.lo[0] = 0;
        s.mask.hi[0] = index + 1;
        backend.upload(new int[] {index}, s.position);
        Tensor out = layers.forwardCached(x, s.position, rope, s.caches, s.mask.ranges(1), s.layers);
        s.patches++;
        return out;
    }

    int maxPatches() {
        return rope.maxPositions();
    }
}
