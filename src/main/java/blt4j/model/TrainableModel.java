package blt4j.model;

import blt4j.nn.ParameterStore;

/** What the trainer needs from a byte language model: a forward pass with loss, a backward pass, its parameters. */
public interface TrainableModel {

    /** "entropy", "blt", "byte-transformer" or "bpe-transformer": the checkpoint kind. */
    String kind();

    ParameterStore parameters();

    /** Forward over the batch; returns the mean next-byte loss in nats over its counted positions. */
    double forwardLoss(Batch batch);

    /**
     * The same loss in an inference state of its own (no gradient buffers), so evaluation between training steps
     * neither allocates training-sized scratch nor touches what the next backward needs.
     */
    double evaluateLoss(Batch batch);

    /** Adds the gradient of the last {@link #forwardLoss} into {@code parameters().grads()}. */
    void backward();

    /** The model's config as JSON (reference field names), stored beside the weights. */
    String configJson();

    /** Writes the files a checkpoint needs besides config and weights (the BPE model's merges) into its folder. */
    default void saveCompanions(java.nio.file.Path checkpointDir) throws java.io.IOException {}
}
