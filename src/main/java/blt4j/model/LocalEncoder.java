package blt4j.model;

import blt4j.compute.Backend;
import blt4j.compute.DType;
import blt4j.compute.Ranges;
import blt4j.compute.RopeTables;
import blt4j.compute.Tensor;
import blt4j.nn.CrossAttention;
import blt4j.nn.Linear;
import blt4j.nn.Parameter;
import blt4j.nn.ParameterStore;
import blt4j.nn.TransformerStack;

/**
 * Bytes to patch vectors (BLT-REFERENCE §5): byte embedding plus hashed n-gram embeddings (plain sum), window-512
 * transformer layers, then per patch a max-pooled query projected into k slots that cross-attend to that patch's
 * bytes, with the doubled residual. Returns [P, k·d] (the global input) and keeps the byte states for the decoder.
 */
final class LocalEncoder {
    private final BltConfig config;
    private final Backend backend;
    private final Parameter tokEmbeddings;
    private final Parameter[] hashTables;
    private final TransformerStack layers;
    private final Linear patchProjection;
    private final CrossAttention cross;
    private final RopeTables rope;

    private Tensor ids;
    private Tensor[] hashIds;
    private Tensor embeds;
    private Tensor hidden;
    private Tensor pooled;
    private Tensor argmax;
    private Tensor slots;

    LocalEncoder(BltConfig c, ParameterStore store, Backend backend) {
        this.config = c;
        this.backend = backend;
        int d = c.dimLocalEncoder;
        double std = 1.0 / Math.sqrt(d);
        tokEmbeddings = store.add("local_encoder.tok_embeddings.weight", Parameter.Init.normal(std), c.vocabSize, d);
        layers = new TransformerStack(store, backend, "local_encoder.", c.nLayersLocalEncoder, d, c.nHeadsLocalEncoder,
                c.hiddenLocalEncoder(), c.normEps);
        patchProjection = new Linear(store, backend, "local_encoder.patch_embedding_projection", d, d * c.crossAttnK, std);
        double crossStd = std / Math.sqrt(2.0);
        cross = new CrossAttention(store, backend, "local_encoder.cross_attn_layers.0", d, c.crossAttnNheads, c.normEps, crossStd);
        hashTables = new Parameter[c.hashTables()];
        for (int i = 0; i < hashTables.length; i++) {
            hashTables[i] = store.add("encoder_hash_tok_embedding." + i + ".weight", Parameter.Init.normal(std),
                    c.encoderHashByteGroupVocab, d);
        }
        rope = RopeTables.build(backend, c.ropeTheta, d / c.nHeadsLocalEncoder, c.maxEncoderSeqLength);
    }

    RopeTables rope() {
        return rope;
    }

    /** Token + hash embeddings for rows of n ids each (hashes restart at every row, left-padded with BOE). */
    Tensor embed(int[] tokens, int rows, int n) {
        int d = config.dimLocalEncoder;
        ids = backend.fromHost(tokens, tokens.length);
        embeds = backend.zeros(tokens.length, d);
        backend.embedding(tokEmbeddings.value(), ids, embeds, false);
        hashIds = new Tensor[hashTables.length];
        int sizes = config.encoderHashByteGroupSize.size();
        for (int t = 0; t < hashTables.length; t++) {
            int f = t / sizes;
            int gram = config.encoderHashByteGroupSize.get(t % sizes);
            int[] h = new int[tokens.length];
            int[] row = new int[n];
            int[] out = new int[n];
            for (int b = 0; b < rows; b++) {
                System.arraycopy(tokens, b * n, row, 0, n);
                HashNgram.hashIds(row, gram, f, config.encoderHashByteGroupVocab, out);
                System.arraycopy(out, 0, h, b * n, n);
            }
            hashIds[t] = backend.fromHost(h, h.length);
            backend.embedding(hashTables[t].value(), hashIds[t], embeds, true);
        }
        return embeds;
    }

