package blt4j.nn;

import static blt4j.nn.Buffers.f32;
import static blt4j.nn.Buffers.zeroed;

import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.RopeTables;
import blt4j.compute.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Layers {@code <prefix>.layers.{i}} run in order. Stateless: activations live in {@link Acts}. */
public final class TransformerStack {
    private final List<TransformerBlock> blocks = new ArrayList<>();
    private final Backend backend;
    private final int dim;

    /** One {@link TransformerBlock.Acts} per layer, plus two gradient buffers [T, d] passed between layers. */
    public static final class Acts {
        final TransformerBlock.Acts[] layers;
        final Tensor[] dBetween; // 2 × [T, d] (null without training or with one layer)

        Acts(TransformerStack s, int capacity, boolean training) {
            layers = TransformerBlock.stackActs(s.blocks.toArray(new TransformerBlock[0]), capacity, training);
            dBetween = training && layers.length > 1
                    ? new Tensor[] {f32(s.backend, capacity, s.dim), f32(s.backend, capacity, s.dim)}
                    : null;
        }
    }

    public TransformerStack(ParameterStore store, Backend backend, String prefix, int nLayers, int dim, int nHeads,
                            int hiddenDim, float normEps) {
        for (int i = 0; i < nLayers; i++) {
            blocks.add(new TransformerBlock(store, backend, prefix + "layers." + i, dim, nHeads, hiddenDim, normEps, i));
        }
        this.backend = backend;
        this.dim = dim;
    }

    public int size() {
        return blocks.size();
    }

    public TransformerBlock block(int i) {
        return blocks.get(i);
    }

    public Acts newActs(int capacity, boolean training) {
        return new Acts(this, capacity, training);
    }

    /** Output of the last layer (a view into the last layer's acts); x itself for an empty stack. */
    public Tensor forward(Tensor x, Tensor positions, RopeTables rope, Ranges mask, Acts a) {
        Tensor h = x;
        for (int i = 0; i < blocks.size(); i++) {
            h = blocks.get(i).forward(h, positions, rope, mask, a.layers[i]);
        }
        return h;
    }

    /** One KV cache per layer for incremental decoding of up to {@code capacity} positions. */
    public KvCache[] newCaches(int capacity) {
        KvCache[] caches = new KvCache[blocks.size()];
        for (int i = 0; i < caches.length; i++) {
            caches[i] = new KvCache(backend, capacity, blocks.get(i).width());
        }
        return caches;
    }

    public Tensor forwardCached(Tensor x, Tensor positions, RopeTables rope, KvCache[] caches, Ranges mask, Acts a) {
        Tensor h = x;
        for (int i = 0; i < blocks.size(); i++) {
            h = blocks.get(i).forwardCached(h, positions, rope, caches[i], mask, a.layers[i]);
        }
        return h;
    }

    /** Rows of different sequences: row r uses the layer caches {@code caches[r]} and its one-row mask {@code masks[r]}. */
    public Tensor forwardCachedRows(Tensor x, Tensor positions, RopeTables rope, KvCache[][] caches, Ranges[] masks, Acts a) {
        Tensor h = x;
        KvCache[] layerCaches = new KvCache[x.rows()];
        for (int i = 0; i < blocks.size(); i++) {
            for (int r = 0; r < layerCaches.length; r++) {
                layerCaches[r] = caches[r][i];
            }
            h = blocks.get(i).forwardCachedRows(h, positions, rope, layerCaches, masks, a.layers[i]);
        }
        return h;
    }

    /** dx += ∂L/∂x given dy = ∂L/∂(stack output). */
    public void backward(Tensor dy, Tensor dx, Acts a) {
        if (blocks.isEmpty()) {
            backend.axpy(1f, dy, dx);
            return;
        }
        Tensor grad = dy;
        for (int i = blocks.size() - 1; i >= 0; i--) {
            Tensor dIn = i == 0 ? dx : zeroed(backend, a.dBetween[i % 2], dy.rows());
            blocks.get(i).backward(grad, dIn, a.layers[i]);
            grad = dIn;
        }
    }
}
