package blt4j.model;

import blt4j.compute.Tensor;
import blt4j.nn.KvCache;
import java.util.Arrays;

/**
 * Incremental decoding state (BLT-REFERENCE §10.2): each new byte costs local work (encoder and decoder steps
 * with KV caches); each completed patch costs one global step. A prompt can be taken in one block first
 * ({@link #prefill}). Owns all its buffers.
 */
public final class IncrementalBlt {
    private final ByteLatentTransformer blt;
    private final LocalEncoder encoder;
    private final GlobalTransformer global;
    private final LocalDecoder decoder;
    private final LocalEncoder.Step encoderStep;
    private final GlobalTransformer.Step globalStep;
    private final LocalDecoder.Step decoderStep;
    private final int[] oneStart = new int[1];
    private final int[] oneEnd = new int[1];
    private int length;

    /**
     * @param capacity positions expected (buffers start at this size, or at what the local windows need, and grow past
     *                 it); @param block most positions per call; @param slack most positions a {@link #rollback} removes
     */
    IncrementalBlt(ByteLatentTransformer blt, int capacity, int block, int slack) {
        this.blt = blt;
        this.encoder = blt.encoder();
        this.global = blt.global();
        this.decoder = blt.decoder();
        if (block < 1 || block > capacity || slack < 0) {
            throw new IllegalArgumentException("incremental block of " + block + " bytes for a capacity of " + capacity);
        }
        encoderStep = encoder.newStep(capacity, block, slack);
        globalStep = global.newStep(capacity, block);
        decoderStep = decoder.newStep(capacity, block, slack);
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
        blt.stage(StageTimer.ENCODER);
        PassCounts c = blt.passCounts();
        c.encoderPasses++;
        c.decoderPasses++;
        encoder.stepBytes(tokens, 0, n, 0, encoderStep);
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
        blt.stage(StageTimer.GLOBAL);
        Tensor out = global.steps(vectors, globalStep);
        c.globalPasses++;
        c.globalPatches += m;
        blt.stage(StageTimer.DECODER);
        decoder.setPatches(out, decoderStep);
        int[] patchOf = new int[n];
        int completed = 0;
        for (int p = 0; p < n; p++) {
            while (completed < m && ends[completed] <= p + 1) {
                completed++;
            }
            patchOf[p] = completed - 1; // the patch before the one holding byte p + 1
        }
        Tensor logits = decoder.stepBlock(encoderStep.states(0, n), 0, patchOf, decoderStep, false);
        openStart = starts[count - 1];
        blt.endStage();
        return logits;
    }

    private int openStart;

    /** Where the patch still open after {@link #prefill} starts. */
    public int openPatchStart() {
        return openStart;
    }

    /** Runs the encoder on tokens[length] (the next token of the sequence). */
    public void appendToken(int[] tokens) {
        blt.stage(StageTimer.ENCODER);
        encoder.stepBytes(tokens, length, 1, openStart, encoderStep);
        blt.passCounts().encoderPasses++;
        length++;
        blt.endStage();
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
        blt.stage(StageTimer.DECODER);
        decoderStep.truncate(from + reused);
        decoder.keepOnly(decoderStep.slotPatches - 1, decoderStep); // buffer index 0: the patch current before
        if (m > 0) {
            blt.stage(StageTimer.ENCODER);
            Tensor vectors = encoder.patchVectors(starts, ends, m, encoderStep);
            blt.stage(StageTimer.GLOBAL);
            Tensor out = global.steps(vectors, globalStep);
            blt.passCounts().globalPasses++;
            blt.passCounts().globalPatches += m;
            blt.stage(StageTimer.DECODER);
            decoder.appendPatches(out, decoderStep);
        }
        blt.passCounts().decoderPasses++;
        int[] patchOf = new int[n - reused];
        for (int i = reused; i < n; i++) {
            patchOf[i - reused] = verifyCompletedBy[i + 1]; // the last patch completed once from + 1 + i is decided
        }
        Tensor logits = decoder.stepBlock(encoderStep.states(from + reused, from + n), from + reused, patchOf,
                decoderStep, true);
        blt.endStage();
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

    /** Closes the open patch, encoder positions [{@link #openPatchStart()}, length), with one global step. */
    public void completePatch() {
        blt.stage(StageTimer.ENCODER);
        Tensor vec = closeOpenPatch();
        blt.stage(StageTimer.GLOBAL);
        Tensor o = global.steps(vec, globalStep);
        blt.passCounts().globalPasses++;
        blt.passCounts().globalPatches++;
        blt.stage(StageTimer.DECODER);
        decoder.setPatches(o, decoderStep);
        blt.endStage();
    }

    /** Logits [1, 260] predicting the token after the last appended one (valid until the next call). */
    public Tensor decode() {
        if (!decoderStep.hasSlots) {
            throw new IllegalStateException("no completed patch yet: the BOS patch must be completed first");
        }
        blt.stage(StageTimer.DECODER);
        Tensor out = decoder.step(encoderStep.states(length - 1, length), length - 1, decoderStep);
        blt.passCounts().decoderPasses++;
        blt.endStage();
        return out;
    }

    /** The patch vector [1, k·d] of the open patch [openStart, length), which closes (valid until the next call). */
    Tensor closeOpenPatch() {
        oneStart[0] = openStart;
        oneEnd[0] = length;
        openStart = length;
        return encoder.patchVectors(oneStart, oneEnd, 1, encoderStep);
    }

    LocalEncoder.Step encoderStep() {
        return encoderStep;
    }

    GlobalTransformer.Step globalStep() {
        return globalStep;
    }

    LocalDecoder.Step decoderStep() {
        return decoderStep;
    }

    /** A batched step encoded this generation's next token. */
    void appended() {
        length++;
    }

    /**
     * Rows held by the local caches: the encoder's and decoder's KV caches (per layer, summed) and the encoder states.
     * Bounded by the windows, however long the generation (the global cache grows by one row per patch instead).
     */
    public long localCacheRows() {
        long rows = encoderStep.states.capacity();
        for (KvCache c : encoderStep.caches) {
            rows += c.capacity();
        }
        for (KvCache c : decoderStep.caches) {
            rows += c.capacity();
        }
        return rows;
    }

    /** Rows held by the global model's KV caches (per layer, summed). */
    public long globalCacheRows() {
        long rows = 0;
        for (KvCache c : globalStep.caches) {
            rows += c.capacity();
        }
        return rows;
    }

    public int patches() {
        return globalStep.patches;
    }

    public int length() {
        return length;
    }
}
