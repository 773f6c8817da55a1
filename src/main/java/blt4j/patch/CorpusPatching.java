package blt4j.patch;

import blt4j.model.EntropyModel;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * Patches of a whole training or evaluation stream, computed once before BLT training (as the reference precomputes
 * entropies offline) rather than per batch: the entropy model is frozen, so scoring every byte once is the cheapest
 * honest choice, and BLT steps then cost only the BLT itself. Entropies are scored in the reference's rows of
 * max_seqlen tokens.
 */
public final class CorpusPatching {
    private final int[] ids;
    private final float[] entropies;

    private CorpusPatching(int[] ids, float[] entropies) {
        this.ids = ids;
        this.entropies = entropies;
    }

    /** Scores the stream with the entropy model (when given), printing progress with bytes/s and ETA. */
    public static CorpusPatching score(int[] ids, String source, EntropyModel model, PrintStream log) {
        if (model == null) {
            return new CorpusPatching(ids, null);
        }
        int n = ids.length;
        EntropyScorer scorer = new EntropyScorer(model);
        int chunk = model.config().maxSeqlen;
        float[] h = new float[n];
        long start = System.nanoTime();
        long lastLog = start;
        for (int from = 0; from < n; from += chunk) {
            int to = Math.min(n, from + chunk);
            float[] part = scorer.score(Arrays.copyOfRange(ids, from, to));
            System.arraycopy(part, 0, h, from, part.length);
            long now = System.nanoTime();
            if (now - lastLog > 5e9 || to == n) {
                double secs = (now - start) / 1e9;
                double rate = to / secs;
                log.printf("  entropy scoring %s: %,d / %,d bytes, %,.0f bytes/s, ETA %.0f s%n", source, to, n, rate,
                        (n - to) / Math.max(rate, 1));
                lastLog = now;
            }
        }
        return new CorpusPatching(ids, h);
    }

    /** Null when the stream was not scored. */
    public float[] entropies() {
        return entropies;
    }

    public int length() {
        return ids.length;
    }

    /** The stream's patches under the scheme (stream-level starts, cut into rows on demand). */
    public StreamPatches patches(PatchingScheme scheme) {
        return new StreamPatches(scheme, scheme.streamStarts(ids, entropies), ids.length);
    }

    /**
     * The threshold whose patches have the given mean size on this stream, for the scheme's entropy rule (global,
     * monotonic or combined).
     */
    public ThresholdSearch.Result thresholdFor(PatchingScheme scheme, double meanPatchSize) {
        if (entropies == null) {
            throw new IllegalStateException("a threshold search needs the stream's entropies");
        }
        Patcher p = scheme.patcher(false);
        if (!(p instanceof EntropyPatcher) || !((EntropyPatcher) p).isIncremental()) {
            throw new IllegalArgumentException("patching '" + scheme.config().describe() + "' has no threshold to search");
        }
        return ThresholdSearch.findThreshold(List.of(entropies), meanPatchSize, (EntropyPatcher) p);
    }

    /** Mean patch length (bytes per patch) of the stream under the scheme's stream-level starts. */
    public double meanPatchSize(PatchingScheme scheme) {
        return patches(scheme).meanPatchSize();
    }
}
