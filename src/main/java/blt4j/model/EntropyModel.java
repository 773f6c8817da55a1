package blt4j.model;

import blt4j.compute.AttentionMask;
import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.RopeTables;
import blt4j.compute.Tensor;
import blt4j.nn.Linear;
import blt4j.nn.Parameter;
import blt4j.nn.ParameterStore;
import blt4j.nn.RmsNorm;
import blt4j.nn.TransformerStack;

/**
 * The byte-level LM that scores next-byte entropy (BLT-REFERENCE §3): token embedding, pre-norm transformer
 * layers with sliding-window document-causal attention and RoPE θ 10000, final RMSNorm, 260-way output head.
 * Parameter names are the reference's ({@code tok_embeddings.weight}, {@code layers.0.attention.wq.weight}, …).
 */
public final class EntropyModel implements TrainableModel {
    private final EntropyModelConfig config;
    private final Backend backend;
    private final ParameterStore store = new ParameterStore();
    private final Parameter tokEmbeddings;
    private final TransformerStack layers;
    private final RmsNorm norm;
    private final Linear output;
    private final RopeTables rope;

    // state of the last forward, kept for the backward pass
    private Tensor ids;
    private Tensor embedded;
    private Tensor hidden;
    private Tensor normed;
    private Tensor logits;
    private final blt4j.nn.NextByteLoss lossHead;
    private int rows;

    private final String kind;

    public EntropyModel(EntropyModelConfig config, Backend backend) {
        this(config, backend, "entropy");
    }

    /** @param kind "entropy", or "byte-transformer" when the same byte LM serves as the baseline model */
    public EntropyModel(EntropyModelConfig config, Backend backend, String kind) {
        config.validate();
        this.kind = kind;
        this.config = config;
        this.backend = backend;
        int d = config.dim;
        double std = 1.0 / Math.sqrt(d);
        this.tokEmbeddings = store.add("tok_embeddings.weight", Parameter.Init.normal(std), config.vocabSize, d);
        this.layers = new TransformerStack(store, backend, "", config.nLayers, d, config.nHeads, config.hiddenDim(), config.normEps);
        this.norm = new RmsNorm(store, backend, "norm", d, config.normEps);
        this.output = new Linear(store, backend, "output", d, config.vocabSize, std);
        store.allocate(backend);
        this.lossHead = new blt4j.nn.NextByteLoss(backend);
        this.rope = RopeTables.build(backend, config.ropeTheta, config.headDim(), config.maxSeqlen);
    }

    @Override
    public String kind() {
        return kind;
    }

    @Override
    public String configJson() {
        return config.toJson();
    }

    @Override
    public double forwardLoss(Batch batch) {
        forward(batch.inputs(), batch.rows(), batch.seqLen());
        return loss(batch.targets(), batch.weights());
    }

    public EntropyModelConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    @Override
    public ParameterStore parameters() {
        return store;
    }

    /** Deterministic random initialisation (the reference's truncated-normal scheme). */
    public EntropyModel initialize(long seed) {
        store.initialize(seed);
        return this;
    }

    /**
     * Logits [batch·seqLen, 260] for {@code batch} independent rows of {@code seqLen} token ids each.
     * Positions restart at 0 in every row; documents split after EOS; attention sees at most the window.
     */
    public Tensor forward(int[] tokenIds, int batch, int seqLen) {
        if (tokenIds.length != batch * seqLen) {
            throw new IllegalArgumentException("forward: " + tokenIds.length + " ids is not " + batch + " rows of " + seqLen);
        }
        if (seqLen > config.maxSeqlen) {
            throw new IllegalArgumentException("forward: rows of " + seqLen + " exceed max_seqlen " + config.maxSeqlen
                    + "; score long inputs in chunks (EntropyScorer)");
        }
        blt4j.nn.NextByteLoss.requireByteIds(tokenIds, config.vocabSize);
        rows = tokenIds.length;
        ids = backend.fromHost(tokenIds, rows);
        int[] pos = new int[rows];
        for (int i = 0; i < rows; i++) {
            pos[i] = i % seqLen;
        }
        Tensor positions = backend.fromHost(pos, rows);
        boolean[] docEnd = config.eosId == null ? null : AttentionMask.splitAfter(tokenIds, config.eosId);
        Ranges mask = AttentionMask.batched(backend, batch, seqLen, config.window(), docEnd);
        embedded = backend.zeros(rows, config.dim);
        backend.embedding(tokEmbeddings.value(), ids, embedded, false);
        hidden = layers.forward(embedded, positions, rope, mask);
        normed = norm.forward(hidden);
        logits = output.forward(normed);
        return logits;
    }

