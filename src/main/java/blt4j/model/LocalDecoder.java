package blt4j.model;

import static blt4j.nn.Buffers.f32;
import static blt4j.nn.Buffers.first;
import static blt4j.nn.Buffers.zeroed;

import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.RopeTables;
import blt4j.compute.Tensor;
import blt4j.nn.CachedPositions;
import blt4j.nn.CrossAttention;
import blt4j.nn.KvCache;
import blt4j.nn.Linear;
import blt4j.nn.ParameterStore;
import blt4j.nn.RangeBuffer;
import blt4j.nn.RmsNorm;
import blt4j.nn.TransformerBlock;

/**
 * Patch outputs back to bytes (BLT-REFERENCE §7): the global output is projected into k key/value slots per patch;
 * each layer first cross-attends from every byte to the slots of its decoder patch (doubled residual), then runs a
 * window-512 transformer layer; a final RMSNorm and the 260-way head give the logits. Stateless: activations live
 * in {@link Acts} (a batch) and {@link Step} (a generation).
 */
final class LocalDecoder {
    private final BltConfig.Decoder config;
    private final Backend backend;
    private final Linear patchProjection;
    private final CrossAttention[] cross;
    private final TransformerBlock[] layers;
    private final RmsNorm norm;
    private final Linear output;
    private final RopeTables rope;

    /** Activations of one batch: T bytes, up to P patches. */
    final class Acts {
        final Tensor slots;                   // [P, k·d] patch_embedding_projection(global output)
        final CrossAttention.Acts[] cross;    // per layer with cross-attention: queries T, keys P·k
        final TransformerBlock.Acts[] layers; // per layer, T rows
        final Tensor rstd;                    // [T]
        final Tensor normed;                  // [T, d]
        final Tensor logits;                  // [T, V]
        final Tensor dNormed;                 // [T, d] gradient scratch (null without training)
        final Tensor[] dh;                    // 2 × [T, d] gradient entering a layer, alternating
        final Tensor dMid;                    // [T, d] gradient between cross-attention and block
        final Tensor dSlots;                  // [P·k, d]
        Tensor global;                        // [P, d_global] of the last forward (view)
        Tensor preNorm;                       // [T, d] (view)
        int bytes;

        Acts(int bytes, int patchCapacity, boolean training) {
            int d = config.dim();
            int k = config.crossAttnK();
            slots = f32(backend, patchCapacity, k * d);
            cross = new CrossAttention.Acts[layers().length];
            for (int i = 0; i < layers().length; i++) {
                if (LocalDecoder.this.cross[i] != null) {
                    cross[i] = LocalDecoder.this.cross[i].newActs(bytes, patchCapacity * k, training);
                }
            }
            this.layers = TransformerBlock.stackActs(layers(), bytes, training);
            rstd = f32(backend, bytes, 1);
            normed = f32(backend, bytes, d);
            logits = f32(backend, bytes, config.vocabSize());
            dNormed = training ? f32(backend, bytes, d) : null;
            dh = training ? new Tensor[] {f32(backend, bytes, d), f32(backend, bytes, d)} : null;
            dMid = training ? f32(backend, bytes, d) : null;
            dSlots = training ? f32(backend, patchCapacity * k, d) : null;
        }
    }

    /**
     * Incremental state: up to {@code block} bytes per step (B; the prompt at prefill, then one byte), KV caches of up
     * to {@code capacity} bytes. The slots of the patches the bytes read are kept in {@code slots}.
     */
    final class Step {
        final KvCache[] caches;
        final int block;
        final Tensor projected;               // [B, k·d] projection of the latest global outputs
        final Tensor slots;                   // [B·k, d] their slots; the last patch's k rows serve single steps
        final CrossAttention.Acts[] cross;    // per layer: B queries, B·k keys
        final TransformerBlock.Acts[] layers; // B rows
        final CachedPositions at;             // positions, window mask and RoPE rows of a block
        final RangeBuffer slotMask;           // [B]: the k slots each byte reads
        final Tensor rstd;                    // [B]
        final Tensor normed;                  // [B, d] final norm (of the last byte only, unless all logits are asked)
        final Tensor logits;                  // [B, V]
        int slotPatches;                      // patches whose slots are in {@code slots}
        boolean hasSlots;
        final int[] singlePatch = new int[1];

