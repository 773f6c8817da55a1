package blt4j.patch;

import java.util.List;

/**
 * Finds the entropy threshold giving a target mean patch size (BLT-REFERENCE §4.1: the paper estimates θ on
 * the training mix for a target of 4.5, 6 or 8 bytes/patch). Raising θ never adds a patch start, so
 * the mean patch size is monotone in θ and bisection over float θ applies.
 */
public final class ThresholdSearch {
    private ThresholdSearch() {}

    /** The chosen θ and the mean patch length it gives (sum of lengths / number of patches). */
    public record Result(float threshold, double meanPatchSize, long patches, long lengthSum, int iterations) {}

    /** Global-threshold search over one sequence, without the next-token slot (mean = bytes/patch). */
    public static Result findThreshold(float[] entropies, double targetMeanPatchSize) {
        return findThreshold(List.of(entropies), targetMeanPatchSize,
                EntropyPatcher.global(0f).withIncludeNextToken(false));
    }

    /**
     * Bisection on θ for {@code template}'s mode (GLOBAL, MONOTONIC or COMBINED; its next-slot and
     * max-length settings are kept) over several sequences. Returns the bracket end whose mean is
     * closest to the target; means are discrete, so the target is rarely hit exactly.
     */
    public static Result findThreshold(List<float[]> sequences, double targetMeanPatchSize, EntropyPatcher template) {
        if (!template.isIncremental()) {
            throw new IllegalArgumentException("top-k has no threshold to search");
        }
        float maxAbs = 0f;
        for (float[] h : sequences) {
            for (float v : h) {
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException("non-finite entropy " + v);
                }
                maxAbs = Math.max(maxAbs, Math.abs(v));
            }
        }
        // Differences (monotonic modes) lie within ±2·max|H|, so these bracket every decision.
        float lo = -(2 * maxAbs + 1);
        float hi = 2 * maxAbs + 1;
        Result rLo = evaluate(sequences, template, lo, 0);
        Result rHi = evaluate(sequences, template, hi, 0);
        int it = 0;
        while (it < 200 && Math.nextUp(lo) < hi) {
            float mid = lo + (hi - lo) / 2;
            if (!(mid > lo && mid < hi)) {
                break;
            }
            it++;
            Result r = evaluate(sequences, template, mid, it);
            if (r.meanPatchSize() == targetMeanPatchSize) {
                return r;
            }
            if (r.meanPatchSize() < targetMeanPatchSize) {
                lo = mid;
                rLo = r;
            } else {
                hi = mid;
                rHi = r;
            }
        }
        double dLo = Math.abs(rLo.meanPatchSize() - targetMeanPatchSize);
        double dHi = Math.abs(rHi.meanPatchSize() - targetMeanPatchSize);
        Result best = dLo <= dHi ? rLo : rHi;
        return new Result(best.threshold(), best.meanPatchSize(), best.patches(), best.lengthSum(), it);
    }

    private static Result evaluate(List<float[]> sequences, EntropyPatcher template, float theta, int it) {
        EntropyPatcher p = template.withThreshold(theta);
        PatchStats stats = new PatchStats();
        for (float[] h : sequences) {
            EntropyPatchStream s = new EntropyPatchStream(p, stats);
            s.accept(h);
            s.finish();
        }
        return new Result(theta, stats.mean(), stats.count(), stats.sum(), it);
    }
}
