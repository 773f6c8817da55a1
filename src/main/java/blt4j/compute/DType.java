package blt4j.compute;

/** Element types a tensor can hold: fp32 for activations and weights, int32 for token ids, positions and ranges. */
public enum DType {
    F32(4),
    I32(4);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }
}
