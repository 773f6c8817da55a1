package blt4j.model;

import blt4j.compute.Backend;
import blt4j.nn.ParameterStore;
import blt4j.tokenizer.BpeTokenizer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The BPE baseline: a token-level transformer LM (the same layers as the byte models: {@link EntropyModel} over a
 * vocabulary of 260 + merges ids) and the byte-level BPE tokenizer it reads. Its checkpoints hold the merges in
 * {@value #MERGES_FILE} next to the weights, so any checkpoint evaluates on any text.
 */
public final class BpeTransformer implements TrainableModel {
    public static final String KIND = "bpe-transformer";
    public static final String MERGES_FILE = "bpe-merges.txt";

    private final EntropyModel lm;
    private final BpeTokenizer tokenizer;

    public BpeTransformer(EntropyModelConfig config, BpeTokenizer tokenizer, Backend backend) {
        if (config.vocabSize != tokenizer.vocabSize()) {
            throw ConfigException.field("config", "vocab_size", config.vocabSize, "the BPE tokenizer has "
                    + tokenizer.vocabSize() + " ids (" + tokenizer.merges() + " merges); they must agree");
        }
        this.lm = new EntropyModel(config, backend, KIND);
        this.tokenizer = tokenizer;
    }

    public BpeTransformer initialize(long seed) {
        lm.initialize(seed);
        return this;
    }

    public BpeTokenizer tokenizer() {
        return tokenizer;
    }

    public EntropyModel lm() {
        return lm;
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public ParameterStore parameters() {
        return lm.parameters();
    }

    @Override
    public double forwardLoss(Batch batch) {
        return lm.forwardLoss(batch);
    }

    @Override
    public double evaluateLoss(Batch batch) {
        return lm.evaluateLoss(batch);
    }

    @Override
    public void backward() {
        lm.backward();
    }

    @Override
    public String configJson() {
        return lm.configJson();
    }

    @Override
    public void saveCompanions(Path checkpointDir) throws IOException {
        // the checkpoint folder is written under a temporary name and renamed whole: a plain write is atomic enough
        java.nio.file.Files.writeString(checkpointDir.resolve(MERGES_FILE), tokenizer.mergesText(),
                java.nio.charset.StandardCharsets.UTF_8);
    }
}
