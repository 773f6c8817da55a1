package blt4j.patch;

import blt4j.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.IntConsumer;

/**
 * Streaming {@link SpacePatcher}: consumes tokens or raw bytes chunk by chunk and emits patch lengths
 * to a callback, keeping O(1) state, so arbitrarily large files can be patched in constant memory.
 * Emits exactly what {@link SpacePatcher#lengths(int[])} returns for the concatenated input.
 */
public final class SpacePatchStream {
    private final boolean includeNextToken;
    private final LengthEmitter emitter;
    private long count;
    private int prev;
    private boolean pending;
    private boolean finished;

    public SpacePatchStream(boolean includeNextToken, int maxPatchLength, IntConsumer lengthSink) {
        this.includeNextToken = includeNextToken;
        this.emitter = new LengthEmitter(lengthSink, maxPatchLength);
    }

    /** Next token id t[q]. */
    public void acceptToken(int id) {
        if (finished) {
            throw new IllegalStateException("finished");
        }
        long q = count;
        if (q >= 1) {
            emitter.decide(q, pending);
        }
        pending = q == 0 || SpacePatcher.startsAfter(id, prev);
        prev = id;
        count = q + 1;
    }

    /** Raw bytes, tokenized as id = byte + 4. */
    public void acceptBytes(byte[] chunk, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            acceptToken((chunk[i] & 0xFF) + ByteTokenizer.OFFSET);
        }
    }

    /** Ends the sequence, emitting the last patch (and the next-token slot if configured). Returns N. */
    public long finish() {
        if (!finished) {
            finished = true;
            if (count >= 1 && includeNextToken) {
                emitter.decide(count, pending);
            }
            emitter.finish(count == 0 ? 0 : count + (includeNextToken ? 1 : 0));
        }
        return count;
    }

    public long count() {
        return count;
    }

    /**
     * Patches a whole stream as one sequence (optionally BOS first / EOS last) with a 64 KiB buffer.
     * Returns N, the number of tokens.
     */
    public static long patch(InputStream in, boolean bos, boolean eos, boolean includeNextToken,
                             int maxPatchLength, IntConsumer lengthSink) throws IOException {
        SpacePatchStream s = new SpacePatchStream(includeNextToken, maxPatchLength, lengthSink);
        if (bos) {
            s.acceptToken(ByteTokenizer.BOS);
        }
        byte[] buf = new byte[1 << 16];
        int r;
        while ((r = in.read(buf)) > 0) {
            s.acceptBytes(buf, 0, r);
        }
        if (eos) {
            s.acceptToken(ByteTokenizer.EOS);
        }
        return s.finish();
    }
}
