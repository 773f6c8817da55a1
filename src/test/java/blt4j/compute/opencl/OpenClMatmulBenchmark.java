package blt4j.compute.opencl;

import blt4j.compute.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Manual measurement (skipped unless -Dblt4j.bench=true): program build time, first-launch time and
 * matmul 1024³ GFLOP/s of the naive and tiled kernels. Run alone so the build is cold:
 * {@code mvn -q test -Dtest=OpenClMatmulBenchmark -Dblt4j.bench=true}.
 */
class OpenClMatmulBenchmark {
    @Test
    void matmul1024() {
        Assumptions.assumeTrue(Boolean.getBoolean("blt4j.bench"), "benchmark: run with -Dblt4j.bench=true");
        long t0 = System.nanoTime();
        try (OpenClBackend cl = OpenClTestSupport.backend()) {
            double createMs = (System.nanoTime() - t0) / 1e6;
            int n = 1024;
            float[] x = new float[n * n];
            Random rnd = new Random(1);
            for (int i = 0; i < x.length; i++) x[i] = rnd.nextFloat() - 0.5f;
            Tensor a = cl.fromHost(x, n, n);
            Tensor b = cl.fromHost(x, n, n);
            Tensor c = cl.zeros(n, n);
            Tensor s = cl.zeros(4);
            cl.synchronize();
            long f0 = System.nanoTime();
            cl.scale(s, 1f, s);
            cl.synchronize();
            double firstSmallMs = (System.nanoTime() - f0) / 1e6;
            long f1 = System.nanoTime();
            cl.scale(s, 1f, s);
            cl.synchronize();
            double secondSmallMs = (System.nanoTime() - f1) / 1e6;
            System.out.printf("[bench] device: %s%n", cl.describe());
            System.out.printf("[bench] program build (%s): %.0f ms; backend construction total: %.0f ms%n", cl.programOrigin(),
                    cl.programBuildMillis(), createMs);
            System.out.printf("[bench] first launch of a kernel (scale, 4 elements): %.1f ms; second launch: %.2f ms%n",
                    firstSmallMs, secondSmallMs);
            for (boolean tb : new boolean[] {false, true})
            for (DeviceProfile.MatmulVariant v : new DeviceProfile.MatmulVariant[] {DeviceProfile.MatmulVariant.NAIVE,
                    DeviceProfile.MatmulVariant.TILED}) {
                long l0 = System.nanoTime();
                cl.matmulWith(v, a, false, b, tb, c, false);
                cl.synchronize();
                double firstMs = (System.nanoTime() - l0) / 1e6;
                int reps = 3;
                double best = Double.MAX_VALUE;
                for (int r = 0; r < reps; r++) {
                    long r0 = System.nanoTime();
                    cl.matmulWith(v, a, false, b, tb, c, false);
                    cl.synchronize();
                    best = Math.min(best, (System.nanoTime() - r0) / 1e9);
                }
                System.out.printf("[bench] matmul 1024^3 " + (tb ? "A·Bᵀ" : "A·B") + " %s: first call %.0f ms, best of %d %.1f ms = %.1f GFLOP/s%n", v, firstMs,
                        reps, best * 1e3, 2.0 * n * n * n / best / 1e9);
            }
        }
    }
}
