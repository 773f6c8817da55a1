package blt4j.model;

import static blt4j.nn.Buffers.f32;
import static blt4j.nn.Buffers.first;
import static blt4j.nn.Buffers.i32;
import static blt4j.nn.Buffers.zeroed;

import blt4j.compute.AttentionMask;
import blt4j.compute.Backend;
import blt4j.compute.DType;
import blt4j.compute.Ranges;
import blt4j.compute.RopeTables;
import blt4j.compute.Tensor;
import blt4j.nn.CrossAttention;
import blt4j.nn.KvCache;
import blt4j.nn.Linear;
import blt4j.nn.Parameter;
import blt4j.nn.ParameterStore;
import blt4j.nn.RangeBuffer;
import blt4j.nn.TransformerStack;
import java.util.Arrays;

/**
 * Bytes to patch vectors (BLT-REFERENCE §5): byte embedding plus hashed n-gram embeddings (plain sum), window-512
 * transformer layers, then per patch a max-pooled query projected into k slots that cross-attend to that patch's
 * bytes, with the doubled residual. Produces [P, k·d] (the global input) and the byte states for the decoder.
 * Stateless: a batch's activations live in {@link Acts}, a generation's in {@link Step}.
 */
final class LocalEncoder {
    private final BltConfig.Encoder config;
    private final Backend backend;
    private final Parameter tokEmbeddings;
    private final Parameter[] hashTables;
    private final TransformerStack layers;
    private final Linear patchProjection;
    private final CrossAttention cross;
    private final RopeTables rope;

    /** Activations of one batch: T bytes, up to P patches (k slots each). */
    final class Acts {
        final Tensor ids;                     // [T] I32 byte ids
        final Tensor[] hashIds;               // per hash table [T] I32
        final int[] hostHash;                 // [T] host scratch for hash ids
        final Tensor embeds;                  // [T, d] token + hash embeddings
        final TransformerStack.Acts layers;
        final Tensor pooled;                  // [P, d] max over each patch's bytes
        final Tensor argmax;                  // [P·d] I32 winning byte per column
        final Tensor slots;                   // [P, k·d] patch_embedding_projection(pooled)
        final CrossAttention.Acts cross;      // queries P·k, keys T
        final Tensor dSlots;                  // [P·k, d] gradient scratch (null without training)
        final Tensor dPooled;                 // [P, d]
        final Tensor dEmbeds;                 // [T, d]
        Tensor hidden;                        // [T, d] byte states after the layers (view)
        int bytes;
        int patches;

        Acts(int bytes, int patchCapacity, boolean training) {
            int d = config.dim();
            int k = config.crossAttnK();
            ids = i32(backend, bytes);
            hashIds = new Tensor[hashTables.length];
            for (int t = 0; t < hashIds.length; t++) {
                hashIds[t] = i32(backend, bytes);
            }
            hostHash = new int[bytes];
            embeds = f32(backend, bytes, d);
            layers = LocalEncoder.this.layers.newActs(bytes, training);
            pooled = f32(backend, patchCapacity, d);
            argmax = backend.allocate(DType.I32, patchCapacity, d);
            slots = f32(backend, patchCapacity, k * d);
            cross = LocalEncoder.this.cross.newActs(patchCapacity * k, bytes, training);
            dSlots = training ? f32(backend, patchCapacity * k, d) : null;
            dPooled = training ? f32(backend, patchCapacity, d) : null;
            dEmbeds = training ? f32(backend, bytes, d) : null;
        }
    }

    /** Incremental state of one generation of up to {@code capacity} bytes. */
    final class Step {
        final KvCache[] caches;
        final Tensor id;                      // [1] I32
        final Tensor[] hashId;                // per table [1] I32
        final Tensor position;                // [1] I32
        final RangeBuffer selfMask;           // [1]
        final Tensor x;                       // [1, d]
        final TransformerStack.Acts layers;   // 1 row
        final Tensor states;                  // [capacity, d] encoder state of every byte so far
        final RangeBuffer patchRange;         // [1] the completed patch's rows of states
        final Tensor pooled;                  // [1, d]
        final Tensor argmax;                  // [d] I32
        final Tensor slots;                   // [1, k·d]
        final RangeBuffer slotMask;           // [k]
        final CrossAttention.Acts cross;      // queries k, keys up to capacity

