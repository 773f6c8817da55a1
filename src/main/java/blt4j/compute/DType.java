package blt4j.compute;

/**
 * Element types a tensor can hold: fp32 for activations and weights, int32 for token ids, positions and ranges, and
 * bfloat16 for the matrix weights of inference models loaded from bf16 files (the right operand of a matmul only).
 */
public enum DType {
    F32(4),
    I32(4),
    BF16(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }
}
