package blt4j.bench;

import blt4j.compute.Backend;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * fp32 matrix products at the shapes the models run ({@code blt bench gemm}), for the side-by-side with a BLAS
 * ({@code scripts/gemm-peer.py} times the same list). A shape is {@code M,N,K[,ta,tb]}: C[M,N] = op(A)·op(B), with
 * {@code t} for an operand stored transposed. Each shape is warmed up for 1.5 s (every JIT tier reached), then timed
 * in 7 batches of about 0.3 GFLOP; the median and best batch rates are reported.
 */
public final class GemmBenchmark {

    /**
     * 1024³ as a Linear layer, then blt-tiny's products for 4 rows × 1024 bytes: the local models (d 128, FFN 512,
     * 260 logits) forward, input gradients and weight gradients, and the global model (d 256, FFN 768) over ~912
     * patches.
     */
    public static final List<String> MODEL_SHAPES = List.of(
            "1024,1024,1024,n,t",
            "4096,128,128,n,t", "4096,512,128,n,t", "4096,128,512,n,t", "4096,260,128,n,t",
            "4096,128,128", "4096,128,512",
            "128,128,4096,t,n", "512,128,4096,t,n",
            "912,256,256,n,t", "912,768,256,n,t", "912,256,768,n,t",
            "256,256,912,t,n");

    /** One parsed shape. */
    public record Shape(int m, int n, int k, boolean ta, boolean tb, String text) {
        public static Shape parse(String s) {
            String[] p = s.trim().split(",");
            if (p.length != 3 && p.length != 5) {
                throw new IllegalArgumentException("GEMM shape '" + s + "': expected M,N,K or M,N,K,ta,tb (ta/tb: n or t)");
            }
            int[] d = new int[3];
            for (int i = 0; i < 3; i++) {
                try {
                    d[i] = Integer.parseInt(p[i].trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("GEMM shape '" + s + "': '" + p[i] + "' is not a number");
                }
                if (d[i] < 1 || d[i] > 1 << 15) {
                    throw new IllegalArgumentException("GEMM shape '" + s + "': sizes must be 1 to 32768");
                }
            }
            boolean ta = p.length == 5 && flag(s, p[3]);
            boolean tb = p.length == 5 && flag(s, p[4]);
            return new Shape(d[0], d[1], d[2], ta, tb, s.trim());
        }

        private static boolean flag(String s, String f) {
            return switch (f.trim()) {
                case "t" -> true;
                case "n" -> false;
                default -> throw new IllegalArgumentException("GEMM shape '" + s + "': transpose flags are n or t, got '" + f + "'");
            };
        }

        double flops() {
            return 2.0 * m * n * k;
        }
    }

    /** One measured row. */
    public record Row(String shape, String backend, double medianGflops, double bestGflops) {}

    private GemmBenchmark() {}

    /** Times every shape on one backend (labelled, e.g. cpu-2t). */
    public static List<Row> run(String label, Backend be, List<Shape> shapes, PrintStream log) {
        List<Row> rows = new ArrayList<>();
        Random rnd = new Random(1);
        for (Shape s : shapes) {
            var a = be.fromHost(gaussian(rnd, s.m() * s.k()), s.ta() ? new int[] {s.k(), s.m()} : new int[] {s.m(), s.k()});
            var b = be.fromHost(gaussian(rnd, s.k() * s.n()), s.tb() ? new int[] {s.n(), s.k()} : new int[] {s.k(), s.n()});
            var c = be.zeros(s.m(), s.n());
            Runnable op = () -> be.matmul(a, s.ta(), b, s.tb(), c, false);
            long warm = System.nanoTime();
            while (System.nanoTime() - warm < 1_500_000_000L) {
                op.run();
            }
            be.synchronize();
            int reps = (int) Math.max(1, 3e8 / s.flops());
            double[] rates = new double[7];
            for (int i = 0; i < rates.length; i++) {
                long t0 = System.nanoTime();
                for (int r = 0; r < reps; r++) {
                    op.run();
                }
                be.synchronize();
                rates[i] = s.flops() * reps / ((System.nanoTime() - t0) / 1e9) / 1e9;
            }
            Arrays.sort(rates);
            Row row = new Row(s.text(), label, rates[rates.length / 2], rates[rates.length - 1]);
            rows.add(row);
            log.printf(Locale.ROOT, "  gemm %-22s %-10s median %7.1f GFLOP/s  best %7.1f%n", s.text(), label, row.medianGflops(),
                    row.bestGflops());
        }
        return rows;
    }

    /** gemm.csv: shape, backend, median and best GFLOP/s. */
    public static void writeCsv(Path file, List<Row> rows) throws IOException {
        StringBuilder sb = new StringBuilder("shape,backend,median_gflops,best_gflops\n");
        for (Row r : rows) {
            sb.append('"').append(r.shape()).append("\",").append(r.backend()).append(',')
                    .append(String.format(Locale.ROOT, "%.2f,%.2f", r.medianGflops(), r.bestGflops())).append('\n');
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, sb.toString());
    }

    private static float[] gaussian(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }
}
