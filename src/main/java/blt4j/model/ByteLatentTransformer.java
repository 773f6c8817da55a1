package blt4j.model;

import static blt4j.nn.Buffers.f32;
import static blt4j.nn.Buffers.first;
import static blt4j.nn.Buffers.i32;
import static blt4j.nn.Buffers.zeroed;

import blt4j.compute.AttentionMask;
import blt4j.compute.Backend;
import blt4j.compute.DType;
import blt4j.compute.Ranges;
import blt4j.compute.Tensor;
import blt4j.compute.ReferenceBackend;
import blt4j.nn.HashRows;
import blt4j.nn.NextByteLoss;
import blt4j.nn.Parameter;
import blt4j.nn.ParameterStore;
import blt4j.nn.RangeBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * The Byte Latent Transformer (BLT-REFERENCE §2). A batch is rows of n bytes, each with its own patch lengths
 * (next-byte-slot convention: sum n+1, first patch one byte); rows are flattened so no padding is needed.
 * Parameter names follow the reference checkpoints.
 *
 * <pre>
 *  token ids [T] ──► tok_embeddings ─┐
 *  hash n-gram ids (n = 3..8) ──► Σ encoder_hash_tok_embedding ─┴─► embeds [T, d_local]
 *                                                                      │ local encoder layers (window 512)
 *                                                                      ▼
 *                                                             byte states h [T, d_local] ───────────────┐
 *  patch lengths ──► PatchLayout ─► max-pool per patch ─► projection to k slots                        │
 *                                      └─► cross-attention (slots → the patch's bytes, 2·x + attn)      │
 *                                                                      ▼                                │
 *                                                         patches [P, k·d_local]                        │
 *                                                                      │ global transformer (causal     │
 *                                                                      ▼  over patches, no final norm)  │
 *                                                         global out [P, d_global]                      │
 *                                                                      │ projection to k slots          │
 *                                                                      ▼                                ▼
 *                         local decoder: per layer cross-attention (byte i → slots of the patch before
 *                         the one holding byte i+1), then a window-512 block; RMSNorm; output head
 *                                                                      ▼
 *                                                            logits [T, 260]
 * </pre>
 *
 * Layers keep no activations: a batch's live in a {@link State} sized once by (rows, bytes per row, patch
 * capacity), a generation's in an {@link IncrementalBlt} of its own, so neither can overwrite the other.
 */
public final class ByteLatentTransformer implements TrainableModel {
    private final BltConfig config;
    private final Backend backend;
    private final ParameterStore store = new ParameterStore();
    private final LocalEncoder encoder;
    private final GlobalTransformer global;
    private final LocalDecoder decoder;
    private final NextByteLoss lossHead;
    private StageTimer stages;
    private State defaultState;
    private State evaluationState;

    /** A trainable model: every weight, hash tables included, in the parameter buffer. */
    public ByteLatentTransformer(BltConfig config, Backend backend) {
        this(config, backend, null, DType.F32, false, true);
    }

    private ByteLatentTransformer(BltConfig config, Backend backend, HashRows[] fileTables, DType matrices,
                                  boolean matricesInFile, boolean allocate) {
        if (!allocate) {
            config.validateFields("config");
        } else if (fileTables != null) {
            config.validateWithTablesInFile(matrices == DType.BF16, matricesInFile);
        } else {
            config.validate();
        }
        this.config = config;
        this.backend = backend;
        encoder = new LocalEncoder(config.encoder(), store, backend, fileTables);
        global = new GlobalTransformer(config.global(), store, backend);
        decoder = new LocalDecoder(config.decoder(), store, backend);
        if (allocate) {
            store.allocate(backend, matrices);
        }
        lossHead = new NextByteLoss(backend, config.vocabSize);
    }

    /**
     * A model for inference whose hash tables are read where they lie ({@code tables[i]} is table i, n-gram sizes
     * varying fastest); its parameter buffer holds every other weight. It cannot be trained.
     */
    public static ByteLatentTransformer withHashTables(BltConfig config, Backend backend, HashRows[] tables) {
        return withHashTables(config, backend, tables, DType.F32);
    }

    /** {@link #withHashTables(BltConfig, Backend, HashRows[])} with the Linear weights held as {@code matrices} (F32 or BF16). */
    public static ByteLatentTransformer withHashTables(BltConfig config, Backend backend, HashRows[] tables, DType matrices) {
        return withHashTables(config, backend, tables, matrices, false);
    }

