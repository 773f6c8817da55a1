package blt4j.bench;

import blt4j.compute.Backend;
import java.util.Arrays;
import java.util.Locale;
import org.apache.commons.math3.distribution.BinomialDistribution;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;

/**
 * The statistics every benchmark table shares: warm-ups discarded, each repetition timed alone, the median with a
 * distribution-free 95% confidence interval (binomial order statistics) and the coefficient of variation.
 */
public final class Stats {
    private Stats() {}

    /** Summary of repeated timings in milliseconds. */
    public record Summary(int warmups, int reps, double medianMs, double ciLowMs, double ciHighMs, double ciLevel, double cv,
                          double minMs) {
        public String ciText() {
            return String.format(Locale.ROOT, "%s–%s ms, %.0f%%", fmt(ciLowMs, 3), fmt(ciHighMs, 3), 100 * ciLevel);
        }

        /** An empty summary (nothing measured). */
        public static Summary none() {
            return new Summary(0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
    }

    /** Median, CI of the median, coefficient of variation (sample standard deviation / mean) and minimum. */
    public static Summary summarize(int warmups, double[] ms) {
        DescriptiveStatistics d = new DescriptiveStatistics(ms);
        double[] ci = medianCi(ms);
        double cv = ms.length > 1 && d.getMean() > 0 ? d.getStandardDeviation() / d.getMean() : Double.NaN;
        return new Summary(warmups, ms.length, d.getPercentile(50), ci[0], ci[1], ci[2], cv, d.getMin());
    }

    /** Runs {@code op} warmups times (discarded), then times reps runs alone, synchronising the backend after each. */
    public static Summary time(Backend be, int warmups, int reps, Runnable op) {
        for (int i = 0; i < warmups; i++) {
            op.run();
        }
        if (be != null) {
            be.synchronize();
        }
        double[] ms = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            op.run();
            if (be != null) {
                be.synchronize();
            }
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        return summarize(warmups, ms);
    }

    /**
     * Distribution-free CI of the median: order statistics x(j) ≤ median ≤ x(n−1−j) with the largest j whose
     * coverage 1 − 2·P(Bin(n, ½) ≤ j) is still ≥ 95%. With fewer than 6 samples no such j exists: the range
     * min..max is returned with its (lower) coverage.
     */
    public static double[] medianCi(double[] samples) {
        double[] s = samples.clone();
        Arrays.sort(s);
        int n = s.length;
        if (n == 1) {
            return new double[] {s[0], s[0], 0};
        }
        BinomialDistribution bin = new BinomialDistribution(null, n, 0.5);
        int best = 0;
        double coverage = 1 - 2 * bin.probability(0);
        for (int j = 1; j < n / 2; j++) {
            double cov = 1 - 2 * bin.cumulativeProbability(j);
            if (cov < 0.95) {
                break;
            }
            best = j;
            coverage = cov;
        }
        return new double[] {s[best], s[n - 1 - best], coverage};
    }

    public static String fmt(double v, int decimals) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "-" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    /** A CSV number: empty for NaN. */
    public static String num(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
    }

    /** One CSV cell; line breaks (e.g. in an error message) become "; " so every row stays on one line. */
    public static String csvQuote(String s) {
        String oneLine = s.replaceAll("\\s*\\R\\s*", "; ").strip();
        return "\"" + oneLine.replace("\"", "\"\"") + "\"";
    }
}
