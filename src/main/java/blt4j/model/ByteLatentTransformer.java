package blt4j.model;

import blt4j.compute.AttentionMask;
import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.Tensor;
import blt4j.nn.ParameterStore;

/**
 * The Byte Latent Transformer (BLT-REFERENCE §2): local encoder over bytes, latent global transformer over
 * patches, local decoder back to next-byte logits. A batch is rows of n bytes, each with its own patch lengths
 * (the next-byte-slot convention: sum n+1, first patch one byte); rows are flattened so no padding is needed.
 * Parameter names follow the reference checkpoints.
 */
public final class ByteLatentTransformer implements TrainableModel {
    private final BltConfig config;
    private final Backend backend;
    private final ParameterStore store = new ParameterStore();
    private final LocalEncoder encoder;
    private final GlobalTransformer global;
    private final LocalDecoder decoder;

    private Tensor patches;
    private Tensor globalOut;
    private Tensor logits;
    private final blt4j.nn.NextByteLoss lossHead;
    private int bytes;
    private StageTimer stages;

    /** Records time and FLOPs per stage (local encoder, global transformer, local decoder, loss); null stops. */
    public void setStageTimer(StageTimer timer) {
        this.stages = timer;
    }

    private void stage(String name) {
        if (stages != null) {
            stages.begin(name);
        }
    }

    private void endStage() {
        if (stages != null) {
            stages.end();
        }
    }

    public ByteLatentTransformer(BltConfig config, Backend backend) {
        config.validate();
        this.config = config;
        this.backend = backend;
        encoder = new LocalEncoder(config, store, backend);
        global = new GlobalTransformer(config, store, backend);
        decoder = new LocalDecoder(config, store, backend);
        store.allocate(backend);
        lossHead = new blt4j.nn.NextByteLoss(backend);
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

    private Tensor embeds;

    public Activations activations() {
        return new Activations(embeds, encoder.hidden(), patches, globalOut, decoder.preNorm(), logits);
    }

    /** Logits [rows·n, 260] for rows of n token ids with their patch lengths. */
    public Tensor forward(int[] tokens, int rows, int n, int[][] patchLengths) {
        if (tokens.length != rows * n) {
            throw new IllegalArgumentException("forward: " + tokens.length + " ids is not " + rows + " rows of " + n);
        }
        if (n > config.maxEncoderSeqLength) {
            throw new IllegalArgumentException("forward: rows of " + n + " bytes exceed max_encoder_seq_length "
                    + config.maxEncoderSeqLength);
        }
        blt4j.nn.NextByteLoss.requireByteIds(tokens, config.vocabSize);
        stage(StageTimer.PATCHING);
        PatchLayout layout = new PatchLayout(tokens, rows, n, patchLengths, config.eosId);
        for (int[] l : patchLengths) {
            if (l.length > global.maxPatches()) {
                throw new IllegalArgumentException("forward: " + l.length + " patches exceed max_seqlen " + global.maxPatches());
            }
        }
        bytes = tokens.length;
        int[] pos = new int[bytes];
        for (int i = 0; i < bytes; i++) {
            pos[i] = i % n;
        }
        Tensor bytePositions = backend.fromHost(pos, bytes);
        Ranges localMask = AttentionMask.batched(backend, rows, n, config.window(),
                AttentionMask.splitAfter(tokens, config.eosId));
        stage(StageTimer.ENCODER);
        embeds = encoder.embed(tokens, rows, n);
        Tensor hidden = encoder.encode(bytePositions, localMask);
        patches = encoder.patches(layout, layout.patchBytes(backend), layout.encoderSlots(backend, config.crossAttnK));
        stage(StageTimer.GLOBAL);
        Tensor patchPositions = backend.fromHost(layout.patchPositions(), layout.totalPatches());
        globalOut = global.forward(patches, patchPositions, layout.globalMask(backend));
        stage(StageTimer.DECODER);
        logits = decoder.forward(hidden, globalOut, bytePositions, localMask, layout.decoderSlots(backend, config.crossAttnK));
        endStage();
        return logits;
    }

    /**
     * Incremental decoding state (BLT-REFERENCE §10.2): each new byte costs local work (encoder and decoder steps
     * with KV caches); each completed patch costs one global step.
     */
    public final class Incremental {
        private final blt4j.nn.KvCache[] encoderCaches;
        private final blt4j.nn.KvCache[] globalCaches;
        private final blt4j.nn.KvCache[] decoderCaches;
        private final Tensor states;
        private int length;
        private int patches;
        private Tensor slots;

        private Incremental(int capacity) {
            if (capacity > config.maxEncoderSeqLength) {
                throw new IllegalArgumentException("generation capacity " + capacity + " exceeds max_encoder_seq_length "
                        + config.maxEncoderSeqLength);
            }
            encoderCaches = encoder.newCaches(capacity);
            globalCaches = global.newCaches(capacity);
            decoderCaches = decoder.newCaches(capacity);
            states = backend.zeros(capacity, config.dimLocalEncoder);
        }

        /** Runs the encoder on tokens[length] (the next token of the sequence). */
        public void appendToken(int[] tokens) {
            stage(StageTimer.ENCODER);
            Tensor h = encoder.stepByte(tokens, length, encoderCaches);
            backend.copy(h, states.rowSlice(length, length + 1));
            length++;
            endStage();
        }

        /** Closes the patch of encoder positions [start, length) with one global step. */
        public void completePatch(int start) {
            stage(StageTimer.ENCODER);
            Tensor vec = encoder.patchVector(states.rowSlice(start, length));
            stage(StageTimer.GLOBAL);
            Tensor o = global.step(vec, patches, globalCaches);
            stage(StageTimer.DECODER);
            slots = decoder.slotsOf(o);
            patches++;
            endStage();
        }

        /** Logits [1, 260] predicting the token after the last appended one. */
        public Tensor decode() {
            if (slots == null) {
                throw new IllegalStateException("no completed patch yet: the BOS patch must be completed first");
            }
            stage(StageTimer.DECODER);
            Tensor out = decoder.step(states.rowSlice(length - 1, length), slots, length - 1, decoderCaches);
            endStage();
            return out;
        }

        public int patches() {
            return patches;
        }

        public int length() {
            return length;
        }
    }

    public Incremental incremental(int capacity) {
        return new Incremental(capacity);
    }

    /** Mean next-byte cross-entropy (nats) of the last forward; weight 0 or a negative target skips a byte. */
    public double loss(int[] targetIds, float[] rowWeights) {
        stage(StageTimer.LOSS);
        double loss = lossHead.forward(logits, targetIds, rowWeights);
        endStage();
        return loss;
    }

    /** Adds the gradient of the last {@link #loss} into the parameter gradients. */
    @Override
    public void backward() {
        stage(StageTimer.LOSS);
        Tensor dLogits = lossHead.backward();
        stage(StageTimer.DECODER);
        Tensor dHidden = backend.zeros(bytes, config.dimLocalEncoder);
        Tensor dGlobal = backend.zeros(globalOut.rows(), config.dimGlobal);
        decoder.backward(dLogits, dHidden, dGlobal);
        stage(StageTimer.GLOBAL);
        Tensor dPatches = backend.zeros(patches.rows(), patches.cols());
        global.backward(dGlobal, dPatches);
        stage(StageTimer.ENCODER);
        encoder.backward(dPatches, dHidden);
        endStage();
    }
}