    /** @param matricesInFile the bf16 matrix weights will be read in place from their file (no heap for them) */
    public static ByteLatentTransformer withHashTables(BltConfig config, Backend backend, HashRows[] tables, DType matrices,
                                                       boolean matricesInFile) {
        return new ByteLatentTransformer(config, backend, tables, matrices, matricesInFile, true);
    }

    /** Every parameter a config declares (names, shapes, initialisation, hash tables included), nothing allocated. */
    public static List<Parameter> declaredParameters(BltConfig config) {
        try (Backend scratch = new ReferenceBackend()) {
            return new ByteLatentTransformer(config, scratch, null, DType.F32, false, false).store.all();
        }
    }

    /** The parameter name of hash table i. */
    public static String hashTableName(int i) {
        return LocalEncoder.tableName(i);
    }

    /** True when the hash tables are read from their file (an inference-only model). */
    public boolean hashTablesInFile() {
        return encoder.tablesInFile();
    }

    /**
     * Every buffer of one batch shape: inputs, saved activations and gradient scratch of every stage. T = rows·n
     * bytes, P = patch capacity (a batch with more patches needs a larger state, see {@link #stateFor}).
     */
    public final class State {
        final int rows;
        final int bytesPerRow;
        final int patchCapacity;
        final boolean training;
        final Tensor positions;               // [T] I32 local RoPE positions (byte index within its row), uploaded once
        final RangeBuffer localMask;          // [T] causal ∧ window ∧ document, shared by encoder and decoder
        final RangeBuffer patchBytes;         // [P] bytes of each patch (pooling)
        final RangeBuffer encoderSlots;       // [P·k] slot r of patch p sees the bytes of patch p
        final RangeBuffer decoderSlots;       // [T] byte i sees the k slots of its decoder patch
        final RangeBuffer globalMask;         // [P] block-causal over each row's patches
        final Tensor patchPositions;          // [P] I32 global RoPE positions (patch index within its row)
        final LocalEncoder.Acts encoder;
        final GlobalTransformer.Acts global;
        final LocalDecoder.Acts decoder;
        final NextByteLoss.Acts loss;
        final Tensor dHidden;                 // [T, d_local] gradient of the byte states (decoder + encoder)
        final Tensor dGlobal;                 // [P, d_global]
        final Tensor dPatches;                // [P, k·d_local]
        final boolean[] docEnd;               // [T] host: EOS positions of the current batch
        Tensor embeds;                        // views of the last forward
        Tensor patches;
        Tensor globalOut;
        Tensor logits;
        int patchCount;

        private State(int rows, int n, int patchCapacity, boolean training) {
            int t = rows * n;
            this.rows = rows;
            this.bytesPerRow = n;
            this.patchCapacity = patchCapacity;
            this.training = training;
            int k = config.crossAttnK;
            positions = i32(backend, t);
            int[] pos = new int[t];
            for (int i = 0; i < t; i++) {
                pos[i] = i % n;
            }
            backend.upload(pos, positions);
            localMask = new RangeBuffer(backend, t);
            patchBytes = new RangeBuffer(backend, patchCapacity);
            encoderSlots = new RangeBuffer(backend, patchCapacity * k);
            decoderSlots = new RangeBuffer(backend, t);
            globalMask = new RangeBuffer(backend, patchCapacity);
            patchPositions = i32(backend, patchCapacity);
            encoder = ByteLatentTransformer.this.encoder.newActs(t, patchCapacity, training);
            global = ByteLatentTransformer.this.global.newActs(patchCapacity, training);
            decoder = ByteLatentTransformer.this.decoder.newActs(t, patchCapacity, training);
            loss = lossHead.newActs(t, training);
            dHidden = training ? f32(backend, t, config.dimLocalEncoder) : null;
            dGlobal = training ? f32(backend, patchCapacity, config.dimGlobal) : null;
            dPatches = training ? f32(backend, patchCapacity, k * config.dimLocalEncoder) : null;
            docEnd = new boolean[t];
        }

        public int rows() {
            return rows;
        }

        public int bytesPerRow() {
            return bytesPerRow;
        }

        public int patchCapacity() {
            return patchCapacity;
        }
    }

    /** A state for rows of n bytes with room for {@code patches} patches, rounded up to a capacity bucket. */
    public State newState(int rows, int n, int patches, boolean training) {
        return new State(rows, n, patchBucket(patches, rows * (n + 1)), training);
    }

