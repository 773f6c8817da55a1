package blt4j.patch;

import java.util.Arrays;
import java.util.function.IntConsumer;
import org.apache.commons.math3.stat.descriptive.SummaryStatistics;
import java.util.Locale;

/**
 * Patch-length statistics (the paper reports bytes/patch; FLOPs scale with the patch count). Works as
 * a streaming {@link IntConsumer} sink: memory is O(longest patch) through an exact per-length
 * histogram, so the median is exact without storing every length.
 */
public final class PatchStats implements IntConsumer {
    private final SummaryStatistics summary = new SummaryStatistics();
    private long[] byLength = new long[64];
    private long sum;

    /** Statistics of the given lengths. */
    public static PatchStats of(int[] lengths) {
        PatchStats s = new PatchStats();
        for (int l : lengths) {
            s.accept(l);
        }
        return s;
    }

    @Override
    public void accept(int length) {
        if (length < 0) {
            throw new IllegalArgumentException("negative patch length " + length);
        }
        if (length >= byLength.length) {
            byLength = Arrays.copyOf(byLength, Math.max(length + 1, byLength.length * 2));
        }
        byLength[length]++;
        sum += length;
        summary.addValue(length);
    }

    /** Adds another accumulator's lengths. */
    public void merge(PatchStats other) {
        for (int l = 0; l < other.byLength.length; l++) {
            for (long c = 0; c < other.byLength[l]; c++) {
                accept(l);
            }
        }
    }

    public long count() {
        return summary.getN();
    }

    /** Sum of lengths (N, or N+1 per sequence with the next-token slot). */
    public long sum() {
        return sum;
    }

    /** Mean patch length; NaN when empty. */
    public double mean() {
        return count() == 0 ? Double.NaN : (double) sum / count();
    }

    public double standardDeviation() {
        return summary.getStandardDeviation();
    }

    public int min() {
        return count() == 0 ? 0 : (int) summary.getMin();
    }

    public int max() {
        return count() == 0 ? 0 : (int) summary.getMax();
    }

    /** Exact median (mean of the two middle values for an even count); NaN when empty. */
    public double median() {
        long n = count();
        if (n == 0) {
            return Double.NaN;
        }
        int lo = valueAtRank((n - 1) / 2);
        int hi = valueAtRank(n / 2);
        return (lo + hi) / 2.0;
    }

    private int valueAtRank(long rank) {
        long seen = 0;
        for (int l = 0; l < byLength.length; l++) {
            seen += byLength[l];
            if (seen > rank) {
                return l;
            }
        }
        throw new IllegalStateException();
    }

    /** {@code result[l]} = number of patches of length l, for l in 0..max. */
    public long[] countsByLength() {
        return Arrays.copyOf(byLength, max() + 1);
    }

    /**
     * Bucketed histogram for ascending upper edges e0 &lt; e1 &lt; ...: bucket 0 counts lengths ≤ e0,
     * bucket i lengths in (e[i-1], e[i]], and a last extra bucket lengths &gt; the last edge.
     */
    public long[] histogram(int... upperEdges) {
        long[] out = new long[upperEdges.length + 1];
        for (int l = 0; l < byLength.length; l++) {
            if (byLength[l] == 0) {
                continue;
            }
            int b = 0;
            while (b < upperEdges.length && l > upperEdges[b]) {
                b++;
            }
            out[b] += byLength[l];
        }
        return out;
    }

    /** Power-of-two buckets: ≤1, ≤2, ≤4, ... up to the max length. */
    public long[] histogramPow2() {
        int m = Math.max(1, max());
        int nb = 32 - Integer.numberOfLeadingZeros(m - 1) + 1;
        int[] edges = new int[nb];
        for (int i = 0; i < nb; i++) {
            edges[i] = 1 << i;
        }
        long[] h = histogram(edges);
        return Arrays.copyOf(h, nb); // nothing exceeds the last edge
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT,
                "patches=%d sum=%d mean=%.4f median=%.1f min=%d max=%d sd=%.4f",
                count(), sum, mean(), median(), min(), max(), standardDeviation());
    }
}