        Step(int capacity, int block, int slack) {
            int d = config.dim();
            int k = config.crossAttnK();
            this.block = block;
            int cacheRows = CachedPositions.cacheCapacity(capacity, config.window(), block, slack);
            caches = new KvCache[layers().length];
            cross = new CrossAttention.Acts[layers().length];
            for (int i = 0; i < caches.length; i++) {
                caches[i] = new KvCache(backend, cacheRows, layers()[i].width());
                if (LocalDecoder.this.cross[i] != null) {
                    cross[i] = LocalDecoder.this.cross[i].newActs(block, block * k, false);
                }
            }
            this.layers = TransformerBlock.stackActs(layers(), block, false);
            projected = f32(backend, block, k * d);
            slots = f32(backend, block * k, d);
            at = new CachedPositions(backend, rope, block, config.window(), 0, slack);
            slotMask = new RangeBuffer(backend, block);
            rstd = f32(backend, block, 1);
            normed = f32(backend, block, d);
            logits = f32(backend, block, config.vocabSize());
        }

        /** Forgets the bytes from {@code length} on. */
        void truncate(int length) {
            KvCache.truncate(caches, length);
        }
    }

    LocalDecoder(BltConfig.Decoder c, ParameterStore store, Backend backend) {
        this.config = c;
        this.backend = backend;
        int d = c.dim();
        double std = 1.0 / Math.sqrt(d);
        patchProjection = new Linear(store, backend, "local_decoder.patch_embedding_projection", c.globalDim(),
                d * c.crossAttnK(), 1.0 / Math.sqrt(c.globalDim()));
        layers = new TransformerBlock[c.nLayers()];
        cross = new CrossAttention[c.nLayers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = new TransformerBlock(store, backend, "local_decoder.layers." + i, d, c.nHeads(), c.hiddenDim(),
                    c.normEps(), i);
            if (i == 0 || c.crossAttnAllLayers()) {
                cross[i] = new CrossAttention(store, backend, "local_decoder.cross_attn_layers." + i, d, c.crossAttnNheads(),
                        c.normEps(), std / Math.sqrt(2.0 * (i + 1)));
            }
        }
        norm = new RmsNorm(store, backend, "local_decoder.norm", d, c.normEps());
        output = new Linear(store, backend, "local_decoder.output", d, c.vocabSize(), std);
        rope = RopeTables.build(backend, c.ropeTheta(), d / c.nHeads(), c.maxSeqLength());
    }

    private TransformerBlock[] layers() {
        return layers;
    }

    Acts newActs(int bytes, int patchCapacity, boolean training) {
        return new Acts(bytes, patchCapacity, training);
    }

    Step newStep(int capacity, int block, int slack) {
        return new Step(capacity, block, slack);
    }

    /** Logits [T, V] (a view of a.logits). */
    Tensor forward(Tensor encoderHidden, Tensor global, Tensor positions, Ranges selfMask, Ranges slotMask, Acts a) {
        int d = config.dim();
        int k = config.crossAttnK();
        int n = encoderHidden.rows();
        int p = global.rows();
        a.global = global;
        a.bytes = n;
        Tensor slots = first(a.slots, p);
        patchProjection.forward(global, slots);
        Tensor kv = slots.reshape(p * k, d);
        Tensor h = encoderHidden;
        for (int i = 0; i < layers.length; i++) {
            if (cross[i] != null) {
                h = cross[i].forward(h, kv, slotMask, a.cross[i]);
            }
            h = layers[i].forward(h, positions, rope, selfMask, a.layers[i]);
        }
        a.preNorm = h;
        Tensor normed = first(a.normed, n);
        norm.forward(h, normed, first(a.rstd, n));
        Tensor logits = first(a.logits, n);
        output.forward(normed, logits);
        return logits;
    }

