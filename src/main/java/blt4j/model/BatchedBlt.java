package blt4j.model;

import blt4j.compute.Tensor;
import blt4j.nn.Buffers;

/**
 * Several {@link IncrementalBlt} generations stepped together, one new byte each per step: every matmul runs over
 * all of their rows at once, attention row by row over each generation's own caches, and the global step over the
 * generations whose patch just closed. Each row gets exactly the bits it would get stepped alone (the backends'
 * small-row matmuls are row-invariant), so batched output equals one-at-a-time output.
 */
public final class BatchedBlt {
    private final ByteLatentTransformer blt;
    private final LocalEncoder.BatchStep encoderBatch;
    private final GlobalTransformer.BatchStep globalBatch;
    private final LocalDecoder.BatchStep decoderBatch;
    private final Tensor patchRows;           // [B, k·d_local] patch vectors of the generations completing one
    private final int rows;
    private Tensor latestStates;              // [n, d_local] encoder states of the last appended bytes
    private final int[] positions;
    private final int[] keepStatesFrom;

    /** Most generations one batched step takes: the row-invariant matmuls cover this many rows (and k slots each). */
    public static int maxRows(BltConfig config) {
        return Math.max(1, Math.min(16, 64 / config.crossAttnK));
    }

    public BatchedBlt(ByteLatentTransformer blt, int rows) {
        if (rows < 1 || rows > maxRows(blt.config())) {
            throw new IllegalArgumentException("a batch of " + rows + " generations; this model takes 1.." + maxRows(blt.config()));
        }
        this.blt = blt;
        this.rows = rows;
        encoderBatch = blt.encoder().newBatchStep(rows);
        globalBatch = blt.global().newBatchStep(rows);
        decoderBatch = blt.decoder().newBatchStep(rows);
        patchRows = Buffers.f32(blt.backend(), rows, blt.config().global().inputDim());
        positions = new int[rows];
        keepStatesFrom = new int[rows];
    }

    /** Runs the encoder on the next token of each of models[0..n) (tokens[i] is model i's sequence). */
    public void appendTokens(IncrementalBlt[] models, int[][] tokens, int n) {
        check(n);
        LocalEncoder.Step[] steps = new LocalEncoder.Step[n];
        for (int i = 0; i < n; i++) {
            steps[i] = models[i].encoderStep();
            positions[i] = models[i].length();
            keepStatesFrom[i] = models[i].openPatchStart();
        }
        blt.stage(StageTimer.ENCODER);
        latestStates = blt.encoder().stepRows(steps, tokens, positions, keepStatesFrom, n, encoderBatch);
        blt.passCounts().encoderPasses++;
        for (int i = 0; i < n; i++) {
            models[i].appended();
        }
        blt.endStage();
    }

    /** Closes the open patch of every models[i] with complete[i] (i &lt; n) with one batched global step. */
    public void completePatches(IncrementalBlt[] models, boolean[] complete, int n) {
        check(n);
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (complete[i]) {
                m++;
            }
        }
        if (m == 0) {
            return;
        }
        GlobalTransformer.Step[] steps = new GlobalTransformer.Step[m];
        int j = 0;
        blt.stage(StageTimer.ENCODER);
        for (int i = 0; i < n; i++) {
            if (complete[i]) {
                blt.backend().copy(models[i].closeOpenPatch(), patchRows.rowSlice(j, j + 1));
                steps[j++] = models[i].globalStep();
            }
        }
        blt.stage(StageTimer.GLOBAL);
        Tensor out = blt.global().stepRows(patchRows.rowSlice(0, m), steps, globalBatch);
        blt.passCounts().globalPasses++;
        blt.passCounts().globalPatches += m;
        blt.stage(StageTimer.DECODER);
        j = 0;
        for (int i = 0; i < n; i++) {
            if (complete[i]) {
                blt.decoder().setPatches(out.rowSlice(j, j + 1), models[i].decoderStep());
                j++;
            }
        }
        blt.endStage();
    }

    /** Logits [n, 260] predicting the token after each model's last appended one (valid until the next call). */
    public Tensor decode(IncrementalBlt[] models, int n) {
        check(n);
        LocalDecoder.Step[] steps = new LocalDecoder.Step[n];
        for (int i = 0; i < n; i++) {
            steps[i] = models[i].decoderStep();
            if (!steps[i].hasSlots) {
                throw new IllegalStateException("no completed patch yet: the BOS patch must be completed first");
            }
            positions[i] = models[i].length() - 1;
        }
        if (latestStates == null || latestStates.rows() != n) {
            throw new IllegalStateException("decode follows appendTokens of the same " + n + " generations");
        }
        blt.stage(StageTimer.DECODER);
        Tensor logits = blt.decoder().stepRows(steps, latestStates, positions, decoderBatch);
        blt.passCounts().decoderPasses++;
        blt.endStage();
        return logits;
    }

    private void check(int n) {
        if (n < 1 || n > rows) {
            throw new IllegalArgumentException("a batched step of " + n + " generations for a batch of " + rows);
        }
    }
}
