package blt4j.patch;

import java.util.function.IntConsumer;

/** Turns a stream of per-position start decisions into patch lengths with O(1) state. */
final class LengthEmitter {
    private final IntConsumer sink;
    private long currentStart;

    LengthEmitter(IntConsumer sink, int maxPatchLength) {
        this.sink = PatchIds.splitting(sink, maxPatchLength);
    }

    /** Position p ≥ 1 has been decided (position 0 always starts). */
    void decide(long p, boolean start) {
        if (start) {
            emit(p - currentStart);
            currentStart = p;
        }
    }

    /** Closes the last patch at {@code total} (exclusive); empty sequences emit nothing. */
    void finish(long total) {
        if (total > currentStart) {
            emit(total - currentStart);
        }
    }

    private void emit(long length) {
        if (length > Integer.MAX_VALUE) {
            throw new ArithmeticException("patch longer than Integer.MAX_VALUE; set maxPatchLength");
        }
        sink.accept((int) length);
    }
}
