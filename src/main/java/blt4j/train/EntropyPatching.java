package blt4j.train;

import blt4j.model.EntropyModel;
import blt4j.model.EntropyScorer;
import blt4j.patch.ThresholdSearch;
import java.io.PrintStream;
import java.util.BitSet;

/**
 * Patch boundaries of a whole training stream from a frozen entropy model. They are computed once before BLT
 * training (as the reference precomputes entropies offline) rather than per batch: the entropy model is frozen,
 * so scoring every byte once is the cheapest honest choice, and BLT steps then cost only the BLT itself.
 */
public final class EntropyPatching {
    private final float[] entropies;

    private EntropyPatching(float[] entropies) {
        this.entropies = entropies;
    }

    /** Scores the stream in the reference's rows of max_seqlen tokens, printing progress. */
    public static EntropyPatching score(Corpus corpus, EntropyModel model, PrintStream log) {
        int n = corpus.length();
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = corpus.id(i);
        }
        EntropyScorer scorer = new EntropyScorer(model);
        int chunk = model.config().maxSeqlen;
        float[] h = new float[n];
        long start = System.nanoTime();
        long lastLog = start;
        for (int from = 0; from < n; from += chunk) {
            int to = Math.min(n, from + chunk);
            float[] part = scorer.score(java.util.Arrays.copyOfRange(ids, from, to));
            System.arraycopy(part, 0, h, from, part.length);
            long now = System.nanoTime();
            if (now - lastLog > 5e9 || to == n) {
                double secs = (now - start) / 1e9;
                double rate = to / secs;
                log.printf("  entropy scoring %s: %,d / %,d bytes, %,.0f bytes/s, ETA %.0f s%n", corpus.source(), to, n, rate,
                        (n - to) / Math.max(rate, 1));
                lastLog = now;
            }
        }
        return new EntropyPatching(h);
    }

    public float[] entropies() {
        return entropies;
    }

    /** The threshold whose global-threshold patches have the given mean size on this stream. */
    public ThresholdSearch.Result thresholdFor(double meanPatchSize) {
        return ThresholdSearch.findThreshold(entropies, meanPatchSize);
    }

    /** Bit t set when stream token t starts a patch: H[t−1] > θ (strict), BLT-REFERENCE §4.1. */
    public BitSet starts(float threshold) {
        BitSet s = new BitSet(entropies.length);
        s.set(0);
        for (int t = 1; t < entropies.length; t++) {
            if (entropies[t - 1] > threshold) {
                s.set(t);
            }
        }
        return s;
    }

    /** Mean patch length (bytes per patch) of the stream at θ. */
    public double meanPatchSize(float threshold) {
        return (double) entropies.length / Math.max(1, starts(threshold).cardinality());
    }
}
