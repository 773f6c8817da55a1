package blt4j.cli;

import blt4j.train.Corpus;
import blt4j.train.TrainOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import blt4j.model.BltConfig;
import blt4j.model.ConfigException;
import picocli.CommandLine.Option;
import blt4j.compute.Backend;

/** Flags shared by the training commands. */
final class TrainingFlags {
    @Option(names = "--data", description = "Training text: a file or a folder of files (default: the embedded corpus of blt4j's own sources and docs).")
    Path data;

    @Option(names = "--held-out", defaultValue = "0.1", description = "Fraction at the end of the data kept for evaluation (default: ${DEFAULT-VALUE}).")
    void setHeldOut(double v) {
        heldOut = heldOutFraction(v);
    }

    double heldOut;

    @Option(names = {"-o", "--out"}, required = true, description = "Run folder for checkpoints and metrics.")
    Path out;

    @Option(names = "--steps", defaultValue = "1000", description = "Total optimizer steps (the schedule length; default: ${DEFAULT-VALUE}).")
    void setSteps(int v) {
        steps = FlagException.atLeast("--steps", v, 1);
    }

    int steps;

    @Option(names = "--minutes", defaultValue = "0", description = "Stop (with a checkpoint) after this many minutes; 0 = no limit. Resume later with --resume.")
    void setMinutes(double v) {
        minutes = FlagException.finiteAtLeast("--minutes", v, 0);
    }

    double minutes;

    @Option(names = "--batch", defaultValue = "8", description = "Rows per step (default: ${DEFAULT-VALUE}).")
    void setBatch(int v) {
        batch = FlagException.inRange("--batch", v, 1, 1 << 16);
    }

    int batch;

    @Option(names = "--seq-len", defaultValue = "512", description = "Bytes per row (default: ${DEFAULT-VALUE}).")
    void setSeqLen(int v) {
        seqLen = FlagException.inRange("--seq-len", v, 1, BltConfig.MAX_SEQ);
    }

    int seqLen;

    @Option(names = "--lr", defaultValue = "3e-3", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    void setLr(double v) {
        lr = FlagException.finitePositive("--lr", v);
    }

    double lr;

    @Option(names = "--warmup", defaultValue = "50", description = "Warm-up steps (default: ${DEFAULT-VALUE}).")
    void setWarmup(int v) {
        warmup = FlagException.atLeast("--warmup", v, 0);
    }

    int warmup;

    @Option(names = "--lr-min-ratio", defaultValue = "0.1", description = "Final LR as a fraction of the peak (default: ${DEFAULT-VALUE}).")
    void setLrMinRatio(double v) {
        lrMinRatio = lrMinRatio(v);
    }

    double lrMinRatio;

    @Option(names = "--weight-decay", defaultValue = "0.01", description = "AdamW weight decay, applied to every parameter as in the reference (default: ${DEFAULT-VALUE}).")
    void setWeightDecay(double v) {
        weightDecay = FlagException.finiteAtLeast("--weight-decay", v, 0);
    }

    double weightDecay;

    @Option(names = "--clip", defaultValue = "1.0", description = "Global gradient-norm clip (default: ${DEFAULT-VALUE}).")
    void setClip(double v) {
        clip = FlagException.finiteAtLeast("--clip", v, 0);
    }

    double clip;

    @Option(names = "--eval-every", defaultValue = "100", description = "Held-out evaluation every N steps (default: ${DEFAULT-VALUE}).")
    void setEvalEvery(int v) {
        evalEvery = FlagException.atLeast("--eval-every", v, 0);
    }

    int evalEvery;

    @Option(names = "--eval-batches", defaultValue = "20", description = "Held-out batches per evaluation, 0 = all (default: ${DEFAULT-VALUE}).")
    void setEvalBatches(int v) {
        evalBatches = FlagException.atLeast("--eval-batches", v, 0);
    }

    int evalBatches;

    @Option(names = "--checkpoint-every", defaultValue = "100", description = "Checkpoint every N steps (default: ${DEFAULT-VALUE}).")
    void setCheckpointEvery(int v) {
        checkpointEvery = FlagException.atLeast("--checkpoint-every", v, 0);
    }

    int checkpointEvery;

    @Option(names = "--log-every", defaultValue = "10", description = "Progress line every N steps (default: ${DEFAULT-VALUE}).")
    void setLogEvery(int v) {
        logEvery = FlagException.atLeast("--log-every", v, 1);
    }

    int logEvery;

    @Option(names = "--seed", defaultValue = "1234", description = "Seed for initialisation and batches (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--profile-ops", description = "Print wall time per backend op at the end (synchronises after every op).")
    boolean profile;

    @Option(names = "--profile-shapes", description = "With --profile-ops (implied): split the matmul time by shape "
            + "(M×N×K and transposes).")
    boolean profileShapes;

    @Option(names = "--max-train-flops", defaultValue = "0", description = "Stop once training (forward + backward) has used this many FLOPs; 0 = no limit.")
    void setMaxTrainFlops(double v) {
        maxTrainFlops = FlagException.finiteAtLeast("--max-train-flops", v, 0);
    }

    double maxTrainFlops;

    @Option(names = "--train-flops", defaultValue = "0", description = "Training-FLOP budget: the number of steps is "
            + "chosen so that forward + backward use about this many FLOPs (measured on the first batches), and the "
            + "learning-rate schedule spans exactly those steps; overrides --steps. 0 = use --steps.")
    void setTrainFlops(double v) {
        trainFlops = FlagException.finiteAtLeast("--train-flops", v, 0);
    }

    double trainFlops;

    @Option(names = "--resume", description = "Continue the run in --out from its latest checkpoint (its options must match).")
    boolean resume;

    @Option(names = "--override-resume-options", description = "With --resume: continue although batch, sequence length, "
            + "learning-rate schedule, weight decay, clipping, steps or seed differ from the run's (they are listed).")
    boolean overrideResumeOptions;

    private static double heldOutFraction(double v) {
        FlagException.require(v >= 0 && v < 1, "--held-out must be in [0, 1) (a fraction of the data), got " + v);
        return v;
    }

    private static double lrMinRatio(double v) {
        FlagException.require(v >= 0 && v <= 1, "--lr-min-ratio must be in [0, 1], got " + v);
        return v;
    }

    /** The paths: --data must exist, --out must not be a file. Called before anything is loaded. */
    void checkPaths() throws IOException {
        if (data != null && !Files.exists(data)) {
            throw new IOException("--data " + data + " not found");
        }
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IOException("--out " + out + " is a file, not a run folder");
        }
    }

