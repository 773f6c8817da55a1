package blt4j.generate;

import java.util.Arrays;
import java.util.Random;

/** Picks the next token from logits: greedy (temperature 0), or temperature with optional top-p (nucleus). */
public final class Sampler {
    private final double temperature;
    private final double topP;
    private final Random random;

    public Sampler(double temperature, double topP, long seed) {
        if (temperature < 0 || topP <= 0 || topP > 1) {
            throw new IllegalArgumentException("temperature must be ≥ 0 and top-p in (0, 1]");
        }
        this.temperature = temperature;
        this.topP = topP;
        this.random = new Random(seed);
    }

    public static Sampler greedy() {
        return new Sampler(0, 1, 0);
    }

    public int pick(float[] logits) {
        if (temperature == 0) {
            return argmax(logits);
        }
        int n = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
            p[i] /= sum;
        }
        Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
        double kept = 0;
        int cut = 0;
        while (cut < n && (cut == 0 || kept < topP)) {
            kept += p[order[cut++]];
        }
        double r = random.nextDouble() * kept;
        for (int i = 0; i < cut; i++) {
            r -= p[order[i]];
            if (r <= 0) {
                return order[i];
            }
        }
        return order[cut - 1];
    }

    /** Lowest index among equal maxima, so greedy decoding is deterministic. */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
