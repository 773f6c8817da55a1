package blt4j.patch;

import java.util.function.IntConsumer;

/**
 * Streaming form of a threshold-mode {@link EntropyPatcher}: consumes entropies chunk by chunk and
 * emits patch lengths as soon as they are known, keeping O(1) state (decision at p needs only
 * H[p-1] and H[p-2], §4.7). Emits exactly what {@link EntropyPatcher#lengths(float[])} returns.
 */
public final class EntropyPatchStream {
    private final EntropyPatcher patcher;
    private final LengthEmitter emitter;
    private long count;
    private float hPrev;
    private boolean pending;
    private boolean finished;

    public EntropyPatchStream(EntropyPatcher patcher, IntConsumer lengthSink) {
        if (!patcher.isIncremental()) {
            throw new IllegalArgumentException("top-k patching needs the whole sequence");
        }
        this.patcher = patcher;
        this.emitter = new LengthEmitter(lengthSink, patcher.maxPatchLength());
    }

    /** Next entropy H[t]. */
    public void accept(float h) {
        if (finished) {
            throw new IllegalStateException("finished");
        }
        long t = count;
        if (t >= 1) {
            emitter.decide(t, pending); // position t exists now that H[t] (its byte) arrived
        }
        long p = t + 1;
        pending = p <= 1 || patcher.startsAt(p, h, hPrev);
        hPrev = h;
        count = t + 1;
    }

    public void accept(float[] chunk, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            accept(chunk[i]);
        }
    }

    public void accept(float[] chunk) {
        accept(chunk, 0, chunk.length);
    }

    /** Ends the sequence, emitting the last patch (and the next-token slot if configured). Returns N. */
    public long finish() {
        if (!finished) {
            finished = true;
            if (count >= 1 && patcher.includeNextToken()) {
                emitter.decide(count, pending);
            }
            emitter.finish(count == 0 ? 0 : count + (patcher.includeNextToken() ? 1 : 0));
        }
        return count;
    }

    /** Entropies consumed so far. */
    public long count() {
        return count;
    }
}
