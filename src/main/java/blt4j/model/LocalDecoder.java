package blt4j.model;

import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.RopeTables;
import blt4j.compute.Tensor;
import blt4j.nn.CrossAttention;
import blt4j.nn.Linear;
import blt4j.nn.ParameterStore;
import blt4j.nn.RmsNorm;
import blt4j.nn.TransformerBlock;

/**
 * Patch outputs back to bytes (BLT-REFERENCE §7): the global output is projected into k key/value slots per patch;
 * each layer first cross-attends from every byte to the slots of its decoder patch (doubled residual), then runs a
 * window-512 transformer layer; a final RMSNorm and the 260-way head give the logits.
 */
final class LocalDecoder {
    private final BltConfig config;
    private final Backend backend;
    private final Linear patchProjection;
    private final CrossAttention[] cross;
    private final TransformerBlock[] layers;
    private final RmsNorm norm;
    private final Linear output;
    private final RopeTables rope;

    private Tensor globalOut;
    private Tensor slots;
    private Tensor[] layerInputs;
    private Tensor[] crossOutputs;
    private Tensor finalHidden;
    private Tensor normed;

    LocalDecoder(BltConfig c, ParameterStore store, Backend backend) {
        this.config = c;
        this.backend = backend;
        int d = c.dimLocalDecoder;
        double std = 1.0 / Math.sqrt(d);
        patchProjection = new Linear(store, backend, "local_decoder.patch_embedding_projection", c.dimGlobal,
                d * c.crossAttnK, 1.0 / Math.sqrt(c.dimGlobal));
        layers = new TransformerBlock[c.nLayersLocalDecoder];
        cross = new CrossAttention[c.nLayersLocalDecoder];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = new TransformerBlock(store, backend, "local_decoder.layers." + i, d, c.nHeadsLocalDecoder,
                    c.hiddenLocalDecoder(), c.normEps, i);
            if (i == 0 || c.crossAttnAllLayersDecoder) {
                cross[i] = new CrossAttention(store, backend, "local_decoder.cross_attn_layers." + i, d, c.crossAttnNheads,
                        c.normEps, std / Math.sqrt(2.0 * (i + 1)));
            }
        }
        norm = new RmsNorm(store, backend, "local_decoder.norm", d, c.normEps);
        output = new Linear(store, backend, "local_decoder.output", d, c.vocabSize, std);
        rope = RopeTables.build(backend, c.ropeTheta, d / c.nHeadsLocalDecoder, c.maxEncoderSeqLength);
    }

    /** The decoder state before its final norm (for cross-checks). */
    Tensor preNorm() {
        return finalHidden;
    }

    Tensor forward(Tensor encoderHidden, Tensor global, Tensor positions, Ranges selfMask, Ranges slotMask) {
        int d = config.dimLocalDecoder;
        int k = config.crossAttnK;
        globalOut = global;
        slots = patchProjection.forward(global).reshape(global.rows() * k, d);
        layerInputs = new Tensor[layers.length];
        crossOutputs = new Tensor[layers.length];
        Tensor h = encoderHidden;
        for (int i = 0; i < layers.length; i++) {
            layerInputs[i] = h;
            if (cross[i] != null) {
                h = cross[i].forward(h, slots, slotMask);
            }
            crossOutputs[i] = h;
            h = layers[i].forward(h, positions, rope, selfMask);
        }
        finalHidden = h;
        normed = norm.forward(h);
        return output.forward(normed);
    }

    // ---- incremental (generation)

    blt4j.nn.KvCache[] newCaches(int capacity) {
        blt4j.nn.KvCache[] caches = new blt4j.nn.KvCache[layers.length];
        for (int i = 0; i < layers.length; i++) {
            caches[i] = new blt4j.nn.KvCache(backend, capacity, layers[i].width());
        }
        return caches;
    }

    /** The k key/value slots [k, d] one global output [1, d_global] gives the decoder (a copy the caller keeps). */
    Tensor slotsOf(Tensor globalRow) {
        Tensor projected = patchProjection.forward(globalRow);
        Tensor keep = backend.zeros(config.crossAttnK, config.dimLocalDecoder);
        backend.copy(projected.reshape(config.crossAttnK, config.dimLocalDecoder), keep);
        return keep;
    }

    /** Logits [1, 260] at {@code position} from its encoder state and its decoder patch's slots. */
    Tensor step(Tensor encoderState, Tensor patchSlots, int position, blt4j.nn.KvCache[] caches) {
        int k = config.crossAttnK;
        int[] lo = new int[1];
        Ranges all = Ranges.of(backend, lo, new int[] {k});
        Ranges self = blt4j.compute.AttentionMask.cachedWindow(backend, position, 1, config.window());
        Tensor pos = backend.fromHost(new int[] {position}, 1);
        Tensor h = encoderState;
        for (int i = 0; i < layers.length; i++) {
            if (cross[i] != null) {
                h = cross[i].forward(h, patchSlots, all);
            }
            h = layers[i].forwardCached(h, pos, rope, caches[i], self);
        }
        return output.forward(norm.forward(h));
    }

    /** dEncoderHidden += ∂L/∂(encoder states), dGlobal += ∂L/∂(global output). */
    void backward(Tensor dLogits, Tensor dEncoderHidden, Tensor dGlobal) {
        int d = config.dimLocalDecoder;
        int k = config.crossAttnK;
        int n = dLogits.rows();
        Tensor dNormed = backend.zeros(n, d);
        output.backward(dLogits, normed, dNormed);
        Tensor dh = backend.zeros(n, d);
        norm.backward(dNormed, finalHidden, dh);
        Tensor dSlots = backend.zeros(slots.rows(), d);
        for (int i = layers.length - 1; i >= 0; i--) {
            Tensor dMid = backend.zeros(n, d);
            layers[i].backward(dh, dMid);
            Tensor dIn = i == 0 ? dEncoderHidden : backend.zeros(n, d);
            if (cross[i] != null) {
                cross[i].backward(dMid, dIn, dSlots);
            } else {
                backend.axpy(1f, dMid, dIn);
            }
            dh = dIn;
        }
        patchProjection.backward(dSlots.reshape(globalOut.rows(), k * d), globalOut, dGlobal);
    }
}