    /**
     * Incremental scoring for generation: feed one token at a time; each call returns the logits predicting the
     * next token. Attention uses per-layer KV caches with the model's window (single document).
     */
    public final class Incremental {
        private final blt4j.nn.KvCache[] caches;
        private int position;
        private final Tensor entropy = backend.zeros(1);

        private Incremental(int capacity) {
            if (capacity > config.maxSeqlen) {
                throw new IllegalArgumentException("incremental capacity " + capacity + " exceeds max_seqlen " + config.maxSeqlen);
            }
            caches = layers.newCaches(capacity);
        }

        /** Appends a token; returns the logits [1, 260] of the next token (valid until the next call). */
        public Tensor append(int token) {
            return append(new int[] {token});
        }

        /** Appends a block of tokens; returns their logits [t, 260] (row i predicts the token after tokens[i]). */
        public Tensor append(int[] tokens) {
            int t = tokens.length;
            Tensor ids = backend.fromHost(tokens, t);
            Tensor x = backend.zeros(t, config.dim);
            backend.embedding(tokEmbeddings.value(), ids, x, false);
            int[] pos = new int[t];
            for (int i = 0; i < t; i++) {
                pos[i] = position + i;
            }
            Ranges mask = AttentionMask.cachedWindow(backend, position, t, config.window());
            Tensor h = layers.forwardCached(x, backend.fromHost(pos, t), rope, caches, mask);
            position += t;
            return output.forward(norm.forward(h));
        }

        /** Entropies (nats) of each row of logits returned by {@link #append}. */
        public float[] entropies(Tensor logits) {
            Tensor h = backend.zeros(logits.rows());
            backend.entropy(logits, h);
            return h.toHost();
        }

        /** Entropy (nats) of the distribution returned by the last {@link #append}. */
        public float entropy(Tensor logits) {
            backend.entropy(logits, entropy);
            return entropy.toHost()[0];
        }

        public int position() {
            return position;
        }
    }

    public Incremental incremental(int capacity) {
        return new Incremental(capacity);
    }

    /** Next-byte entropies (nats) for each row of the last forward. */
    public float[] entropies() {
        Tensor h = backend.zeros(rows);
        backend.entropy(logits, h);
        return h.toHost();
    }

    /**
     * Mean cross-entropy (nats) of the last forward's logits against {@code targetIds}; rows with weight 0 or a
     * negative target are ignored. Keeps what {@link #backward()} needs.
     */
    public double loss(int[] targetIds, float[] rowWeights) {
        return lossHead.forward(logits, targetIds, rowWeights);
    }

    /** Adds the gradient of the last {@link #loss} into the parameter gradients. */
    @Override
    public void backward() {
        Tensor dLogits = lossHead.backward();
        Tensor dNormed = backend.zeros(rows, config.dim);
        output.backward(dLogits, normed, dNormed);
        Tensor dHidden = backend.zeros(rows, config.dim);
        norm.backward(dNormed, hidden, dHidden);
        Tensor dEmbedded = backend.zeros(rows, config.dim);
        layers.backward(dHidden, dEmbedded);
        backend.embeddingBackward(dEmbedded, ids, tokEmbeddings.grad());
    }
}