        Step(int capacity) {
            int d = config.dim();
            int k = config.crossAttnK();
            caches = LocalEncoder.this.layers.newCaches(capacity);
            id = i32(backend, 1);
            hashId = new Tensor[hashTables.length];
            for (int t = 0; t < hashId.length; t++) {
                hashId[t] = i32(backend, 1);
            }
            position = i32(backend, 1);
            selfMask = new RangeBuffer(backend, 1);
            x = f32(backend, 1, d);
            layers = LocalEncoder.this.layers.newActs(1, false);
            states = f32(backend, capacity, d);
            patchRange = new RangeBuffer(backend, 1);
            pooled = f32(backend, 1, d);
            argmax = backend.allocate(DType.I32, 1, d);
            slots = f32(backend, 1, k * d);
            slotMask = new RangeBuffer(backend, k);
            cross = LocalEncoder.this.cross.newActs(k, capacity, false);
        }
    }

    LocalEncoder(BltConfig.Encoder c, ParameterStore store, Backend backend) {
        this.config = c;
        this.backend = backend;
        int d = c.dim();
        double std = 1.0 / Math.sqrt(d);
        tokEmbeddings = store.add("local_encoder.tok_embeddings.weight", Parameter.Init.normal(std), c.vocabSize(), d);
        layers = new TransformerStack(store, backend, "local_encoder.", c.nLayers(), d, c.nHeads(), c.hiddenDim(), c.normEps());
        patchProjection = new Linear(store, backend, "local_encoder.patch_embedding_projection", d, d * c.crossAttnK(), std);
        double crossStd = std / Math.sqrt(2.0);
        cross = new CrossAttention(store, backend, "local_encoder.cross_attn_layers.0", d, c.crossAttnNheads(), c.normEps(), crossStd);
        hashTables = new Parameter[c.hashTables()];
        for (int i = 0; i < hashTables.length; i++) {
            hashTables[i] = store.add("encoder_hash_tok_embedding." + i + ".weight", Parameter.Init.normal(std),
                    c.hashVocab(), d);
        }
        rope = RopeTables.build(backend, c.ropeTheta(), d / c.nHeads(), c.maxSeqLength());
    }

    Acts newActs(int bytes, int patchCapacity, boolean training) {
        return new Acts(bytes, patchCapacity, training);
    }

    Step newStep(int capacity) {
        return new Step(capacity);
    }

    /** Token + hash embeddings for rows of n ids each (hashes restart at every row, left-padded with BOE). */
    Tensor embed(int[] tokens, int rows, int n, Acts a) {
        int total = tokens.length;
        a.bytes = total;
        Tensor ids = first(a.ids, total);
        backend.upload(tokens, ids);
        Tensor embeds = first(a.embeds, total);
        backend.embedding(tokEmbeddings.value(), ids, embeds, false);
        int sizes = config.hashGroupSizes().length;
        int[] row = new int[n];
        int[] out = new int[n];
        for (int t = 0; t < hashTables.length; t++) {
            int f = t / sizes;
            int gram = config.hashGroupSizes()[t % sizes];
            for (int b = 0; b < rows; b++) {
                System.arraycopy(tokens, b * n, row, 0, n);
                HashNgram.hashIds(row, gram, f, config.hashVocab(), out);
                System.arraycopy(out, 0, a.hostHash, b * n, n);
            }
            Tensor h = first(a.hashIds[t], total);
            backend.upload(total == a.hostHash.length ? a.hostHash : Arrays.copyOf(a.hostHash, total), h);
            backend.embedding(hashTables[t].value(), h, embeds, true);
        }
        return embeds;
    }

    /** Byte states after the encoder layers (also the decoder's input). */
    Tensor encode(Tensor positions, Ranges selfMask, Acts a) {
        a.hidden = layers.forward(first(a.embeds, a.bytes), positions, rope, selfMask, a.layers);
        return a.hidden;
    }

