package blt4j.model;

import static blt4j.nn.Buffers.f32;
import static blt4j.nn.Buffers.first;
import static blt4j.nn.Buffers.zeroed;

import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.RopeTables;
import blt4j.compute.Tensor;
import blt4j.nn.CachedPositions;
import blt4j.nn.KvCache;
import blt4j.nn.Linear;
import blt4j.nn.ParameterStore;
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

    /** Incremental state: up to {@code block} patches per step (B), a KV cache that grows with every patch. */
    final class Step {
        final KvCache[] caches;
        final int block;
        final Tensor projected;               // [B, d_global] (null without projection)
        final CachedPositions at;             // positions, causal mask and RoPE rows of a block
        final TransformerStack.Acts layers;   // B rows
        int patches;

        Step(int capacity, int block) {
            this.block = block;
            caches = GlobalTransformer.this.layers.newCaches(Math.min(capacity, maxPatches()));
            projected = inputProjection == null ? null : f32(backend, block, config.dim());
            at = new CachedPositions(backend, rope, block, 0, 0, 0);
            this.layers = GlobalTransformer.this.layers.newActs(block, false);
        }

        /** Forgets the patches from {@code newPatches} on. */
        void truncate(int newPatches) {
            KvCache.truncate(caches, newPatches);
            patches = newPatches;
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

    Step newStep(int capacity, int block) {
        return new Step(capacity, block);
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

    /**
     * Global steps for the next m patches [m, k·d_local] in one block (single document: each sees every earlier
     * patch); returns their outputs [m, d_global].
     */
    Tensor steps(Tensor patches, Step s) {
        int m = patches.rows();
        int first = s.patches;
        Tensor x = patches;
        if (inputProjection != null) {
            x = first(s.projected, m);
            inputProjection.forward(patches, x);
        }
        s.at.prepare(first, m, s.caches);
        Tensor out = layers.forwardCached(x, s.at.positions(), s.at.rope(), s.caches, s.at.mask(), s.layers);
        s.patches += m;
        return out;
    }

    /** Buffers of a batched step: the next patch of each of up to B sequences. */
    final class BatchStep {
        final Tensor projected;               // [B, d_global] (null without projection)
        final CachedPositions at;             // RoPE positions of the rows
        final int[] ropePositions;            // [B]
        final TransformerStack.Acts layers;   // B rows

        BatchStep(int rows) {
            projected = inputProjection == null ? null : f32(backend, rows, config.dim());
            at = new CachedPositions(backend, rope, rows, 0, 0, 0);
            ropePositions = new int[rows];
            layers = GlobalTransformer.this.layers.newActs(rows, false);
        }
    }

    BatchStep newBatchStep(int rows) {
        return new BatchStep(rows);
    }

    /**
     * One global step for each of m sequences in one batched block: row i of {@code patches} [m, k·d_local] is the
     * next patch of steps[i]; returns the outputs [m, d_global] (each row equal to {@link #steps} of it alone).
     */
    Tensor stepRows(Tensor patches, Step[] steps, BatchStep b) {
        int m = patches.rows();
        Tensor x = patches;
        if (inputProjection != null) {
            x = first(b.projected, m);
            inputProjection.forward(patches, x);
        }
        KvCache[][] caches = new KvCache[m][];
        Ranges[] masks = new Ranges[m];
        for (int i = 0; i < m; i++) {
            Step s = steps[i];
            masks[i] = s.at.prepareMask(s.patches, 1, s.caches);
            caches[i] = s.caches;
            b.ropePositions[i] = s.patches;
            s.patches++;
        }
        b.at.setRopePositions(b.ropePositions, m);
        return layers.forwardCachedRows(x, b.at.positions(), b.at.rope(), caches, masks, b.layers);
    }

    int maxPatches() {
        return rope.maxPositions();
    }
}
