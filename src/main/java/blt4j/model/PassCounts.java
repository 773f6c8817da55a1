package blt4j.model;

/**
 * How often generation ran each part of a BLT: passes (calls, one block or batch each) of the local encoder, the
 * global model and the local decoder, and the patches the global model took. Counted over a model's life; take
 * differences of {@link #snapshot}s. The entropy model counts its own passes ({@link EntropyModel#passes}).
 */
public final class PassCounts {
    long encoderPasses;
    long globalPasses;
    long globalPatches;
    long decoderPasses;

    public record Snapshot(long encoderPasses, long globalPasses, long globalPatches, long decoderPasses) {
        public Snapshot minus(Snapshot before) {
            return new Snapshot(encoderPasses - before.encoderPasses, globalPasses - before.globalPasses,
                    globalPatches - before.globalPatches, decoderPasses - before.decoderPasses);
        }
    }

    public Snapshot snapshot() {
        return new Snapshot(encoderPasses, globalPasses, globalPatches, decoderPasses);
    }
}
