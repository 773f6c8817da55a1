package blt4j.model;

/**
 * What a config's model needs in memory, computed in 64-bit from the shape before anything is allocated: f32
 * weights (4 bytes a parameter), and for training also their gradients and the two AdamW moments (16 bytes a
 * parameter), plus a lower bound on the activations one training batch keeps.
 */
public final class ModelMemory {
    private ModelMemory() {}

    /** Bytes per parameter: f32 weights. */
    public static final int WEIGHT_BYTES = 4;
    /** Bytes per parameter while training: weights, gradients, AdamW first and second moments. */
    public static final int TRAINING_BYTES = 16;

    /**
     * Refuses a model over the one-buffer limit (2^31-1 parameters) or one whose weights (and, when training, the
     * optimizer state and {@code activationBytes}) cannot fit in {@link Runtime#maxMemory()}.
     */
    public static void require(String source, String what, long parameters, boolean training, long activationBytes) {
        if (parameters > Integer.MAX_VALUE) {
            throw new ConfigException(source, null, String.format("the %s has %,d parameters; blt4j keeps all parameters "
                    + "in one buffer of at most 2^31-1 (2,147,483,647)", what, parameters));
        }
        long weights = parameters * (training ? TRAINING_BYTES : WEIGHT_BYTES);
        long need = !training ? weights : activationBytes > Long.MAX_VALUE - weights ? Long.MAX_VALUE : weights + activationBytes;
        long heap = Runtime.getRuntime().maxMemory();
        if (need > heap) {
            throw new ConfigException(source, null, String.format("the %s has %,d parameters and needs at least %,d bytes "
                    + "(%.2f GiB: %s%s), more than the Java heap allows (%,d bytes, %.2f GiB; raise -Xmx or shrink the model)",
                    what, parameters, need, need / (double) (1L << 30),
                    training ? "f32 weights, gradients and AdamW moments" : "f32 weights",
                    training && activationBytes > 0 ? String.format(" and %,d bytes of activations", activationBytes) : "",
                    heap, heap / (double) (1L << 30)));
        }
    }

    /**
     * Refuses an inference model whose weights cannot fit in the heap: 4 bytes a parameter, or about 2 with bfloat16
     * matrix weights (the embeddings and norms, a small part, stay fp32; this bound counts every weight at 2).
     */
    public static void requireInference(String source, String what, long parameters, boolean bf16Matrices) {
        long need = parameters * (bf16Matrices ? 2 : WEIGHT_BYTES);
        long heap = Runtime.getRuntime().maxMemory();
        if (need > heap) {
            throw new ConfigException(source, null, String.format("the %s has %,d parameters and needs at least %,d bytes "
                    + "(%.2f GiB of %s weights), more than the Java heap allows (%,d bytes, %.2f GiB; raise -Xmx)",
                    what, parameters, need, need / (double) (1L << 30), bf16Matrices ? "bf16" : "f32", heap,
                    heap / (double) (1L << 30)));
        }
    }

    /** {@code rows × bytesPerRow × floatsPerByte × 4} in 64-bit, saturating at Long.MAX_VALUE. */
    static long activations(long rows, long bytesPerRow, long floatsPerByte) {
        try {
            return Math.multiplyExact(Math.multiplyExact(Math.multiplyExact(rows, bytesPerRow), floatsPerByte), 4L);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}
