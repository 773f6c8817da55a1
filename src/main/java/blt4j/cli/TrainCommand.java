package blt4j.cli;

import blt4j.compute.Backend;
import blt4j.model.BltConfig;
import blt4j.model.BpeTransformer;
import blt4j.tokenizer.BpeTokenizer;
import blt4j.tokenizer.ByteTokenizer;
import blt4j.model.ByteLatentTransformer;
import blt4j.model.EntropyModel;
import blt4j.model.EntropyModelConfig;
import blt4j.model.PatchingConfig;
import blt4j.patch.CorpusPatching;
import blt4j.patch.PatchingScheme;
import blt4j.train.Checkpoint;
import blt4j.train.Corpus;
import blt4j.train.Evaluator;
import blt4j.train.ModelFiles;
import blt4j.model.TrainableModel;
import blt4j.train.Trainer;
import blt4j.viz.LossCurve;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import blt4j.io.AtomicFiles;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;

/** {@code blt train}: train a BLT on entropy patches, or the byte-transformer baseline. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a Byte Latent Transformer on entropy patches from a trained entropy model, or the plain "
                + "byte-transformer baseline (--model byte-transformer), with the same schedule, progress, checkpoints and --resume "
                + "as train-entropy.",
            "Patches are computed once before training: the entropy model is frozen, so every byte is scored exactly once."})
final class TrainCommand implements Callable<Integer> {
    @Mixin
    BackendOptions backendOptions = new BackendOptions();

    @Mixin
    TrainingFlags flags = new TrainingFlags();

    @Option(names = "--model", defaultValue = "blt-tiny",
            description = "blt-micro, blt-tiny, blt-1b, or a baseline shaped like the BLT's global model (blt-tiny's, or "
                    + "--config's): byte-transformer (over bytes) or bpe-transformer (over byte-level BPE tokens; --seq-len "
                    + "then counts tokens) (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--bpe-vocab", defaultValue = "4096", description = "With bpe-transformer: vocabulary size of the BPE "
            + "tokenizer trained on the training split, 4 specials and 256 bytes included (default: ${DEFAULT-VALUE}).")
    void setBpeVocab(int v) {
        bpeVocab = FlagException.inRange("--bpe-vocab", v, ByteTokenizer.VOCAB, BpeTokenizer.MAX_VOCAB);
    }

    int bpeVocab;

    @Option(names = "--tokenizer", description = "With bpe-transformer: use these merges (a bpe-merges.txt) instead of "
            + "training a tokenizer.")
    Path tokenizer;

    @Option(names = "--config", description = "BLT config JSON (reference ByteLatentTransformerArgs names); overrides the preset.")
    Path config;

    @Option(names = {"-e", "--entropy-model"}, description = "Trained entropy model (run or checkpoint folder); required for BLT.")
    Path entropyModel;

    @Option(names = "--threshold", description = "Entropy threshold θ (nats); default: searched for --target-patch-size.")
    void setThreshold(Float t) {
        threshold = FlagException.finite("--threshold", t);
    }

    Float threshold;

    @Option(names = "--target-patch-size", defaultValue = "4.5", description = "Mean patch size the threshold search aims for (default: ${DEFAULT-VALUE}).")
    void setTargetPatchSize(double v) {
        targetPatchSize = FlagException.finiteAtLeast("--target-patch-size", v, 1);
    }

    double targetPatchSize;

    /** The final held-out evaluation of the last run (for the demo). */
    Evaluator.Result lastResult;

    @Override
    public Integer call() throws Exception {
        // everything the command line and config say is checked before the corpus is read or a model is built
        flags.checkPaths();
        boolean bpe = BpeTransformer.KIND.equals(model);
        boolean baseline = "byte-transformer".equals(model) || bpe;
        if (tokenizer != null && !bpe) {
            throw new IllegalArgumentException("--tokenizer is for --model bpe-transformer");
        }
        if (tokenizer != null && !Files.isRegularFile(tokenizer)) {
            throw new IOException("--tokenizer " + tokenizer + " not found");
        }
        BltConfig checkedBlt = bltConfig(baseline ? "blt-tiny" : model);
        String source = config != null ? config.toString() : baseline ? "blt-tiny" : model;
        EntropyModelConfig baselineCfg = null;
        if (baseline) {
            baselineCfg = bpe ? EntropyModelConfig.bpeTransformer(checkedBlt, Math.max(flags.seqLen, 1024), bpeVocab)
                    : EntropyModelConfig.byteTransformer(checkedBlt, Math.max(flags.seqLen, 1024));
            EntropyModelConfig b = baselineCfg;
            b.validateFields(source);
            flags.checkModel(b.maxSeqlen, "max_seqlen", (rows, n) -> b.checkMemory(source, true, rows, n));
        } else {
            flags.checkModel(checkedBlt.maxEncoderSeqLength, "max_encoder_seq_length",
                    (rows, n) -> checkedBlt.checkMemory(source, true, rows, n));
            if (checkedBlt.patching().needsEntropies()) {
                if (entropyModel == null) {
                    throw new IllegalArgumentException("BLT training with entropy patching needs a trained entropy model: "
                            + "--entropy-model RUN (train one with `blt train-entropy`)");
                }
                ModelFiles.resolve(entropyModel);
            }
        }
        Corpus[] data = flags.corpus();
        try (Backend backend = backendOptions.create()) {
            flags.startProfile(backend);
            TrainableModel trainable;
            Trainer trainer;
            if (bpe) {
                EntropyModelConfig cfg = baselineCfg;
                BpeTokenizer tok = bpeTokenizer(data[0]);
                cfg.vocabSize = tok.vocabSize();
                Corpus train = data[0].retokenized(tok);
                Corpus held = data[1] == null ? null : data[1].retokenized(tok);
                System.out.printf("bpe: %,d ids (%,d merges); training split %,d bytes in %,d tokens, %.3f bytes per token%n",
                        tok.vocabSize(), tok.merges(), data[0].positions(), train.length(),
                        (double) data[0].positions() / train.length());
                Files.createDirectories(flags.out);
                AtomicFiles.writeString(flags.out.resolve(BpeTransformer.MERGES_FILE), tok.mergesText());
                trainable = new BpeTransformer(cfg, tok, backend).initialize(flags.seed);
                trainer = new Trainer(trainable, flags.options(trainable, train, null), train, held, System.out);
            } else if (baseline) {
                EntropyModelConfig cfg = baselineCfg;
                trainable = new EntropyModel(cfg, backend, "byte-transformer").initialize(flags.seed);
                trainer = new Trainer(trainable, flags.options(trainable, data[0], null), data[0], data[1], System.out);
            } else {
                BltConfig cfg = checkedBlt;
                PatchingConfig patching = cfg.patching();
                EntropyModel scorer = null;
                if (patching.needsEntropies()) {
                    if (entropyModel == null) {
                        throw new IllegalArgumentException("BLT training with entropy patching needs a trained entropy model: "
                                + "--entropy-model RUN (train one with `blt train-entropy`)");
                    }
                    scorer = ModelFiles.loadEntropyModel(entropyModel, backend);
                    System.out.println("patching with the entropy model from " + entropyModel);
                }
                CorpusPatching train = CorpusPatching.score(data[0].ids(), data[0].source(), scorer, System.out);
                PatchingScheme scheme = PatchingScheme.of(patching, scorer);
                if (patching.needsEntropies() && patching.threshold() != null) {
                    float theta = threshold != null ? threshold : train.thresholdFor(scheme, targetPatchSize).threshold();
                    cfg.patchingThreshold = (double) theta;
                    scheme = PatchingScheme.of(cfg.patching(), scorer);
                }
                System.out.printf("patching %s: mean patch %.3f bytes on the training data%n", scheme.config().describe(),
                        train.meanPatchSize(scheme));
                CorpusPatching held = data[1] == null ? null
                        : CorpusPatching.score(data[1].ids(), data[1].source(), scorer, System.out);
                ByteLatentTransformer blt = new ByteLatentTransformer(cfg, backend).initialize(flags.seed);
                trainable = blt;
                var trainPatches = train.patches(scheme);
                trainer = new Trainer(blt, flags.options(blt, data[0], trainPatches), data[0], data[1], System.out);
                trainer.setPatches(trainPatches, held == null ? null : held.patches(scheme));
                if (scorer != null) {
                    keepEntropyModel(scorer);
                }
            }
            if (flags.resume && !trainer.resume(flags.overrideResumeOptions)) {
                System.out.println("no checkpoint in " + flags.out + " yet; starting fresh");
            }
            Evaluator.Result result = trainer.run();
            lastResult = result;
            TrainingFlags.printProfile(backend);
            Path png = LossCurve.write(trainer.history(), flags.out.resolve("loss.png"), trainable.kind() + " training");
            System.out.printf("checkpoint: %s%nloss curve: %s%n", flags.out, png);
            if (result != null) {
                System.out.printf("held-out bits/byte: %.4f%n", result.bitsPerByte());
            }
        }
        return 0;
    }

    /**
     * The merges: --tokenizer's, a resumed run's own, or trained on the training split (deterministic, so a fresh
     * run on the same data learns the same ones).
     */
    private BpeTokenizer bpeTokenizer(Corpus train) throws IOException {
        if (tokenizer != null) {
            BpeTokenizer t = BpeTokenizer.load(tokenizer);
            System.out.printf("bpe: %,d merges from %s%n", t.merges(), tokenizer);
            return t;
        }
        Path latest = flags.resume ? Checkpoint.latestDir(flags.out) : null;
        if (latest != null && Files.isRegularFile(latest.resolve(BpeTransformer.MERGES_FILE))) {
            BpeTokenizer t = BpeTokenizer.load(latest.resolve(BpeTransformer.MERGES_FILE));
            System.out.printf("bpe: resuming with the run's own %,d merges (--bpe-vocab is not consulted)%n", t.merges());
            return t;
        }
        System.out.printf("bpe: training a %,d-id tokenizer on %,d bytes%n", bpeVocab, train.bytes());
        return BpeTokenizer.train(train.documentBytes(), bpeVocab, System.out);
    }

    private BltConfig bltConfig(String preset) throws IOException {
        BltConfig c = config != null ? BltConfig.read(config) : BltConfig.preset(preset);
        c.maxEncoderSeqLength = Math.max(c.maxEncoderSeqLength, flags.seqLen);
        c.validateFields(config != null ? config.toString() : preset);
        return c;
    }

    /** The run keeps its own copy of the entropy model, so eval and generate need only the run folder. */
    private void keepEntropyModel(EntropyModel scorer) throws IOException {
        Path dir = flags.out.resolve(ModelFiles.ENTROPY_SUBDIR);
        Files.createDirectories(dir);
        JsonObject cfg = new JsonObject();
        cfg.addProperty("kind", "entropy");
        cfg.add("model", JsonParser.parseString(scorer.configJson()));
        AtomicFiles.writeString(dir.resolve(Checkpoint.CONFIG_FILE), cfg.toString());
        Checkpoint.saveWeights(dir.resolve(Checkpoint.MODEL_FILE), scorer.parameters(), "entropy");
    }
}