    /** Patch vectors [P, k·d]: max-pool each patch, project to k slots, cross-attend to the patch's bytes. */
    Tensor patches(int p, Ranges patchBytes, Ranges slotMask, Acts a) {
        int d = config.dim();
        int k = config.crossAttnK();
        a.patches = p;
        Tensor pooled = first(a.pooled, p);
        backend.segmentMax(a.hidden, patchBytes, pooled, first(a.argmax, p));
        Tensor slots = first(a.slots, p);
        patchProjection.forward(pooled, slots);
        return cross.forward(slots.reshape(p * k, d), a.hidden, slotMask, a.cross).reshape(p, k * d);
    }

    /**
     * Backward from the gradient of the patch vectors and the decoder's gradient of the byte states.
     * dHidden already holds the decoder's contribution and receives the rest.
     */
    void backward(Tensor dPatches, Tensor dHidden, Acts a) {
        int d = config.dim();
        int k = config.crossAttnK();
        int p = a.patches;
        Tensor dSlots = zeroed(backend, a.dSlots, p * k);
        cross.backward(dPatches.reshape(p * k, d), dSlots, dHidden, a.cross);
        Tensor dPooled = zeroed(backend, a.dPooled, p);
        patchProjection.backward(dSlots.reshape(p, k * d), first(a.pooled, p), dPooled);
        backend.segmentMaxBackward(dPooled, first(a.argmax, p), dHidden);
        Tensor dEmbeds = zeroed(backend, a.dEmbeds, a.bytes);
        layers.backward(dHidden, dEmbeds, a.layers);
        backend.embeddingBackward(dEmbeds, first(a.ids, a.bytes), tokEmbeddings.grad());
        for (int t = 0; t < hashTables.length; t++) {
            backend.embeddingBackward(dEmbeds, first(a.hashIds[t], a.bytes), hashTables[t].grad());
        }
    }

    // ---- incremental (generation)

    /** Encodes the token at {@code position} of {@code tokens} (hashes over its left context) into s.states[position]. */
    void stepByte(int[] tokens, int position, Step s) {
        backend.upload(new int[] {tokens[position]}, s.id);
        backend.embedding(tokEmbeddings.value(), s.id, s.x, false);
        int sizes = config.hashGroupSizes().length;
        for (int t = 0; t < hashTables.length; t++) {
            int f = t / sizes;
            int gram = config.hashGroupSizes()[t % sizes];
            long h = HashNgram.rollingHash(tokens, position, gram, HashNgram.PRIMES[f]);
            backend.upload(new int[] {(int) Math.floorMod(h, (long) config.hashVocab())}, s.hashId[t]);
            backend.embedding(hashTables[t].value(), s.hashId[t], s.x, true);
        }
        backend.upload(new int[] {position}, s.position);
        AttentionMask.fillCachedWindow(position, 1, config.window(), s.selfMask.lo, s.selfMask.hi);
        Tensor h = layers.forwardCached(s.x, s.position, rope, s.caches, s.selfMask.ranges(1), s.layers);
        backend.copy(h, s.states.rowSlice(position, position + 1));
    }

    /** The patch vector [1, k·d] of the completed patch of byte positions [start, end). */
    Tensor patchVector(int start, int end, Step s) {
        int d = config.dim();
        int k = config.crossAttnK();
        int n = end - start;
        Tensor states = s.states.rowSlice(start, end);
        s.patchRange.lo[0] = 0;
        s.patchRange.hi[0] = n;
        backend.segmentMax(states, s.patchRange.ranges(1), s.pooled, s.argmax);
        patchProjection.forward(s.pooled, s.slots);
        for (int r = 0; r < k; r++) {
            s.slotMask.lo[r] = 0;
            s.slotMask.hi[r] = n;
        }
        return cross.forward(s.slots.reshape(k, d), states, s.slotMask.ranges(k), s.cross).reshape(1, k * d);
    }
}