    /** dEncoderHidden += ∂L/∂(encoder states), dGlobal += ∂L/∂(global output). */
    void backward(Tensor dLogits, Tensor dEncoderHidden, Tensor dGlobal, Acts a) {
        int d = config.dim();
        int k = config.crossAttnK();
        int n = a.bytes;
        int p = a.global.rows();
        Tensor dNormed = zeroed(backend, a.dNormed, n);
        output.backward(dLogits, first(a.normed, n), dNormed);
        Tensor dh = zeroed(backend, a.dh[0], n);
        norm.backward(dNormed, a.preNorm, first(a.rstd, n), dh);
        Tensor dSlots = zeroed(backend, a.dSlots, p * k);
        for (int i = layers.length - 1; i >= 0; i--) {
            Tensor dMid = zeroed(backend, a.dMid, n);
            layers[i].backward(dh, dMid, a.layers[i]);
            Tensor dIn = i == 0 ? dEncoderHidden : zeroed(backend, dh.sameStorage(a.dh[0]) ? a.dh[1] : a.dh[0], n);
            if (cross[i] != null) {
                cross[i].backward(dMid, dIn, dSlots, a.cross[i]);
            } else {
                backend.axpy(1f, dMid, dIn);
            }
            dh = dIn;
        }
        patchProjection.backward(dSlots.reshape(p, k * d), a.global, dGlobal);
    }

    // ---- incremental (generation)

    /**
     * Takes the slots of m new global outputs [m, d_global] (patches completed since the last call): they become the
     * patches bytes read, the last one for every following single step.
     */
    void setPatches(Tensor globalRows, Step s) {
        s.slotPatches = 0;
        appendPatches(globalRows, s);
    }

    /**
     * Adds the slots of m more global outputs after the ones kept (speculative verification: byte i may read the
     * patch that was current before, index 0, or one of the new ones, 1..m).
     */
    void appendPatches(Tensor globalRows, Step s) {
        int m = globalRows.rows();
        int k = config.crossAttnK();
        int d = config.dim();
        if ((s.slotPatches + m) * k > s.slots.rows()) {
            throw new IllegalStateException("decoder step holds " + s.slots.rows() / k + " patches; " + (s.slotPatches + m)
                    + " needed (a larger block)");
        }
        if (m == 0) {
            return;
        }
        Tensor projected = first(s.projected, m);
        patchProjection.forward(globalRows, projected);
        backend.copy(projected.reshape(m * k, d), s.slots.rowSlice(s.slotPatches * k, (s.slotPatches + m) * k));
        s.slotPatches += m;
        s.hasSlots = true;
    }

    /** Keeps only the slots of patch {@code index} of the buffer, as the current patch of the next single steps. */
    void keepOnly(int index, Step s) {
        int k = config.crossAttnK();
        if (index != 0) {
            backend.copy(s.slots.rowSlice(index * k, index * k + k), s.slots.rowSlice(0, k));
        }
        s.slotPatches = 1;
    }

    /**
     * Runs bytes [from, from + n) whose encoder states are {@code encoderStates} [n, d] through the cached decoder;
     * byte i reads the slots of patch {@code patchOf[i]} of the last {@link #setPatches} (for a single step: the last
     * one). Returns the logits [1, V] of the last byte, or [n, V] of every byte when {@code allLogits}.
     */
    Tensor stepBlock(Tensor encoderStates, int from, int[] patchOf, Step s, boolean allLogits) {
        int n = encoderStates.rows();
        int k = config.crossAttnK();
        for (int i = 0; i < n; i++) {
            s.slotMask.lo[i] = patchOf[i] * k;
            s.slotMask.hi[i] = patchOf[i] * k + k;
        }
        Ranges slotRanges = s.slotMask.ranges(n);
        s.at.prepare(from, n, s.caches);
        Ranges self = s.at.mask();
        Tensor positions = s.at.positions();
        Tensor kv = first(s.slots, s.slotPatches * k);
        Tensor h = encoderStates;
        for (int i = 0; i < layers.length; i++) {
            if (cross[i] != null) {
                h = cross[i].forward(h, kv, slotRanges, s.cross[i]);
            }
            h = layers[i].forwardCached(h, positions, s.at.rope(), s.caches[i], self, s.layers[i]);
        }
        Tensor rows = allLogits ? h : h.rowSlice(n - 1, n);
        int r = rows.rows();
        Tensor normed = first(s.normed, r);
        norm.forward(rows, normed, first(s.rstd, r));
        Tensor logits = first(s.logits, r);
        output.forward(normed, logits);
        return logits;
    }