    /** Patch capacities grow in powers of two (at least 16, at most the most a batch can have). */
    static int patchBucket(int patches, int most) {
        int c = 16;
        while (c < patches) {
            c *= 2;
        }
        return Math.max(patches, Math.min(c, most));
    }

    /** {@code current} if it fits the batch, else a new state of the next bucket (so growth is rare, not per step). */
    public State stateFor(State current, int rows, int n, int patches, boolean training) {
        if (current != null && current.rows == rows && current.bytesPerRow == n && current.patchCapacity >= patches
                && (current.training || !training)) {
            return current;
        }
        int floor = current != null && current.rows == rows && current.bytesPerRow == n ? current.patchCapacity * 2 : 0;
        return newState(rows, n, Math.max(patches, floor), training);
    }

    /** Records time and FLOPs per stage (local encoder, global transformer, local decoder, loss); null stops. */
    public void setStageTimer(StageTimer timer) {
        this.stages = timer;
    }

    void stage(String name) {
        backend.setStage(name.replace(' ', '_'));
        if (stages != null) {
            stages.begin(name);
        }
    }

    void endStage() {
        backend.setStage(null);
        if (stages != null) {
            stages.end();
        }
    }

    @Override
    public String kind() {
        return "blt";
    }

    @Override
    public String configJson() {
        return config.toJson();
    }

    @Override
    public double forwardLoss(Batch batch) {
        if (batch.patchLengths() == null) {
            throw new IllegalArgumentException("BLT batches need patch lengths");
        }
        forward(batch.inputs(), batch.rows(), batch.seqLen(), batch.patchLengths());
        return loss(batch.targets(), batch.weights());
    }

    @Override
    public double evaluateLoss(Batch batch) {
        if (batch.patchLengths() == null) {
            throw new IllegalArgumentException("BLT batches need patch lengths");
        }
        evaluationState = stateFor(evaluationState, batch.rows(), batch.seqLen(), countPatches(batch.patchLengths()), false);
        forward(evaluationState, batch.inputs(), batch.patchLengths());
        return loss(evaluationState, batch.targets(), batch.weights());
    }

    public BltConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    @Override
    public ParameterStore parameters() {
        return store;
    }

    public ByteLatentTransformer initialize(long seed) {
        store.initialize(seed);
        return this;
    }

    /** Activations of the last forward, for cross-checks with other implementations. */
    public record Activations(Tensor embeds, Tensor encoderHidden, Tensor globalIn, Tensor globalOut, Tensor decoderPreNorm,
                              Tensor logits) {}

    public Activations activations() {
        State s = requireDefaultState();
        return new Activations(s.embeds, s.encoder.hidden, s.patches, s.globalOut, s.decoder.preNorm, s.logits);
    }

    /** Logits [rows·n, 260] for rows of n token ids with their patch lengths, in the model's own training state. */
    public Tensor forward(int[] tokens, int rows, int n, int[][] patchLengths) {
        // an inference-only model (hash tables in their file) keeps no gradient buffers
        defaultState = stateFor(defaultState, rows, n, countPatches(patchLengths), !hashTablesInFile());
        return forward(defaultState, tokens, patchLengths);
    }

    /** Mean next-byte cross-entropy (nats) of the last {@link #forward}; weight 0 or a negative target skips a byte. */
    public double loss(int[] targetIds, float[] rowWeights) {
        return loss(requireDefaultState(), targetIds, rowWeights);
    }

    /** Adds the gradient of the last {@link #loss} into the parameter gradients. */
    @Override
    public void backward() {
        backward(requireDefaultState());
    }

    private State requireDefaultState() {
        if (defaultState == null) {
            throw new IllegalStateException("no forward has run yet");
        }
        return defaultState;
    }

    private static int countPatches(int[][] lengths) {
        int total = 0;
        for (int[] l : lengths) {
            total += l.length;
        }
        return total;
    }

