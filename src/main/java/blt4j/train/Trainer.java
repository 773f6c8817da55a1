package blt4j.train;

import blt4j.model.Batch;
import blt4j.model.TrainableModel;
import blt4j.patch.StreamPatches;

import blt4j.compute.Backend;
import blt4j.nn.AdamW;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The training loop shared by every model: AdamW, warm-up + cosine schedule, global-norm clipping, progress
 * lines (loss, bits/byte, bytes/s, ETA), periodic held-out evaluation, atomic checkpoints and resume. Batches
 * depend only on (seed, step), so a resumed run continues the same loss curve.
 */
public final class Trainer {
    private final TrainableModel model;
    private final TrainOptions options;
    private final Corpus train;
    private final Corpus heldOut;
    private final PrintStream log;
    private final AdamW optimizer;
    private final List<TrainingState.Point> history = new ArrayList<>();
    private int step;
    private double trainFlops;
    private StreamPatches trainPatches;
    private StreamPatches heldOutPatches;
    /** True once this trainer resumed or saved the run in its folder (a later run() continues it). */
    private boolean ownsRun;

    public Trainer(TrainableModel model, TrainOptions options, Corpus train, Corpus heldOut, PrintStream log) {
        this.model = model;
        this.options = options;
        this.train = train;
        this.heldOut = heldOut;
        this.log = log;
        this.optimizer = AdamW.standard(model.parameters(), (float) options.weightDecay());
    }

