package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.RopeTables;
import blt4j.compute.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Layers {@code <prefix>.layers.{i}} run in order; remembers each layer's input for the backward pass. */
public final class TransformerStack {
    private final List<TransformerBlock> blocks = new ArrayList<>();
    private final Backend backend;
    private final Scratch scratch;

    public TransformerStack(ParameterStore store, Backend backend, String prefix, int nLayers, int dim, int nHeads,
                            int hiddenDim, float normEps) {
        for (int i = 0; i < nLayers; i++) {
            blocks.add(new TransformerBlock(store, backend, prefix + "layers." + i, dim, nHeads, hiddenDim, normEps, i));
        }
        this.backend = backend;
        this.scratch = new Scratch(backend);
    }

    public int size() {
        return blocks.size();
    }

    public TransformerBlock block(int i) {
        return blocks.get(i);
    }

    public Tensor forward(Tensor x, Tensor positions, RopeTables rope, Ranges mask) {
        Tensor h = x;
        for (TransformerBlock b : blocks) {
            h = b.forward(h, positions, rope, mask);
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

    public Tensor forwardCached(Tensor x, Tensor positions, RopeTables rope, KvCache[] caches, Ranges mask) {
        Tensor h = x;
        for (int i = 0; i < blocks.size(); i++) {
            h = blocks.get(i).forwardCached(h, positions, rope, caches[i], mask);
        }
        return h;
    }

    /** dx += ∂L/∂x given dy = ∂L/∂(stack output). */
    public void backward(Tensor dy, Tensor dx) {
        Tensor grad = dy;
        for (int i = blocks.size() - 1; i >= 0; i--) {
            Tensor dIn = i == 0 ? dx : scratch.zeros("d" + (i % 2), dy.rows(), dy.cols());
            blocks.get(i).backward(grad, dIn);
            grad = dIn;
        }
    }
}
