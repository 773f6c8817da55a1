package blt4j.patch;

import blt4j.model.EntropyModel;
import blt4j.tokenizer.ByteTokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Next-byte entropies for inputs of any length in bounded memory. Like the reference, the token stream
 * ([BOS] + bytes) is cut into rows of {@code max_seqlen} (8192) tokens scored independently: at each row
 * edge the context restarts (positions from 0, no attention across the edge), so the first bytes of every
 * row see no history. With the 512-byte window only the first 511 positions of a row lose context.
 */
public final class EntropyScorer {
    private final EntropyModel model;
    private final int chunk;

    public EntropyScorer(EntropyModel model) {
        this.model = model;
        this.chunk = model.config().maxSeqlen;
    }

    /**
     * One independent row of the reference's chunking, computed in blocks of {@link EntropyModel#BLOCK} tokens with
     * KV caches so activation memory stays bounded (the result equals one forward over the whole row).
     */
    private float[] scoreRow(int[] row) {
        return model.incremental(row.length).appendAll(row, 0, row.length);
    }

    /** Receives the entropy H[t] (nats) of predicting token t+1, for every token t in order. */
    @FunctionalInterface
    public interface Sink {
        void accept(long position, int token, float entropy) throws IOException;
    }

    /** Entropies of a whole token array (one per token), chunked at {@code max_seqlen}. */
    public float[] score(int[] tokens) {
        float[] out = new float[tokens.length];
        for (int start = 0; start < tokens.length; start += chunk) {
            int n = Math.min(chunk, tokens.length - start);
            int[] row = Arrays.copyOfRange(tokens, start, start + n);
            System.arraycopy(scoreRow(row), 0, out, start, n);
        }
        return out;
    }

    /** Streams a byte input: BOS first (when asked), then one entropy per token, reading one chunk at a time. */
    public long score(InputStream in, boolean bos, Sink sink) throws IOException {
        byte[] buf = new byte[chunk];
        long position = 0;
        boolean first = bos;
        while (true) {
            int want = first ? chunk - 1 : chunk;
            int got = in.readNBytes(buf, 0, want);
            if (got == 0 && !first) {
                break;
            }
            int n = got + (first ? 1 : 0);
            int[] row = new int[n];
            int at = 0;
            if (first) {
                row[at++] = ByteTokenizer.BOS;
            }
            for (int i = 0; i < got; i++) {
                row[at++] = (buf[i] & 0xFF) + ByteTokenizer.OFFSET;
            }
            first = false;
            float[] h = scoreRow(row);
            for (int i = 0; i < n; i++) {
                sink.accept(position++, row[i], h[i]);
            }
            if (got < want) {
                break;
            }
        }
        return position;
    }
}
