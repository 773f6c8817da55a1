package blt4j.cli;

import blt4j.model.BltConfig;
import blt4j.model.EntropyModelConfig;
import blt4j.train.ModelExport;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code blt init --model blt-1b -o DIR}: a full-size checkpoint with random weights, in a released layout. */
@Command(name = "init", mixinStandardHelpOptions = true,
        description = {"Write a checkpoint of a preset's shape with seeded random weights in a released layout, so "
                + "memory, load time and speed can be measured at full size without the real weights.",
            "The values are uniform with each weight's initial σ (not the reference initialisation); the blt-1b shape "
                + "is about 9 GB in bf16."})
final class InitCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "BLT preset: blt-micro, blt-tiny, blt-demo, blt-1b, blt-7b.")
    String model;

    @Option(names = "--entropy-model", description = "Entropy model preset (default: entropy-released for blt-1b and blt-7b, "
            + "entropy-tiny otherwise).")
    String entropyModel;

    @Option(names = "--hash-vocab", description = "Override encoder_hash_byte_group_vocab (rows per hash table).")
    Integer hashVocab;

    @Option(names = "--seed", defaultValue = "1234", description = "Seed of the random weights. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Mixin
    ExportOptions export = new ExportOptions();

    @Override
    public Integer call() throws Exception {
        ModelExport.Options o = export.options();
        BltConfig blt = BltConfig.preset(model);
        if (hashVocab != null) {
            blt.encoderHashByteGroupVocab = hashVocab;
        }
        blt.validateFields("--model " + model);
        EntropyModelConfig entropy = EntropyModelConfig.preset(entropyModel != null ? entropyModel
                : model.equals("blt-1b") || model.equals("blt-7b") ? "entropy-released" : "entropy-tiny");
        long params = blt.parameterCount() + entropy.parameterCount();
        System.out.printf("blt init: %s (%,d parameters) + entropy model (%,d) as %s, %.2f GB -> %s%n", model,
                blt.parameterCount(), entropy.parameterCount(), o.dtype(), params * (double) o.dtype().size() / 1e9, export.out);
        long start = System.nanoTime();
        ModelExport.init(blt, entropy, seed, export.out, o);
        System.out.printf("blt init: written in %.1f s%n", (System.nanoTime() - start) / 1e9);
        return 0;
    }
}