    /**
     * --seq-len within the model's limit, and the model with its optimizer state and one batch of activations
     * within the Java heap: refused before the corpus is read or anything is allocated.
     */
    void checkModel(int maxSeqLen, String limitName, MemoryCheck memory) {
        if (seqLen > maxSeqLen) {
            throw new IllegalArgumentException("--seq-len " + seqLen + " exceeds the model's " + limitName + " (" + maxSeqLen + ")");
        }
        try {
            memory.check(batch, seqLen);
        } catch (ConfigException e) {
            throw new IllegalArgumentException("--batch " + batch + " × --seq-len " + seqLen + ": " + e.getMessage(), e);
        }
    }

    interface MemoryCheck {
        void check(int rows, int seqLen);
    }

    /** Turns profiling on when asked; call {@link #printProfile} at the end. */
    void startProfile(Backend backend) {
        backend.setProfiling(profile || profileShapes, profileShapes);
    }

    static void printProfile(Backend backend) {
        var p = backend.opTimes();
        if (p.isEmpty()) {
            return;
        }
        long total = p.values().stream().mapToLong(e -> e[1]).sum();
        System.out.println("time per op (" + backend.name() + "):");
        // the rate beside each op that counts FLOPs (matmuls and attention): which of them runs below the rest
        p.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1])).forEach(e -> {
            long[] v = e.getValue();
            String rate = v[2] > 0 ? String.format(Locale.ROOT, "  %7.1f GFLOP/s", v[2] / (double) v[1]) : "";
            System.out.printf(Locale.ROOT, "  %-50s %8d calls %9.2f s %5.1f%%%s%n", e.getKey(), v[0], v[1] / 1e9,
                    100.0 * v[1] / Math.max(1, total), rate);
        });
    }

    TrainOptions options() {
        return new TrainOptions(batch, seqLen, lr, warmup, lrMinRatio, weightDecay, clip, steps, minutes, evalEvery,
                evalBatches, checkpointEvery, logEvery, seed, out, maxTrainFlops);
    }

    /**
     * The options, with --steps derived from --train-flops when a budget is given: the FLOPs of one step are the
     * mean counted over a few of the run's own batches (BLT steps vary with their patch counts).
     */
    TrainOptions options(blt4j.model.TrainableModel model, Corpus train, blt4j.patch.StreamPatches patches) {
        TrainOptions o = options();
        if (trainFlops <= 0) {
            return o;
        }
        double perStep = blt4j.train.Trainer.stepFlops(model, train, o, patches, 3);
        int n = (int) Math.max(1, Math.min(Integer.MAX_VALUE, Math.round(trainFlops / perStep)));
        int w = Math.min(warmup, Math.max(0, n / 5));
        System.out.printf("training-FLOP budget %.4g: %.4g FLOPs per step (mean of 3 batches) -> %,d steps%s%n",
                trainFlops, perStep, n, w != warmup ? " (warm-up " + w + " steps, a fifth of them)" : "");
        steps = n;
        warmup = w;
        return options();
    }

    /** {train, held-out} */
    Corpus[] corpus() throws IOException {
        Corpus all = data == null ? Corpus.embedded() : Corpus.load(data);
        System.out.printf("data: %s, %,d bytes in %d documents; last %.0f%% held out%n", all.source(), all.bytes(),
                all.documents(), heldOut * 100);
        return heldOut > 0 ? all.split(heldOut) : new Corpus[] {all, null};
    }
}
