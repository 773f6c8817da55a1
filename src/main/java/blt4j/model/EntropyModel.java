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
import blt4j.nn.CachedPositions;
import blt4j.nn.KvCache;
import blt4j.nn.Linear;
import blt4j.nn.NextByteLoss;
import blt4j.nn.Parameter;
import blt4j.nn.ParameterStore;
import blt4j.nn.RangeBuffer;
import blt4j.nn.RmsNorm;
import blt4j.nn.TransformerStack;

/**
 * A byte-level transformer LM: token embedding, pre-norm layers with sliding-window document-causal attention and
 * RoPE, final RMSNorm, 260-way output head. It is the entropy model that scores next-byte entropy for patching
 * (BLT-REFERENCE §3, kind "entropy", θ 10000) and, under kind "byte-transformer", the byte-level baseline.
 * Parameter names are the reference's ({@code tok_embeddings.weight}, {@code layers.0.attention.wq.weight}, …).
 * Layers keep no activations: a batch's live in a {@link State}, a streaming scorer's in an {@link Incremental}.
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
    private final NextByteLoss lossHead;
    private final String kind;
    private State defaultState;
    private State evaluationState;

    /** Tokens one incremental call scores at most (bounds the incremental state's activations). */
    public static final int BLOCK = 512;

    public EntropyModel(EntropyModelConfig config, Backend backend) {
        this(config, backend, "entropy");
    }

    /**
     * @param kind "entropy", "byte-transformer" when the same byte LM serves as the baseline model, or
     *     "bpe-transformer" for the token LM of the BPE baseline (its vocabulary is the config's vocab_size)
     */
    public EntropyModel(EntropyModelConfig config, Backend backend, String kind) {
        this(config, backend, kind, DType.F32);
    }

    /** @param matrices how the Linear weights are held: F32, or BF16 for an inference-only model */
    public EntropyModel(EntropyModelConfig config, Backend backend, String kind, DType matrices) {
        this(config, backend, kind, matrices, true);
    }

    /** Every parameter a config declares (names, shapes, initialisation), nothing allocated. */
    public static java.util.List<Parameter> declaredParameters(EntropyModelConfig config) {
        try (Backend scratch = new blt4j.compute.ReferenceBackend()) {
            String kind = config.byteVocabulary() ? "entropy" : "bpe-transformer";
            return new EntropyModel(config, scratch, kind, DType.F32, false).store.all();
        }
    }

    private EntropyModel(EntropyModelConfig config, Backend backend, String kind, DType matrices, boolean allocate) {
        if (allocate) {
            config.validate();
        } else {
            config.validateFields("config");
        }
        if (!"bpe-transformer".equals(kind) && !config.byteVocabulary()) {
            throw ConfigException.field("config", "vocab_size", config.vocabSize, "a " + kind + " model reads bytes: vocab_size must be "
                    + blt4j.tokenizer.ByteTokenizer.VOCAB + " (larger vocabularies are for the BPE baseline)");
        }
        this.kind = kind;
        this.config = config;
        this.backend = backend;
        int d = config.dim;
        double std = 1.0 / Math.sqrt(d);
        this.tokEmbeddings = store.add("tok_embeddings.weight", Parameter.Init.normal(std), config.vocabSize, d);
        this.layers = new TransformerStack(store, backend, "", config.nLayers, d, config.nHeads, config.hiddenDim(), config.normEps);
        this.norm = new RmsNorm(store, backend, "norm", d, config.normEps);
        this.output = new Linear(store, backend, "output", d, config.vocabSize, std);
        if (allocate) {
            store.allocate(backend, matrices);
        }
        this.lossHead = new NextByteLoss(backend, config.vocabSize);
        this.rope = RopeTables.build(backend, config.ropeTheta, config.headDim(), config.maxSeqlen);
    }

    /** Every buffer of one batch shape (T = rows·n): inputs, saved activations, gradient scratch. */
    public final class State {
        final int rows;
        final int bytesPerRow;
        final boolean training;
        final Tensor ids;                     // [T] I32
        final Tensor positions;               // [T] I32 position within the row, uploaded once
        final RangeBuffer mask;               // [T] causal ∧ window ∧ document
        final boolean[] docEnd;               // [T] host
        final Tensor embedded;                // [T, d]
        final TransformerStack.Acts layers;
        final Tensor rstd;                    // [T]
        final Tensor normed;                  // [T, d]
        final Tensor logits;                  // [T, V]
        final Tensor entropy;                 // [T]
        final NextByteLoss.Acts loss;
        final Tensor dNormed;                 // [T, d] gradient scratch (null without training)
        final Tensor dHidden;                 // [T, d]
        final Tensor dEmbedded;               // [T, d]
        Tensor hidden;                        // [T, d] output of the layers (view)

        private State(int rows, int n, boolean training) {
            int t = rows * n;
            int d = config.dim;
            this.rows = rows;
            this.bytesPerRow = n;
            this.training = training;
            ids = i32(backend, t);
            positions = i32(backend, t);
            int[] pos = new int[t];
            for (int i = 0; i < t; i++) {
                pos[i] = i % n;
            }
            backend.upload(pos, positions);
            mask = new RangeBuffer(backend, t);
            docEnd = new boolean[t];
            embedded = f32(backend, t, d);
            layers = EntropyModel.this.layers.newActs(t, training);
            rstd = f32(backend, t, 1);
            normed = f32(backend, t, d);
            logits = f32(backend, t, config.vocabSize);
            entropy = f32(backend, t, 1).reshape(t);
            loss = lossHead.newActs(t, training);
            dNormed = training ? f32(backend, t, d) : null;
            dHidden = training ? f32(backend, t, d) : null;
            dEmbedded = training ? f32(backend, t, d) : null;
        }
    }

    public State newState(int rows, int n, boolean training) {
        return new State(rows, n, training);
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

    @Override
    public double evaluateLoss(Batch batch) {
        if (evaluationState == null || evaluationState.rows != batch.rows() || evaluationState.bytesPerRow != batch.seqLen()) {
            evaluationState = null;
            evaluationState = new State(batch.rows(), batch.seqLen(), false);
        }
        forward(evaluationState, batch.inputs());
        return loss(evaluationState, batch.targets(), batch.weights());
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

    /** Logits [batch·seqLen, 260] in the model's own training state (reallocated only when the shape changes). */
    public Tensor forward(int[] tokenIds, int batch, int seqLen) {
        if (defaultState == null || defaultState.rows != batch || defaultState.bytesPerRow != seqLen) {
            defaultState = null; // release the old shape's buffers before allocating the new ones
            defaultState = new State(batch, seqLen, true);
        }
        return forward(defaultState, tokenIds);
    }

    /**
     * Logits [rows·n, 260] (a view into {@code s}) for the state's rows of n token ids each. Positions restart at 0
     * in every row; documents split after EOS; attention sees at most the window.
     */
    public Tensor forward(State s, int[] tokenIds) {
        int batch = s.rows;
        int seqLen = s.bytesPerRow;
        if (tokenIds.length != batch * seqLen) {
            throw new IllegalArgumentException("forward: " + tokenIds.length + " ids is not " + batch + " rows of " + seqLen);
        }
        if (seqLen > config.maxSeqlen) {
            throw new IllegalArgumentException("forward: rows of " + seqLen + " exceed max_seqlen " + config.maxSeqlen
                    + "; score long inputs in chunks (EntropyScorer)");
        }
        int rows = tokenIds.length;
        backend.setStage(kind);
        backend.upload(tokenIds, s.ids);
        for (int i = 0; i < rows; i++) {
            s.docEnd[i] = config.eosId != null && tokenIds[i] == config.eosId;
        }
        AttentionMask.fillBatched(batch, seqLen, config.window(), s.docEnd, s.mask.lo, s.mask.hi);
        backend.embedding(tokEmbeddings.value(), s.ids, s.embedded, false);
        s.hidden = layers.forward(s.embedded, s.positions, rope, s.mask.ranges(rows), s.layers);
        norm.forward(s.hidden, s.normed, s.rstd);
        output.forward(s.normed, s.logits);
        backend.setStage(null);
        return s.logits;
    }

    /**
     * Incremental scoring: feed tokens in blocks of at most {@link #maxBlock()} (its buffers are sized for one
     * block); each call returns the logits predicting the token after each fed one. Attention uses per-layer KV
     * caches with the model's window (single document).
     */
    public final class Incremental {
        private final KvCache[] caches;
        private final int block;
        private final CachedPositions at;     // positions, window mask and RoPE rows of a block
        private final PassBuffers buffers;    // B rows
        private final float[] hostEntropy = new float[1];
        private int position;

        /**
         * Like the reference's scoring, the context restarts every max_seqlen tokens (positions from 0, no attention
         * across the edge), and the window bounds the caches, so any length runs in fixed memory.
         */
        private Incremental(int capacity, int maxBlock, int slack) {
            if (maxBlock < 1 || slack < 0) {
                throw new IllegalArgumentException("incremental block must hold at least one token, got " + maxBlock);
            }
            block = Math.max(1, Math.min(maxBlock, capacity));
            int window = config.window();
            caches = EntropyModel.this.layers.newCaches(CachedPositions.cacheCapacity(capacity, window, block, slack));
            at = new CachedPositions(backend, rope, block, window, config.maxSeqlen, slack);
            buffers = new PassBuffers(block);
        }

        /** Appends a token; returns the logits [1, 260] of the next token (valid until the next call). */
        public Tensor append(int token) {
            return append(new int[] {token});
        }

        /** Appends a block of tokens; returns their logits [t, 260] (row i predicts the token after tokens[i]). */
        public Tensor append(int[] tokens) {
            return append(tokens, 0, tokens.length);
        }

        /** Appends tokens[from, from + t) as one block; returns their logits [t, 260]. */
        public Tensor append(int[] tokens, int from, int t) {
            if (t == 0 || t > block) {
                throw new IllegalArgumentException("incremental scoring takes 1.." + block + " tokens per call, got " + t
                        + " (ask incremental(capacity, maxBlock) for larger blocks)");
            }
            backend.setStage(kind);
            passes++;
            Tensor x = buffers.embed(tokens, from, t);
            at.prepare(position, t, caches);
            Tensor h = EntropyModel.this.layers.forwardCached(x, at.positions(), at.rope(), caches, at.mask(), buffers.layers);
            position += t;
            Tensor out = buffers.head(h);
            backend.setStage(null);
            return out;
        }

        /** Appends tokens[from, from + n) in blocks of at most {@link #maxBlock()}; returns their entropies (nats). */
        public float[] appendAll(int[] tokens, int from, int n) {
            float[] out = new float[n];
            for (int at = 0; at < n; at += block) {
                int t = Math.min(block, n - at);
                float[] h = entropies(append(tokens, from + at, t));
                System.arraycopy(h, 0, out, at, t);
            }
            return out;
        }

        /** Entropies (nats) of each row of logits returned by {@link #append}. */
        public float[] entropies(Tensor rowsOfLogits) {
            return buffers.entropies(rowsOfLogits);
        }

        /** Entropy (nats) of the distribution returned by the last single-token {@link #append}. */
        public float entropy(Tensor logitsRow) {
            Tensor h = first(buffers.entropy, 1);
            backend.entropy(logitsRow, h);
            backend.download(h, hostEntropy, 0);
            return hostEntropy[0];
        }

        public int position() {
            return position;
        }

        /** Forgets the tokens from {@code newPosition} on. */
        public void truncate(int newPosition) {
            KvCache.truncate(caches, newPosition);
            position = newPosition;
        }

        public int maxBlock() {
            return block;
        }

        /** Rows held by the KV caches (per layer, summed): bounded by the window, however many tokens were appended. */
        public long cacheRows() {
            long rows = 0;
            for (KvCache c : caches) {
                rows += c.capacity();
            }
            return rows;
        }
    }

    /**
     * One token for each of several {@link Incremental} scorers of this model at once (batched generation): the
     * matmuls run over all rows, attention row by row over each scorer's own caches, so every scorer gets exactly the
     * entropies it would get alone.
     */
    public final class BatchStep {
        private final CachedPositions at;     // RoPE positions of the rows
        private final PassBuffers buffers;    // B rows
        private final int[] ropePositions;

        private BatchStep(int rows) {
            at = new CachedPositions(backend, rope, rows, config.window(), config.maxSeqlen, 0);
            buffers = new PassBuffers(rows);
            ropePositions = new int[rows];
        }

        /** Appends tokens[i] to scorers[i] for i &lt; n; returns the entropy (nats) of each one's next token. */
        public float[] appendEntropies(Incremental[] scorers, int[] tokens, int n) {
            if (n < 1 || n > ropePositions.length) {
                throw new IllegalArgumentException("a batch of " + n + " rows for a batch step of " + ropePositions.length);
            }
            backend.setStage(kind);
            passes++;
            Tensor x = buffers.embed(tokens, 0, n);
            KvCache[][] caches = new KvCache[n][];
            Ranges[] masks = new Ranges[n];
            for (int i = 0; i < n; i++) {
                Incremental s = scorers[i];
                masks[i] = s.at.prepareMask(s.position, 1, s.caches);
                caches[i] = s.caches;
                ropePositions[i] = s.at.ropePosition(s.position);
                s.position++;
            }
            at.setRopePositions(ropePositions, n);
            Tensor h = EntropyModel.this.layers.forwardCachedRows(x, at.positions(), at.rope(), caches, masks, buffers.layers);
            float[] result = buffers.entropies(buffers.head(h));
            backend.setStage(null);
            return result;
        }
    }

    /** Buffers of one cached pass over up to B rows: ids, embeddings, layer activations, final norm and head. */
    private final class PassBuffers {
        final Tensor ids;                     // [B] I32
        final Tensor embedded;                // [B, d]
        final TransformerStack.Acts layers;   // B rows
        final Tensor rstd;                    // [B]
        final Tensor normed;                  // [B, d]
        final Tensor logits;                  // [B, V]
        final Tensor entropy;                 // [B]

        PassBuffers(int rows) {
            ids = i32(backend, rows);
            embedded = f32(backend, rows, config.dim);
            layers = EntropyModel.this.layers.newActs(rows, false);
            rstd = f32(backend, rows, 1);
            normed = f32(backend, rows, config.dim);
            logits = f32(backend, rows, config.vocabSize);
            entropy = f32(backend, rows, 1).reshape(rows);
        }

        /** Token embeddings [t, d] of tokens[from, from + t). */
        Tensor embed(int[] tokens, int from, int t) {
            Tensor id = first(ids, t);
            backend.upload(tokens, from, id);
            Tensor x = first(embedded, t);
            backend.embedding(tokEmbeddings.value(), id, x, false);
            return x;
        }

        /** Logits [t, V] from the layers' output [t, d]: final norm, then the output head. */
        Tensor head(Tensor h) {
            int t = h.rows();
            Tensor n = first(normed, t);
            norm.forward(h, n, first(rstd, t));
            Tensor out = first(logits, t);
            output.forward(n, out);
            return out;
        }

        /** Entropies (nats) of rows of logits. */
        float[] entropies(Tensor rowsOfLogits) {
            int t = rowsOfLogits.rows();
            Tensor h = first(entropy, t);
            backend.entropy(rowsOfLogits, h);
            float[] out = new float[t];
            backend.download(h, out, 0);
            return out;
        }
    }

    private long passes;

    /** Incremental and batched passes (calls of one block or batch) run so far. */
    public long passes() {
        return passes;
    }

    /** A batch step for up to {@code rows} scorers. */
    public BatchStep batchStep(int rows) {
        return new BatchStep(rows);
    }

    /** Incremental scoring of {@code capacity} tokens (more when needed), fed in blocks of at most {@link #BLOCK}. */
    public Incremental incremental(int capacity) {
        return new Incremental(capacity, BLOCK, 0);
    }

    /** Incremental scoring whose blocks may hold up to {@code maxBlock} tokens (e.g. a whole prompt at once). */
    public Incremental incremental(int capacity, int maxBlock) {
        return new Incremental(capacity, maxBlock, 0);
    }

    /** As {@link #incremental(int, int)}, able to {@link Incremental#truncate} up to {@code slack} tokens back. */
    public Incremental incremental(int capacity, int maxBlock, int slack) {
        return new Incremental(capacity, maxBlock, slack);
    }

    /** Next-byte entropies (nats) for each row of the last forward. */
    public float[] entropies() {
        State s = requireDefaultState();
        backend.entropy(s.logits, s.entropy);
        return s.entropy.toHost();
    }

    /**
     * Mean cross-entropy (nats) of the last forward's logits against {@code targetIds}; rows with weight 0 or a
     * negative target are ignored. Keeps what {@link #backward()} needs.
     */
    public double loss(int[] targetIds, float[] rowWeights) {
        return loss(requireDefaultState(), targetIds, rowWeights);
    }

    public double loss(State s, int[] targetIds, float[] rowWeights) {
        backend.setStage("loss");
        double loss = lossHead.forward(s.logits, targetIds, rowWeights, s.loss);
        backend.setStage(null);
        return loss;
    }

    /** Adds the gradient of the last {@link #loss} into the parameter gradients. */
    @Override
    public void backward() {
        backward(requireDefaultState());
    }

    public void backward(State s) {
        if (!s.training) {
            throw new IllegalStateException("backward on a state made for inference");
        }
        int rows = s.rows * s.bytesPerRow;
        backend.setStage(kind);
        Tensor dLogits = lossHead.backward(s.loss);
        Tensor dNormed = zeroed(backend, s.dNormed, rows);
        output.backward(dLogits, s.normed, dNormed);
        Tensor dHidden = zeroed(backend, s.dHidden, rows);
        norm.backward(dNormed, s.hidden, s.rstd, dHidden);
        Tensor dEmbedded = zeroed(backend, s.dEmbedded, rows);
        layers.backward(dHidden, dEmbedded, s.layers);
        backend.embeddingBackward(dEmbedded, s.ids, tokEmbeddings.grad());
        backend.setStage(null);
    }

    private State requireDefaultState() {
        if (defaultState == null) {
            throw new IllegalStateException("no forward has run yet");
        }
        return defaultState;
    }
}