    /** Logits [rows·n, 260] (a view into {@code s}) for the state's rows of n token ids with their patch lengths. */
    public Tensor forward(State s, int[] tokens, int[][] patchLengths) {
        int rows = s.rows;
        int n = s.bytesPerRow;
        if (tokens.length != rows * n) {
            throw new IllegalArgumentException("forward: " + tokens.length + " ids is not " + rows + " rows of " + n);
        }
        if (n > config.maxEncoderSeqLength) {
            throw new IllegalArgumentException("forward: rows of " + n + " bytes exceed max_encoder_seq_length "
                    + config.maxEncoderSeqLength);
        }
        stage(StageTimer.PATCHING);
        PatchLayout layout = new PatchLayout(tokens, rows, n, patchLengths, config.eosId);
        for (int[] l : patchLengths) {
            if (l.length > global.maxPatches()) {
                throw new IllegalArgumentException("forward: " + l.length + " patches exceed max_seqlen " + global.maxPatches());
            }
        }
        int p = layout.totalPatches();
        if (p > s.patchCapacity) {
            throw new IllegalArgumentException("forward: " + p + " patches exceed the state's capacity of " + s.patchCapacity
                    + " (use stateFor to grow it)");
        }
        s.patchCount = p;
        for (int i = 0; i < tokens.length; i++) {
            s.docEnd[i] = tokens[i] == config.eosId;
        }
        AttentionMask.fillBatched(rows, n, config.window(), s.docEnd, s.localMask.lo, s.localMask.hi);
        Ranges localMask = s.localMask.ranges(tokens.length);
        Ranges patchBytes = layout.patchBytes(s.patchBytes);
        Ranges encoderSlots = layout.encoderSlots(s.encoderSlots, config.crossAttnK);
        Ranges decoderSlots = layout.decoderSlots(s.decoderSlots, config.crossAttnK);
        Ranges globalMask = layout.globalMask(s.globalMask);
        Tensor patchPositions = first(s.patchPositions, p);
        backend.upload(layout.patchPositions(), patchPositions);
        stage(StageTimer.ENCODER);
        s.embeds = encoder.embed(tokens, rows, n, s.encoder);
        Tensor hidden = encoder.encode(s.positions, localMask, s.encoder);
        s.patches = encoder.patches(p, patchBytes, encoderSlots, s.encoder);
        stage(StageTimer.GLOBAL);
        s.globalOut = global.forward(s.patches, patchPositions, globalMask, s.global);
        stage(StageTimer.DECODER);
        s.logits = decoder.forward(hidden, s.globalOut, s.positions, localMask, decoderSlots, s.decoder);
        endStage();
        return s.logits;
    }

    /** Mean next-byte cross-entropy (nats) of the state's last forward. */
    public double loss(State s, int[] targetIds, float[] rowWeights) {
        stage(StageTimer.LOSS);
        double loss = lossHead.forward(s.logits, targetIds, rowWeights, s.loss);
        endStage();
        return loss;
    }

    /** Adds the gradient of the state's last {@link #loss(State, int[], float[])} into the parameter gradients. */
    public void backward(State s) {
        if (!s.training) {
            throw new IllegalStateException("backward on a state made for inference");
        }
        stage(StageTimer.LOSS);
        Tensor dLogits = lossHead.backward(s.loss);
        stage(StageTimer.DECODER);
        int bytes = s.rows * s.bytesPerRow;
        Tensor dHidden = zeroed(backend, s.dHidden, bytes);
        Tensor dGlobal = zeroed(backend, s.dGlobal, s.patchCount);
        decoder.backward(dLogits, dHidden, dGlobal, s.decoder);
        stage(StageTimer.GLOBAL);
        Tensor dPatches = zeroed(backend, s.dPatches, s.patchCount);
        global.backward(dGlobal, dPatches, s.global);
        stage(StageTimer.ENCODER);
        encoder.backward(dPatches, dHidden, s.encoder);
        endStage();
    }

    /** Byte-by-byte incremental decoding, buffers sized for {@code capacity} bytes (they grow past it). */
    public IncrementalBlt incremental(int capacity) {
        return new IncrementalBlt(this, capacity, 1, 0);
    }

    /** Incremental decoding whose {@link IncrementalBlt#prefill} takes up to {@code block} bytes at once. */
    public IncrementalBlt incremental(int capacity, int block) {
        return new IncrementalBlt(this, capacity, block, 0);
    }

    /** As {@link #incremental(int, int)}, able to roll back up to {@code slack} positions (speculative decoding). */
    public IncrementalBlt incremental(int capacity, int block, int slack) {
        return new IncrementalBlt(this, capacity, block, slack);
    }

    private final PassCounts passCounts = new PassCounts();

    /** Passes of each part generation has run so far (all incremental and batched generations of this model). */
    public PassCounts passCounts() {
        return passCounts;
    }

    LocalEncoder encoder() {
        return encoder;
    }

    GlobalTransformer global() {
        return global;
    }

    LocalDecoder decoder() {
        return decoder;
    }
}
