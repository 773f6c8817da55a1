package blt4j.train;

import blt4j.model.Batch;
import blt4j.patch.StreamPatches;

import blt4j.tokenizer.ByteTokenizer;
import java.util.SplittableRandom;

/**
 * Cuts training rows from a corpus. Each row is [BOS] + seqLen tokens of the stream from a random offset; the
 * offsets of step s depend only on (seed, s), so a resumed run sees exactly the batches it would have seen.
 */
public final class Batcher {
    private final Corpus corpus;
    private final int rows;
    private final int seqLen;
    private final long seed;
    private final StreamPatches patches;

    public Batcher(Corpus corpus, int rows, int seqLen, long seed) {
        this(corpus, rows, seqLen, seed, null);
    }

    /** @param patches for BLT: the stream's patches (precomputed once over the whole stream); null for byte LMs */
    public Batcher(Corpus corpus, int rows, int seqLen, long seed, StreamPatches patches) {
        if (corpus.length() < 2) {
            throw new IllegalArgumentException("corpus too small to train on");
        }
        this.corpus = corpus;
        this.rows = rows;
        this.seqLen = seqLen;
        this.seed = seed;
        this.patches = patches;
    }

    public Batch batch(long step) {
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + step);
        int[] x = new int[rows * seqLen];
        int[] y = new int[rows * seqLen];
        float[] w = new float[rows * seqLen];
        int span = seqLen; // tokens taken from the stream per row (after the BOS)
        int maxStart = Math.max(0, corpus.length() - span);
        int[][] lengths = patches == null ? null : new int[rows][];
        for (int r = 0; r < rows; r++) {
            int start = maxStart == 0 ? 0 : rnd.nextInt(maxStart + 1);
            fillRow(start, x, y, w, r);
            if (lengths != null) {
                lengths[r] = patches.rowLengths(start, seqLen);
            }
        }
        return new Batch(x, y, w, rows, seqLen, lengths, positions(y, w));
    }

    /** Byte-stream positions the scored targets stand for (-1 for a byte stream, where it is their count). */
    private long positions(int[] y, float[] w) {
        if (corpus.byteStream()) {
            return -1;
        }
        long n = 0;
        for (int i = 0; i < y.length; i++) {
            if (w[i] != 0f && y[i] >= 0) {
                n += corpus.positions(y[i]);
            }
        }
        return n;
    }

    /** Row r: x = [BOS, s0, …, s_{T−2}], y = [s0, …, s_{T−1}], zero weights past the end of the stream. */
    private void fillRow(int start, int[] x, int[] y, float[] w, int r) {
        int base = r * seqLen;
        int prev = ByteTokenizer.BOS;
        for (int t = 0; t < seqLen; t++) {
            int at = start + t;
            x[base + t] = prev;
            if (at < corpus.length()) {
                y[base + t] = corpus.id(at);
                w[base + t] = 1f;
                prev = y[base + t];
            } else {
                y[base + t] = ByteTokenizer.BOE;
                w[base + t] = 0f;
                prev = ByteTokenizer.BOE;
            }
        }
    }

    /** Held-out evaluation: consecutive non-overlapping rows covering the whole corpus (deterministic). */
    public static Batch[] evaluationBatches(Corpus corpus, int rows, int seqLen, int maxBatches) {
        return evaluationBatches(corpus, rows, seqLen, maxBatches, null);
    }

    public static Batch[] evaluationBatches(Corpus corpus, int rows, int seqLen, int maxBatches, StreamPatches patches) {
        int perBatch = rows * seqLen;
        int nBatches = (corpus.length() + perBatch - 1) / perBatch;
        if (maxBatches > 0) {
            nBatches = Math.min(nBatches, maxBatches);
        }
        Batch[] out = new Batch[nBatches];
        Batcher b = new Batcher(corpus, rows, seqLen, 0, patches);
        for (int i = 0; i < nBatches; i++) {
            int[] x = new int[perBatch];
            int[] y = new int[perBatch];
            float[] w = new float[perBatch];
            int[][] lengths = patches == null ? null : new int[rows][];
            for (int r = 0; r < rows; r++) {
                int start = i * perBatch + r * seqLen;
                b.fillRow(start, x, y, w, r);
                if (lengths != null) {
                    lengths[r] = patches.rowLengths(start, seqLen);
                }
            }
            out[i] = new Batch(x, y, w, rows, seqLen, lengths, b.positions(y, w));
        }
        return out;
    }
}
