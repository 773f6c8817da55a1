package blt4j.model;

import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.RopeTables;
import blt4j.compute.Tensor;
import blt4j.nn.Linear;
import blt4j.nn.ParameterStore;
import blt4j.nn.TransformerStack;

/**
 * The latent transformer over patches (BLT-REFERENCE §6): optional input projection when k·d_local ≠ d_global,
 * block-causal attention over patch positions with RoPE, and no final norm.
 */
final class GlobalTransformer {
    private final BltConfig config;
    private final Backend backend;
    private final Linear inputProjection;
    private final TransformerStack layers;
    private final RopeTables rope;
    private Tensor input;

    GlobalTransformer(BltConfig c, ParameterStore store, Backend backend) {
        this.config = c;
        this.backend = backend;
        int in = c.crossAttnK * c.dimLocalEncoder;
        inputProjection = c.globalInputProjection()
                ? new Linear(store, backend, "global_transformer.token_embedding_projection", in, c.dimGlobal, 1.0 / Math.sqrt(in))
                : null;
        layers = new TransformerStack(store, backend, "global_transformer.", c.nLayersGlobal, c.dimGlobal, c.nHeadsGlobal,
                c.hiddenGlobal(), c.normEps);
        rope = RopeTables.build(backend, c.ropeTheta, c.dimGlobal / c.nHeadsGlobal, c.maxSeqlen);
    }

    Tensor forward(Tensor patches, Tensor positions, Ranges mask) {
        input = patches;
        Tensor x = inputProjection == null ? patches : inputProjection.forward(patches);
        return layers.forward(x, positions, rope, mask);
    }

    /** dPatches += ∂L/∂patches given dOut. */
    void backward(Tensor dOut, Tensor dPatches) {
        if (inputProjection == null) {
            layers.backward(dOut, dPatches);
            return;
        }
        Tensor dx = backend.zeros(dOut.rows(), config.dimGlobal);
        layers.backward(dOut, dx);
        inputProjection.backward(dx, input, dPatches);
    }

    blt4j.nn.KvCache[] newCaches(int capacity) {
        return layers.newCaches(Math.min(capacity, maxPatches()));
    }

    /** One global step for patch number {@code index} (single document: plain causal). */
    Tensor step(Tensor patch, int index, blt4j.nn.KvCache[] caches) {
        if (index >= maxPatches()) {
            throw new IllegalStateException("generation reached " + maxPatches() + " patches, the global model's max_seqlen");
        }
        Tensor x = inputProjection == null ? patch : inputProjection.forward(patch);
        Ranges mask = Ranges.of(backend, new int[] {0}, new int[] {index + 1});
        return layers.forwardCached(x, backend.fromHost(new int[] {index}, 1), rope, caches, mask);
    }

    int maxPatches() {
        return rope.maxPositions();
    }
}