    /** Byte states after the encoder layers (also the decoder's input). */
    Tensor encode(Tensor positions, Ranges selfMask) {
        hidden = layers.forward(embeds, positions, rope, selfMask);
        return hidden;
    }

    /** Patch vectors [P, k·d]: max-pool each patch, project to k slots, cross-attend to the patch's bytes. */
    Tensor patches(PatchLayout layout, Ranges patchBytes, Ranges slotMask) {
        int d = config.dimLocalEncoder;
        int k = config.crossAttnK;
        int p = layout.totalPatches();
        pooled = backend.zeros(p, d);
        argmax = backend.allocate(DType.I32, p, d);
        backend.segmentMax(hidden, patchBytes, pooled, argmax);
        slots = patchProjection.forward(pooled).reshape(p * k, d);
        return cross.forward(slots, hidden, slotMask).reshape(p, k * d);
    }

    // ---- incremental (generation)

    blt4j.nn.KvCache[] newCaches(int capacity) {
        return layers.newCaches(capacity);
    }

    /** Encoder state [1, d] of the token at {@code position} of {@code tokens} (hashes over its left context). */
    Tensor stepByte(int[] tokens, int position, blt4j.nn.KvCache[] caches) {
        int d = config.dimLocalEncoder;
        Tensor x = backend.zeros(1, d);
        backend.embedding(tokEmbeddings.value(), backend.fromHost(new int[] {tokens[position]}, 1), x, false);
        int sizes = config.encoderHashByteGroupSize.size();
        for (int t = 0; t < hashTables.length; t++) {
            int f = t / sizes;
            int gram = config.encoderHashByteGroupSize.get(t % sizes);
            long h = HashNgram.rollingHash(tokens, position, gram, HashNgram.PRIMES[f]);
            int id = (int) Math.floorMod(h, (long) config.encoderHashByteGroupVocab);
            backend.embedding(hashTables[t].value(), backend.fromHost(new int[] {id}, 1), x, true);
        }
        Ranges mask = blt4j.compute.AttentionMask.cachedWindow(backend, position, 1, config.window());
        return layers.forwardCached(x, backend.fromHost(new int[] {position}, 1), rope, caches, mask);
    }

    /** The patch vector [1, k·d] of a completed patch whose encoder states are {@code states}. */
    Tensor patchVector(Tensor states) {
        int d = config.dimLocalEncoder;
        int k = config.crossAttnK;
        int n = states.rows();
        Tensor pooledRow = backend.zeros(1, d);
        Tensor arg = backend.allocate(DType.I32, 1, d);
        backend.segmentMax(states, Ranges.of(backend, new int[] {0}, new int[] {n}), pooledRow, arg);
        Tensor slotRows = patchProjection.forward(pooledRow).reshape(k, d);
        int[] lo = new int[k];
        int[] hi = new int[k];
        java.util.Arrays.fill(hi, n);
        return cross.forward(slotRows, states, Ranges.of(backend, lo, hi)).reshape(1, k * d);
    }

    Tensor hidden() {
        return hidden;
    }

    /**
     * Backward from the gradient of the patch vectors and the decoder's gradient of the byte states.
     * dHidden already holds the decoder's contribution and receives the rest.
     */
    void backward(Tensor dPatches, Tensor dHidden) {
        int d = config.dimLocalEncoder;
        int k = config.crossAttnK;
        int p = pooled.rows();
        Tensor dSlots = backend.zeros(p * k, d);
        cross.backward(dPatches.reshape(p * k, d), dSlots, dHidden);
        Tensor dPooled = backend.zeros(p, d);
        patchProjection.backward(dSlots.reshape(p, k * d), pooled, dPooled);
        backend.segmentMaxBackward(dPooled, argmax, dHidden);
        Tensor dEmbeds = backend.zeros(embeds.rows(), d);
        layers.backward(dHidden, dEmbeds);
        backend.embeddingBackward(dEmbeds, ids, tokEmbeddings.grad());
        for (int t = 0; t < hashTables.length; t++) {
            backend.embeddingBackward(dEmbeds, hashIds[t], hashTables[t].grad());
        }
    }
}
