package blt4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import java.util.Arrays;

/**
 * Peak-FLOP and memory-bandwidth micro-benchmarks, the denominators of model FLOPs utilisation and the roofline:
 * <ul>
 *   <li>vector: a Vector API FMA loop on 12 independent accumulators (enough to cover FMA latency × pipes on
 *       current x86 and ARM cores), run on T threads at once, fp32;</li>
 *   <li>scalar: the same with {@link Math#fma(float, float, float)} on plain floats, one thread (the reference
 *       backend's ceiling);</li>
 *   <li>bandwidth: a STREAM-style triad a = b + s·c over arrays far larger than the caches, T threads.</li>
 * </ul>
 * Each figure is the best of several timed runs (a peak, not a typical value).
 */
public final class PeakFlops {
    private PeakFlops() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static volatile float sink;

    /** GFLOP/s of fp32 vector FMAs on {@code threads} threads. */
    public static double vector(int threads, long itersPerThread, int runs) {
        return parallel(threads, runs, () -> vectorLoop(itersPerThread), 2.0 * 12 * S.length() * itersPerThread);
    }

    /** GFLOP/s of scalar fp32 FMAs on one thread. */
    public static double scalar(long iters, int runs) {
        return parallel(1, runs, () -> scalarLoop(iters), 2.0 * 12 * iters);
    }

    /** GB/s of a triad over {@code floats}-element arrays (12 bytes moved per element), {@code threads} threads. */
    public static double triadBandwidth(int threads, int floats, int runs) {
        float[] a = new float[floats];
        float[] b = new float[floats];
        float[] c = new float[floats];
        Arrays.fill(b, 1f);
        Arrays.fill(c, 2f);
        int chunk = (floats + threads - 1) / threads;
        return parallelIndexed(threads, runs, t -> {
            int lo = t * chunk;
            int hi = Math.min(floats, lo + chunk);
            int i = lo;
            FloatVector s = FloatVector.broadcast(S, 0.5f);
            for (; i + S.length() <= hi; i += S.length()) {
                FloatVector.fromArray(S, b, i).add(FloatVector.fromArray(S, c, i).mul(s)).intoArray(a, i);
            }
            for (; i < hi; i++) {
                a[i] = b[i] + 0.5f * c[i];
            }
            return a[lo];
        }, 12.0 * floats);
    }

    /** Lanes of the preferred species (for reports). */
    public static int lanes() {
        return S.length();
    }

    private static float vectorLoop(long iters) {
        FloatVector a = FloatVector.broadcast(S, 0.999f);
        FloatVector b = FloatVector.broadcast(S, 1e-6f);
        FloatVector c0 = FloatVector.broadcast(S, 1f), c1 = c0.add(1), c2 = c0.add(2), c3 = c0.add(3), c4 = c0.add(4),
                c5 = c0.add(5), c6 = c0.add(6), c7 = c0.add(7), c8 = c0.add(8), c9 = c0.add(9), c10 = c0.add(10),
                c11 = c0.add(11);
        for (long i = 0; i < iters; i++) {
            c0 = c0.fma(a, b);
            c1 = c1.fma(a, b);
            c2 = c2.fma(a, b);
            c3 = c3.fma(a, b);
            c4 = c4.fma(a, b);
            c5 = c5.fma(a, b);
            c6 = c6.fma(a, b);
            c7 = c7.fma(a, b);
            c8 = c8.fma(a, b);
            c9 = c9.fma(a, b);
            c10 = c10.fma(a, b);
            c11 = c11.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    private static float scalarLoop(long iters) {
        float a = 0.999f, b = 1e-6f;
        float c0 = 1, c1 = 2, c2 = 3, c3 = 4, c4 = 5, c5 = 6, c6 = 7, c7 = 8, c8 = 9, c9 = 10, c10 = 11, c11 = 12;
        for (long i = 0; i < iters; i++) {
            c0 = Math.fma(c0, a, b);
            c1 = Math.fma(c1, a, b);
            c2 = Math.fma(c2, a, b);
            c3 = Math.fma(c3, a, b);
            c4 = Math.fma(c4, a, b);
            c5 = Math.fma(c5, a, b);
            c6 = Math.fma(c6, a, b);
            c7 = Math.fma(c7, a, b);
            c8 = Math.fma(c8, a, b);
            c9 = Math.fma(c9, a, b);
            c10 = Math.fma(c10, a, b);
            c11 = Math.fma(c11, a, b);
        }
        return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
    }

    private static double parallel(int threads, int runs, Callable<Float> body, double workPerThread) {
        return parallelIndexed(threads, runs, t -> body.call(), workPerThread * threads);
    }

    private interface Indexed {
        float run(int thread) throws Exception;
    }

    /** Best rate (work / 1e9 / s) over runs; the first run is a warm-up for the JIT. */
    private static double parallelIndexed(int threads, int runs, Indexed body, double totalWork) {
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "peak-flops");
            t.setDaemon(true);
            return t;
        });
        try {
            double best = 0;
            for (int run = 0; run <= runs; run++) {
                List<Future<Float>> fs = new ArrayList<>();
                long t0 = System.nanoTime();
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    fs.add(pool.submit(() -> body.run(id)));
                }
                float acc = 0;
                for (Future<Float> f : fs) {
                    acc += f.get();
                }
                double secs = (System.nanoTime() - t0) / 1e9;
                sink = acc;
                if (run > 0) {
                    best = Math.max(best, totalWork / secs / 1e9);
                }
            }
            return best;
        } catch (Exception e) {
            throw new IllegalStateException("peak benchmark failed", e);
        } finally {
            pool.shutdownNow();
        }
    }
}
