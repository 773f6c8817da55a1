package blt4j.generate;

import java.util.Arrays;
import java.util.Random;
import java.util.SplittableRandom;

/** Picks the next token from logits: greedy (temperature 0), or temperature with optional top-p (nucleus). */
public final class Sampler {
    private final double temperature;
    private final double topP;
    private final Random random;
    private final long seed;

    public Sampler(double temperature, double topP, long seed) {
        if (temperature < 0 || topP <= 0 || topP > 1) {
            throw new IllegalArgumentException("temperature must be ≥ 0 and top-p in (0, 1]");
        }
        this.temperature = temperature;
        this.topP = topP;
        this.seed = seed;
        // java.util.Random's first draws are correlated for nearby seeds (0, 1, 2, ...); mix the seed first
        this.random = new Random(new SplittableRandom(seed).nextLong());
    }

    /** A sampler with the same settings and seed, at the start of its random stream. */
    public Sampler fresh() {
        return new Sampler(temperature, topP, seed);
    }

    public static Sampler greedy() {
        return new Sampler(0, 1, 0);
    }

    /** Samples an id: the argmax when greedy, else from {@link #distribution} (the nucleus, most likely first). */
    public int pick(float[] logits) {
        if (temperature == 0) {
            return argmax(logits);
        }
        Nucleus nu = nucleus(logits);
        double r = random.nextDouble() * nu.mass;
        for (int i = 0; i < nu.size; i++) {
            r -= nu.p[nu.order[i]];
            if (r <= 0) {
                return nu.order[i];
            }
        }
        return nu.order[nu.size - 1];
    }

    /**
     * The distribution {@link #pick} samples from: softmax at the temperature, cut to the smallest set of most likely
     * ids whose mass reaches top-p and renormalised (one-hot at the argmax when greedy). Ties keep the lower id first.
     */
    public double[] distribution(float[] logits) {
        double[] out = new double[logits.length];
        if (temperature == 0) {
            out[argmax(logits)] = 1;
            return out;
        }
        Nucleus nu = nucleus(logits);
        for (int i = 0; i < nu.size; i++) {
            out[nu.order[i]] = nu.p[nu.order[i]] / nu.mass;
        }
        return out;
    }

    /** Softmax probabilities p, ids by falling p (stable: ties keep the lower id first), the top-p cut and its mass. */
    private record Nucleus(double[] p, Integer[] order, int size, double mass) {}

    private Nucleus nucleus(float[] logits) {
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
        return new Nucleus(p, order, cut, kept);
    }

    /** Draws an id from a distribution with this sampler's random stream. */
    public int sample(double[] dist) {
        double r = random.nextDouble();
        double acc = 0;
        int last = 0;
        for (int i = 0; i < dist.length; i++) {
            if (dist[i] > 0) {
                acc += dist[i];
                last = i;
                if (r < acc) {
                    return i;
                }
            }
        }
        return last;
    }

    /** A uniform draw in [0, 1) from this sampler's random stream (speculative acceptance tests). */
    public double uniform() {
        return random.nextDouble();
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