    /** For BLT: precomputed patch starts of the training and held-out streams. */
    public void setPatches(StreamPatches train, StreamPatches heldOut) {
        this.trainPatches = train;
        this.heldOutPatches = heldOut;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    public int step() {
        return step;
    }

    /** FLOPs of the run's training steps so far (forward + backward, as counted by the backend; kept across resumes). */
    public double trainFlops() {
        return trainFlops;
    }

    public List<TrainingState.Point> history() {
        return history;
    }

    /**
     * Mean FLOPs (forward + backward, as the backend counts them) of one training step over the first {@code probes}
     * batches of a run; gradients are computed and discarded, nothing is updated.
     */
    public static double stepFlops(TrainableModel model, Corpus train, TrainOptions options, StreamPatches patches, int probes) {
        Backend backend = model.parameters().backend();
        Batcher batcher = new Batcher(train, options.batchRows(), options.seqLen(), options.seed(), patches);
        double total = 0;
        for (int i = 0; i < probes; i++) {
            long before = backend.flops();
            model.forwardLoss(batcher.batch(i));
            model.backward();
            total += backend.flops() - before;
        }
        model.parameters().zeroGrads();
        return total / probes;
    }

    /** Restores weights, optimizer moments, step and history from the run's latest checkpoint. */
    public boolean resume() throws IOException {
        return resume(false);
    }

    /**
     * Continues from the run's latest checkpoint. The stored options must equal this trainer's (batch, sequence
     * length, learning-rate schedule, weight decay, clipping, steps, seed) unless {@code overrideOptions}; a
     * mismatch fails before anything changes.
     */
    public boolean resume(boolean overrideOptions) throws IOException {
        Checkpoint.removeLeftovers(options.runDir());
        TrainingState state = Checkpoint.loadLatest(options.runDir(), model, optimizer);
        if (state == null) {
            return false;
        }
        List<String> differences = Checkpoint.optionDifferences(state.options(), options);
        if (!differences.isEmpty()) {
            if (!overrideOptions) {
                // the weights were loaded into this process only; nothing on disk changed
                throw new IOException("--resume with other options than the run in " + options.runDir() + ": "
                        + String.join(", ", differences) + " (pass the run's own options, or --override-resume-options)");
            }
            log.println("resuming with changed options: " + String.join(", ", differences));
        }
        step = state.step();
        trainFlops = state.trainFlops();
        history.addAll(state.history());
        ownsRun = true;
        log.printf("resumed %s at step %d from %s%n", model.kind(), step, Checkpoint.latestDir(options.runDir()));
        return true;
    }

    /** Runs until max steps or the time budget; returns the final held-out evaluation (null without held-out data). */
    public Evaluator.Result run() throws IOException {
        return run(Integer.MAX_VALUE);
    }

    /** Like {@link #run()} but also stops (with a checkpoint) once {@code stopAt} steps are done. */
    public Evaluator.Result run(int stopAt) throws IOException {
        Files.createDirectories(options.runDir());
        Path existing = Checkpoint.latestDir(options.runDir());
        if (!ownsRun && existing != null) {
            // a fresh run would interleave its checkpoints with the old run's
            throw new IOException(options.runDir() + " already holds a training run (" + existing.getFileName()
                    + "); continue it with --resume, or choose another --out");
        }
        Checkpoint.removeLeftovers(options.runDir());
        Backend backend = model.parameters().backend();
        Batcher batcher = new Batcher(train, options.batchRows(), options.seqLen(), options.seed(), trainPatches);
        Batch[] evalBatches = heldOut == null ? null
                : Batcher.evaluationBatches(heldOut, options.batchRows(), options.seqLen(), options.evalBatches(), heldOutPatches);
        LrSchedule schedule = options.schedule();
        long startNanos = System.nanoTime();
        long budgetNanos = options.minutes() > 0 ? (long) (options.minutes() * 60e9) : Long.MAX_VALUE;
        int startStep = step;
        long bytesSeen = 0;
        Evaluator.Result lastEval = null;
        log.printf("training %s: %,d parameters on %s; %d rows x %d %s per step, steps %d..%d%s%n",
                model.kind(), model.parameters().size(), backend.describe(), options.batchRows(), options.seqLen(),
                train.byteStream() ? "bytes" : "tokens",
                step, options.maxSteps(), options.minutes() > 0 ? String.format(", budget %.1f min", options.minutes()) : "");
        while (step < options.maxSteps() && step < stopAt) {
            if (System.nanoTime() - startNanos > budgetNanos) {
                log.printf("time budget of %.1f min reached at step %d%n", options.minutes(), step);
                break;
            }
            if (options.maxTrainFlops() > 0 && trainFlops >= options.maxTrainFlops()) {
                log.printf("training-FLOP budget of %.3g reached at step %d%n", options.maxTrainFlops(), step);
                break;
            }
            Batch b = batcher.batch(step);
            long flopsBefore = backend.flops();
            backend.setStage("optimizer");
            model.parameters().zeroGrads();
            backend.setStage(null);
            double loss = model.forwardLoss(b);
            double bitsPerByte = loss * b.counted() / Math.max(1, b.predictedBytes()) / Math.log(2);
            requireFinite(loss, "loss");
            model.backward();
            backend.setStage("optimizer");
            double norm = backend.clipGradNorm(model.parameters().grads(), options.clipNorm());
            requireFinite(norm, "gradient norm");
            double lr = schedule.at(step);
            optimizer.step((float) lr);
            backend.setStage(null);
            trainFlops += backend.flops() - flopsBefore;
            step++;
            bytesSeen += b.predictedBytes();
            double elapsed = (System.nanoTime() - startNanos) / 1e9;
            double bytesPerSec = bytesSeen / Math.max(elapsed, 1e-9);
            Double evalBpb = null;
            if (evalBatches != null && options.evalEvery() > 0 && (step % options.evalEvery() == 0 || step == options.maxSteps())) {
                lastEval = Evaluator.evaluate(model, evalBatches);
                evalBpb = lastEval.bitsPerByte();
            }
            // nats per byte, so curves of byte and BPE models share one scale
            history.add(new TrainingState.Point(step, bitsPerByte * Math.log(2), lr, bytesPerSec, evalBpb));
            if (step % Math.max(1, options.logEvery()) == 0 || step == options.maxSteps() || evalBpb != null) {
                double stepsPerSec = (step - startStep) / Math.max(elapsed, 1e-9);
                double eta = Math.min((options.maxSteps() - step) / Math.max(stepsPerSec, 1e-9),
                        budgetNanos == Long.MAX_VALUE ? Double.MAX_VALUE : budgetNanos / 1e9 - elapsed);
                log.printf("step %6d/%d  loss %.4f  (%.3f bits/byte)  lr %.2e  |g| %.2f  %,.0f bytes/s  ETA %s%s%n",
                        step, options.maxSteps(), loss, bitsPerByte, lr, norm, bytesPerSec, eta(eta),
                        evalBpb == null ? "" : String.format("  held-out %.4f bits/byte", evalBpb));
            }
            if (options.checkpointEvery() > 0 && step % options.checkpointEvery() == 0) {
                save();
            }
        }
        save();
        double wall = (System.nanoTime() - startNanos) / 1e9;
        log.printf("trained %d steps in %.1f s: %,d bytes, %,.0f bytes/s, %.4g training FLOPs (%.2f GFLOP/s incl. evaluation time)%n",
                step - startStep, wall, bytesSeen, bytesSeen / Math.max(wall, 1e-9), trainFlops, trainFlops / Math.max(wall, 1e-9) / 1e9);
        if (evalBatches != null && (lastEval == null || history.isEmpty() || history.get(history.size() - 1).evalBitsPerByte() == null)) {
            lastEval = Evaluator.evaluate(model, evalBatches);
            log.printf("held-out: %.4f bits/byte over %,d bytes%n", lastEval.bitsPerByte(), lastEval.predictedBytes());
        }
        return lastEval;
    }

    public Path save() throws IOException {
        Path dir = Checkpoint.save(options.runDir(), model, optimizer, new TrainingState(step, options, history, trainFlops));
        ownsRun = true;
        return dir;
    }

    private void requireFinite(double v, String what) {
        if (!Double.isFinite(v)) {
            Path last = Checkpoint.latestDir(options.runDir());
            throw new TrainingDivergedException(what + " became " + v + " at step " + (step + 1)
                    + "; stopped without saving. The last good checkpoint is "
                    + (last == null ? "(none yet)" : last.toString()) + ". Lower --lr or raise --warmup.");
        }
    }

    private static String eta(double seconds) {
        if (seconds > 1e7) {
            return "?";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, (s % 3600) / 60) : String.format("%dm%02ds", s / 60, s % 60);
    }

    /** Training produced a non-finite loss or gradient. */
    public static final class TrainingDivergedException extends RuntimeException {
        public TrainingDivergedException(String message) {
            super(message);
        }
    }
}
