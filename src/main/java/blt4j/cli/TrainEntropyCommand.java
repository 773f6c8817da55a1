package blt4j.cli;

import blt4j.compute.Backend;
import blt4j.model.EntropyModel;
import blt4j.model.EntropyModelConfig;
import blt4j.train.Corpus;
import blt4j.train.Evaluator;
import blt4j.train.Trainer;
import blt4j.viz.LossCurve;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code blt train-entropy}: train the byte LM that scores next-byte entropy. */
@Command(name = "train-entropy", mixinStandardHelpOptions = true,
        description = "Train the entropy model (a small byte LM) with AdamW, warm-up + cosine LR, clipping, held-out "
                + "evaluation and atomic checkpoints; --resume continues a run.")
final class TrainEntropyCommand implements Callable<Integer> {
    @Mixin
    BackendOptions backendOptions = new BackendOptions();

    @Mixin
    TrainingFlags flags = new TrainingFlags();

    @Option(names = "--preset", defaultValue = "entropy-tiny", description = "entropy-tiny or entropy-released (default: ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--config", description = "Model config JSON (reference LMTransformerArgs field names); overrides --preset.")
    Path config;

    /** The final held-out evaluation of the last run (for the demo). */
    Evaluator.Result lastResult;

    @Override
    public Integer call() throws Exception {
        flags.checkPaths();
        EntropyModelConfig cfg = config != null ? EntropyModelConfig.read(config) : EntropyModelConfig.preset(preset);
        String source = config != null ? config.toString() : preset;
        flags.checkModel(cfg.maxSeqlen, "max_seqlen", (rows, n) -> cfg.checkMemory(source, true, rows, n));
        Corpus[] data = flags.corpus();
        try (Backend backend = backendOptions.create()) {
            EntropyModel model = new EntropyModel(cfg, backend).initialize(flags.seed);
            flags.startProfile(backend);
            Trainer trainer = new Trainer(model, flags.options(model, data[0], null), data[0], data[1], System.out);
            if (flags.resume && !trainer.resume(flags.overrideResumeOptions)) {
                System.out.println("no checkpoint in " + flags.out + " yet; starting fresh");
            }
            Evaluator.Result result = trainer.run();
            lastResult = result;
            TrainingFlags.printProfile(backend);
            Path png = LossCurve.write(trainer.history(), flags.out.resolve("loss.png"), "entropy model " + cfg.summary());
            System.out.printf("checkpoint: %s%nloss curve: %s%n", flags.out, png);
            if (result != null) {
                System.out.printf("held-out bits/byte: %.4f%n", result.bitsPerByte());
            }
        }
        return 0;
    }
}