    /** Logits [1, V] at {@code position} from its encoder state and the latest patch's slots. */
    Tensor step(Tensor encoderState, int position, Step s) {
        currentPatchOnly(s);
        s.singlePatch[0] = 0;
        return stepBlock(encoderState, position, s.singlePatch, s, false);
    }

    /** Keeps only the latest patch's slots: single steps read no other, so none is re-projected every byte. */
    private void currentPatchOnly(Step s) {
        if (s.slotPatches > 1) {
            keepOnly(s.slotPatches - 1, s);
        }
    }

    /** Buffers of a batched step: one byte for each of up to B sequences. */
    final class BatchStep {
        final Tensor slots;                   // [B·k, d] each row's current patch slots, gathered
        final RangeBuffer slotMask;           // [B]: row i reads slots [i·k, i·k + k)
        final CrossAttention.Acts[] cross;    // per layer: B queries, B·k keys
        final TransformerBlock.Acts[] layers; // B rows
        final CachedPositions at;             // RoPE positions of the rows
        final int[] ropePositions;            // [B]
        final Tensor rstd;                    // [B]
        final Tensor normed;                  // [B, d]
        final Tensor logits;                  // [B, V]

        BatchStep(int rows) {
            int d = config.dim();
            int k = config.crossAttnK();
            slots = f32(backend, rows * k, d);
            slotMask = new RangeBuffer(backend, rows);
            cross = new CrossAttention.Acts[layers().length];
            for (int i = 0; i < layers().length; i++) {
                if (LocalDecoder.this.cross[i] != null) {
                    cross[i] = LocalDecoder.this.cross[i].newActs(rows, rows * k, false);
                }
            }
            this.layers = TransformerBlock.stackActs(layers(), rows, false);
            at = new CachedPositions(backend, rope, rows, config.window(), 0, 0);
            ropePositions = new int[rows];
            rstd = f32(backend, rows, 1);
            normed = f32(backend, rows, d);
            logits = f32(backend, rows, config.vocabSize());
        }
    }

    BatchStep newBatchStep(int rows) {
        return new BatchStep(rows);
    }

    /**
     * One byte for each of n sequences in one batched block: row i of {@code encoderStates} [n, d] is the byte at
     * {@code positions[i]} of steps[i], reading that sequence's latest patch. Returns the logits [n, V], each row equal
     * to {@link #step} of it alone (attention runs row by row; the matmuls are row-invariant).
     */
    Tensor stepRows(Step[] steps, Tensor encoderStates, int[] positions, BatchStep b) {
        int n = encoderStates.rows();
        int k = config.crossAttnK();
        KvCache[][] caches = new KvCache[n][];
        Ranges[] masks = new Ranges[n];
        for (int i = 0; i < n; i++) {
            Step s = steps[i];
            currentPatchOnly(s);
            backend.copy(s.slots.rowSlice(0, k), b.slots.rowSlice(i * k, i * k + k));
            b.slotMask.lo[i] = i * k;
            b.slotMask.hi[i] = i * k + k;
            masks[i] = s.at.prepareMask(positions[i], 1, s.caches);
            caches[i] = s.caches;
            b.ropePositions[i] = positions[i];
        }
        Ranges slotRanges = b.slotMask.ranges(n);
        b.at.setRopePositions(b.ropePositions, n);
        Tensor kv = first(b.slots, n * k);
        Tensor h = encoderStates;
        KvCache[] layerCaches = new KvCache[n];
        for (int l = 0; l < layers.length; l++) {
            if (cross[l] != null) {
                h = cross[l].forward(h, kv, slotRanges, true, b.cross[l]);
            }
            for (int i = 0; i < n; i++) {
                layerCaches[i] = caches[i][l];
            }
            h = layers[l].forwardCachedRows(h, b.at.positions(), b.at.rope(), layerCaches, masks, b.layers[l]);
        }
        Tensor normed = first(b.normed, n);
        norm.forward(h, normed, first(b.rstd, n));
        Tensor logits = first(b.logits, n);
        output.forward(normed, logits);
        return logits;
    }
}
