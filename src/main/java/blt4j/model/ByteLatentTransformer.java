package blt4j.model;

import static blt4j.nn.Buffers.f32;
import static blt4j.nn.Buffers.first;
import static blt4j.nn.Buffers.i32;
import static blt4j.nn.Buffers.zeroed;

import blt4j.compute.AttentionMask;
import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.Tensor;
import blt4j.nn.NextByteLoss;
import blt4j.nn.ParameterStore;
import blt4j.nn.RangeBuffer;
import java.util.Arrays;

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
 * capacity), a generation's in an {@link Incremental} of its own, so neither can overwrite the other.
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

    public ByteLatentTransformer(BltConfig config, Backend backend) {
        config.validate();
        this.config = config;
        this.backend = backend;
        encoder = new LocalEncoder(config.encoder(), store, backend);
        global = new GlobalTransformer(config.global(), store, backend);
        decoder = new LocalDecoder(config.decoder(), store, backend);
        store.allocate(backend);
        lossHead = new NextByteLoss(backend, config.vocabSize);
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

    private void stage(String name) {
        backend.setStage(name.replace(' ', '_'));
        if (stages != null) {
            stages.begin(name);
        }
    }

    private void endStage() {
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
        defaultState = stateFor(defaultState, rows, n, countPatches(patchLengths), true);
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

    /**
     * Incremental decoding state (BLT-REFERENCE §10.2): each new byte costs local work (encoder and decoder steps
     * with KV caches); each completed patch costs one global step. A prompt can be taken in one block first
     * ({@link #prefill}). Owns all its buffers.
     */
    public final class Incremental {
        private final LocalEncoder.Step encoderStep;
        private final GlobalTransformer.Step globalStep;
        private final LocalDecoder.Step decoderStep;
        private final int[] oneStart = new int[1];
        private final int[] oneEnd = new int[1];
        private int length;

        private Incremental(int capacity, int block) {
            if (capacity > config.maxEncoderSeqLength) {
                throw new IllegalArgumentException("generation capacity " + capacity + " exceeds max_encoder_seq_length "
                        + config.maxEncoderSeqLength);
            }
            if (block < 1 || block > capacity) {
                throw new IllegalArgumentException("incremental block of " + block + " bytes for a capacity of " + capacity);
            }
            encoderStep = encoder.newStep(capacity, block);
            globalStep = global.newStep(capacity, block);
            decoderStep = decoder.newStep(capacity, block);
        }

        /**
         * Takes the first n tokens in one block: the encoder over all of them, one global block over every patch
         * they complete, the decoder over all of them (filling every cache). {@code startFlags[q]} (q = 0..n) says
         * whether position q starts a patch; q = 0 and 1 must. Returns the logits [1, 260] predicting token n;
         * afterwards the open patch starts at {@link #openPatchStart()}.
         */
        public Tensor prefill(int[] tokens, int n, boolean[] startFlags) {
            if (length != 0) {
                throw new IllegalStateException("prefill needs an empty state; " + length + " tokens were appended");
            }
            if (n < 1 || n > encoderStep.block || startFlags.length < n + 1 || !startFlags[0] || !startFlags[1]) {
                throw new IllegalArgumentException("prefill of " + n + " tokens needs 1.." + encoderStep.block
                        + " tokens and start flags for positions 0.." + n + " with 0 and 1 set");
            }
            stage(StageTimer.ENCODER);
            encoder.stepBytes(tokens, 0, n, encoderStep);
            length = n;
            int[] starts = new int[n + 1];
            int count = 0;
            for (int q = 0; q <= n; q++) {
                if (startFlags[q]) {
                    starts[count++] = q;
                }
            }
            int m = count - 1; // patch j = [starts[j], starts[j + 1]) is complete once position starts[j + 1] is decided
            int[] ends = Arrays.copyOfRange(starts, 1, count);
            Tensor vectors = encoder.patchVectors(starts, ends, m, encoderStep);
            stage(StageTimer.GLOBAL);
            Tensor out = global.steps(vectors, globalStep);
            stage(StageTimer.DECODER);
            decoder.setPatches(out, decoderStep);
            int[] patchOf = new int[n];
            int completed = 0;
            for (int p = 0; p < n; p++) {
                while (completed < m && ends[completed] <= p + 1) {
                    completed++;
                }
                patchOf[p] = completed - 1; // the patch before the one holding byte p + 1
            }
            Tensor logits = decoder.stepBlock(encoderStep.states.rowSlice(0, n), 0, patchOf, decoderStep, false);
            openStart = starts[count - 1];
            endStage();
            return logits;
        }

        private int openStart;

        /** Where the patch still open after {@link #prefill} starts. */
        public int openPatchStart() {
            return openStart;
        }

        /** Runs the encoder on tokens[length] (the next token of the sequence). */
        public void appendToken(int[] tokens) {
            stage(StageTimer.ENCODER);
            encoder.stepBytes(tokens, length, 1, encoderStep);
            length++;
            endStage();
        }

        // bookkeeping of the last verify(), for rollback()
        private int verifyFrom;
        private int verifyPatchesBefore;
        private int[] verifyCompletedBy = new int[0];
        private int[] verifyOpenAfter = new int[0];

        /**
         * Speculative verification: positions [from, from + n) are already encoded (drafted), and the decoder ran over
         * the first n − 1 of them with the patch that was current; {@code startFlags[i]} says whether position
         * from + 1 + i starts a patch. Completes those patches (one global block) and re-runs the decoder, with the
         * slots each byte really reads, over the positions whose patch changed: the leading {@link #reusedRows()}
         * positions read the same patch as in the draft, so their decoder rows and logits stand. Returns the logits
         * [n − reused, 260] of the rest (row i predicts token from + reused + 1 + i).
         */
        public Tensor verify(int from, int n, boolean[] startFlags) {
            if (length != from + n || n < 1 || n > encoderStep.block || startFlags.length < n) {
                throw new IllegalArgumentException("verify of positions [" + from + ", " + (from + n) + ") with " + length
                        + " encoded and a block of " + encoderStep.block);
            }
            int[] starts = new int[n];
            int[] ends = new int[n];
            verifyCompletedBy = new int[n + 1];
            verifyOpenAfter = new int[n + 1];
            verifyOpenAfter[0] = openStart;
            int open = openStart;
            int m = 0;
            for (int i = 0; i < n; i++) {
                int q = from + 1 + i;
                if (startFlags[i]) {
                    starts[m] = open;
                    ends[m] = q;
                    m++;
                    open = q;
                }
                verifyCompletedBy[i + 1] = m;
                verifyOpenAfter[i + 1] = open;
            }
            verifyFrom = from;
            verifyPatchesBefore = globalStep.patches;
            int reused = 0;
            while (reused < n - 1 && verifyCompletedBy[reused + 1] == 0) {
                reused++;
            }
            verifyReused = reused;
            stage(StageTimer.DECODER);
            decoderStep.truncate(from + reused);
            decoder.keepOnly(decoderStep.slotPatches - 1, decoderStep); // buffer index 0: the patch current before
            if (m > 0) {
                stage(StageTimer.ENCODER);
                Tensor vectors = encoder.patchVectors(starts, ends, m, encoderStep);
                stage(StageTimer.GLOBAL);
                Tensor out = global.steps(vectors, globalStep);
                stage(StageTimer.DECODER);
                decoder.appendPatches(out, decoderStep);
            }
            int[] patchOf = new int[n - reused];
            for (int i = reused; i < n; i++) {
                patchOf[i - reused] = verifyCompletedBy[i + 1]; // the last patch completed once from + 1 + i is decided
            }
            Tensor logits = decoder.stepBlock(encoderStep.states.rowSlice(from + reused, from + n), from + reused, patchOf,
                    decoderStep, true);
            endStage();
            return logits;
        }

        private int verifyReused;

        /** Leading positions of the last {@link #verify} whose draft decoder results stood (no new patch yet). */
        public int reusedRows() {
            return verifyReused;
        }

        /**
         * Keeps the first {@code kept} positions of the last {@link #verify} (and the patch decisions they made) and
         * forgets the rest in every cache: encoder, global model, decoder.
         */
        public void rollback(int kept) {
            int n = verifyCompletedBy.length - 1;
            if (kept < 1 || kept > n) {
                throw new IllegalArgumentException("rollback keeps 1.." + n + " positions, got " + kept);
            }
            int newLength = verifyFrom + kept;
            encoderStep.truncate(newLength);
            length = newLength;
            globalStep.truncate(verifyPatchesBefore + verifyCompletedBy[kept]);
            decoderStep.truncate(newLength);
            decoder.keepOnly(verifyCompletedBy[kept], decoderStep);
            openStart = verifyOpenAfter[kept];
        }

        /** Closes the patch of encoder positions [start, length) with one global step. */
        public void completePatch(int start) {
            stage(StageTimer.ENCODER);
            openStart = length;
            oneStart[0] = start;
            oneEnd[0] = length;
            Tensor vec = encoder.patchVectors(oneStart, oneEnd, 1, encoderStep);
            stage(StageTimer.GLOBAL);
            Tensor o = global.steps(vec, globalStep);
            stage(StageTimer.DECODER);
            decoder.setPatches(o, decoderStep);
            endStage();
        }

        /** Logits [1, 260] predicting the token after the last appended one (valid until the next call). */
        public Tensor decode() {
            if (!decoderStep.hasSlots) {
                throw new IllegalStateException("no completed patch yet: the BOS patch must be completed first");
            }
            stage(StageTimer.DECODER);
            Tensor out = decoder.step(encoderStep.states.rowSlice(length - 1, length), length - 1, decoderStep);
            endStage();
            return out;
        }

        public int patches() {
            return globalStep.patches;
        }

        public int length() {
            return length;
        }
    }

    /** Byte-by-byte incremental decoding of up to {@code capacity} bytes. */
    public Incremental incremental(int capacity) {
        return new Incremental(capacity, 1);
    }

    /** Incremental decoding whose {@link Incremental#prefill} takes up to {@code block} bytes at once. */
    public Incremental incremental(int capacity, int block) {
        return new Incremental(capacity, block);
    }
}
