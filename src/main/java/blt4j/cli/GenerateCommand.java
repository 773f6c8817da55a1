package blt4j.cli;

import blt4j.compute.Backend;
import blt4j.generate.Generator;
import blt4j.generate.Sampler;
import blt4j.model.ByteLatentTransformer;
import blt4j.model.PatchingConfig;
import blt4j.train.ModelFiles;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.IntConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code blt generate}: incremental generation with patching on the fly. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate bytes after a prompt with a trained BLT. The entropy model scores each new byte as it "
                + "arrives; a new patch (one global step) starts when its entropy crosses the threshold. Output streams as it is made.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    BackendOptions backendOptions = new BackendOptions();

    @Option(names = {"-c", "--checkpoint"}, required = true, description = "BLT run or checkpoint folder.")
    Path checkpoint;

    @Option(names = {"-p", "--prompt"}, defaultValue = "", description = "Prompt text (UTF-8).")
    String prompt;

    @Option(names = {"-n", "--max-bytes"}, defaultValue = "200", description = "Bytes to generate (default: ${DEFAULT-VALUE}).")
    void setMaxBytes(int v) {
        maxBytes = FlagException.atLeast("-n/--max-bytes", v, 0);
    }

    int maxBytes;

    @Option(names = {"-t", "--temperature"}, defaultValue = "0", description = "0 = greedy (default: ${DEFAULT-VALUE}).")
    void setTemperature(double v) {
        temperature = FlagException.finiteAtLeast("-t/--temperature", v, 0);
    }

    double temperature;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling mass (default: ${DEFAULT-VALUE}).")
    void setTopP(double v) {
        FlagException.require(v > 0 && v <= 1, "--top-p must be in (0, 1], got " + v);
        topP = v;
    }

    double topP;

    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--threshold", description = "Entropy threshold θ (default: the checkpoint's; its other patching settings always apply).")
    void setThreshold(Float v) {
        threshold = FlagException.finite("--threshold", v);
    }

    Float threshold;

    @Option(names = "--ignore-eos", description = "Never stop at EOS or another special id (they are masked out).")
    boolean ignoreEos;

    @Option(names = "--stop", description = "Stop once the output ends with this text (UTF-8); it is not printed.")
    String stop;

    @Option(names = "--speculate", description = "Self-speculative decoding: the local models draft up to K bytes, one "
            + "full-model pass verifies them (greedy: the plain greedy output; sampling: the same distribution, by the "
            + "speculative-sampling acceptance rule; 0 = off).")
    void setSpeculate(int k) {
        speculate = FlagException.inRange("--speculate", k, 0, 64);
    }

    int speculate;

    @Option(names = "--prompts", description = "A UTF-8 file of prompts, one per line (\\n in a line is a newline, "
            + "\\\\ a backslash; blank lines are skipped), generated together in batches (each output equals its "
            + "one-at-a-time output); instead of -p.")
    Path promptsFile;

    @Override
    public Integer call() throws Exception {
        if (promptsFile != null) {
            return generateBatch();
        }
        if (prompt.isEmpty()) {
            throw new IllegalArgumentException("-p/--prompt is empty: give at least one byte of text to continue");
        }
        if (stop != null && stop.isEmpty()) {
            throw new IllegalArgumentException("--stop is empty: give the text that ends generation");
        }
        ModelFiles.resolve(checkpoint); // a missing or non-checkpoint folder fails before the backend starts
        try (Backend backend = backendOptions.create()) {
            ByteLatentTransformer blt = ModelFiles.loadBlt(checkpoint, backend);
            byte[] p = prompt.getBytes(StandardCharsets.UTF_8);
            checkLength(blt, p);
            Generator gen = generator(blt, backend);
            PrintStream out = System.out;
            out.write(p);
            out.flush();
            byte[] stopBytes = stop == null ? null : stop.getBytes(StandardCharsets.UTF_8);
            IntConsumer print = b -> {
                out.write(b);
                out.flush();
            };
            Sampler sampler = new Sampler(temperature, topP, seed);
            Generator.Result r = speculate > 0 ? gen.generateSpeculative(p, maxBytes, speculate, sampler, stopBytes, print)
                    : gen.generate(p, maxBytes, sampler, stopBytes, print);
            out.println();
            System.err.printf("%d bytes in %.2f s: %.1f bytes/s; %d patches (%.1f patches/s, prompt included) on %s%s%n",
                    r.bytes().length, r.seconds(), r.bytesPerSecond(), r.patches(), r.patches() / Math.max(r.seconds(), 1e-9),
                    backend.name(), r.drafted() == 0 ? "" : String.format("; %d bytes drafted, %.0f%% accepted", r.drafted(),
                            100 * r.acceptanceRate()));
        }
        return 0;
    }

    private void checkLength(ByteLatentTransformer blt, byte[] p) {
        int limit = blt.config().maxEncoderSeqLength;
        if (p.length + 1 > limit) {
            throw new IllegalArgumentException("the prompt (" + p.length + " bytes + BOS) is longer than the model's "
                    + "max_encoder_seq_length " + limit);
        }
        if (1L + p.length + maxBytes > limit && !notedLimits) {
            notedLimits = true;
            System.err.println("note: past byte " + limit + " (max_encoder_seq_length) the local models' RoPE positions, "
                    + "and past " + blt.config().maxSeqlen + " patches the global model's, go beyond what the model was "
                    + "trained on (the reference stops there); the local caches keep their windows only");
        }
    }

    private boolean notedLimits;

    private Generator generator(ByteLatentTransformer blt, Backend backend) throws java.io.IOException {
        PatchingConfig patching = blt.config().patching();
        if (threshold != null) {
            patching = patching.withThreshold(threshold);
        }
        Generator gen = new Generator(blt, ModelFiles.patchingScheme(checkpoint, patching, backend));
        return ignoreEos ? gen.ignoringSpecialIds() : gen;
    }

    private int generateBatch() throws Exception {
        if (!prompt.isEmpty()) {
            throw new IllegalArgumentException("give either -p/--prompt or --prompts FILE, not both");
        }
        if (speculate > 0) {
            throw new IllegalArgumentException("--speculate runs one prompt at a time; drop it or use -p");
        }
        List<byte[]> prompts = PromptsFile.read(promptsFile);
        ModelFiles.resolve(checkpoint);
        try (Backend backend = backendOptions.create()) {
            ByteLatentTransformer blt = ModelFiles.loadBlt(checkpoint, backend);
            for (byte[] p : prompts) {
                checkLength(blt, p);
            }
            Generator gen = generator(blt, backend);
            byte[] stopBytes = stop == null ? null : stop.getBytes(StandardCharsets.UTF_8);
            List<IntConsumer> sinks = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                sinks.add(b -> { });
            }
            long start = System.nanoTime();
            List<Generator.Result> results = gen.generateBatch(prompts, maxBytes, new Sampler(temperature, topP, seed),
                    stopBytes, sinks);
            double secs = (System.nanoTime() - start) / 1e9;
            PrintStream out = System.out;
            long total = 0;
            for (int i = 0; i < results.size(); i++) {
                Generator.Result r = results.get(i);
                out.write(prompts.get(i));
                out.write(r.bytes());
                out.println();
                out.println();
                total += r.bytes().length;
                System.err.printf("prompt %d: %d bytes, %d patches, done after %.2f s%n", i + 1, r.bytes().length, r.patches(),
                        r.seconds());
            }
            out.flush();
            System.err.printf("%d prompts in batches of up to %d: %d bytes in %.2f s: %.1f bytes/s on %s%n", prompts.size(),
                    Math.min(prompts.size(), blt4j.model.BatchedBlt.maxRows(blt.config())), total, secs, total / Math.max(secs, 1e-9),
                    backend.name());
        }
        return 0;
    }
}
