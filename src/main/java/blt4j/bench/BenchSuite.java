package blt4j.bench;

import blt4j.compute.Backend;
import blt4j.backends.Backends;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import blt4j.compute.CpuBackend;

/**
 * The backend comparison suite behind {@code blt bench}: kernels ({@link KernelBenchmark}), model workloads
 * ({@link ModelBenchmark}) and peak micro-benchmarks ({@link PeakFlops}) on every requested backend, written to
 * {@code <out>/<yyyy-MM-dd>-<host>/} as kernels.csv, model.csv, breakdown.csv, report.md and two PNG charts. A
 * backend that cannot be created becomes a row saying it is unavailable (and a non-zero exit unless skipMissing).
 */
public final class BenchSuite {

    /** Size profiles: full (the documented sizes), quick (smaller, under 2 minutes on 2 cores), tiny (CI smoke). */
    public enum Profile {
        FULL, QUICK, TINY;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        KernelBenchmark.Sizes kernels() {
            return switch (this) {
                case FULL -> KernelBenchmark.Sizes.FULL;
                case QUICK -> KernelBenchmark.Sizes.QUICK;
                case TINY -> KernelBenchmark.Sizes.TINY;
            };
        }

        ModelBenchmark.Sizes model() {
            return switch (this) {
                case FULL -> ModelBenchmark.Sizes.FULL;
                case QUICK -> ModelBenchmark.Sizes.QUICK;
                case TINY -> ModelBenchmark.Sizes.TINY;
            };
        }
    }

    /** What to run and where. */
    /** {@code peerOnly}: of the model workloads, only the four the PyTorch peer also runs ({@link ModelBenchmark#peer}). */
    public record Options(boolean kernels, boolean model, List<String> backends, List<Integer> threads, int reps, int warmups,
                          Profile profile, boolean skipMissing, Path out, String deviceProfile, boolean peerOnly) {
        public Options(boolean kernels, boolean model, List<String> backends, List<Integer> threads, int reps, int warmups,
                       Profile profile, boolean skipMissing, Path out, String deviceProfile) {
            this(kernels, model, backends, threads, reps, warmups, profile, skipMissing, out, deviceProfile, false);
        }
    }

    /** What a run produced; exitCode is 0, or 3 when a backend was missing and skipMissing was not given. */
    public record Result(int exitCode, Path folder, List<String> missing, List<KernelBenchmark.Row> kernelRows,
                         List<ModelBenchmark.Row> modelRows, List<ModelBenchmark.StageRow> stageRows) {}

    /** Exit code when a requested backend is unavailable and --skip-missing was not given. */
    public static final int EXIT_MISSING = 3;

    private final Options o;
    private final PrintStream log;

    public BenchSuite(Options options, PrintStream log) {
        this.o = options;
        this.log = log;
    }

    /** label → factory for every requested backend (cpu once per thread count). */
    private Map<String, Supplier<Backend>> factories() {
        Map<String, Supplier<Backend>> f = new LinkedHashMap<>();
        for (String name : o.backends()) {
            if (name.equals("cpu")) {
                for (int t : o.threads()) {
                    f.put("cpu-" + t + "t", () -> Backends.create("cpu", t, null));
                }
            } else {
                if (!Backends.NAMES.contains(name)) {
                    throw new IllegalArgumentException("unknown backend '" + name + "' (known: " + String.join(", ", Backends.NAMES) + ")");
                }
                f.put(name, () -> Backends.create(name, 0, o.deviceProfile()));
            }
        }
        return f;
    }

    public Result run() {
        RunInfo info = RunInfo.collect(o.profile().label(), o.deviceProfile());
        String loadBefore = RunInfo.loadAverage();
        long start = System.nanoTime();
        log.printf("blt bench (%s profile, %d reps, %d warm-ups) on %s, %s%n", o.profile().label(), o.reps(), o.warmups(),
                info.machine(), info.jdk());
        Map<String, Backend> live = new LinkedHashMap<>();
        Map<String, Supplier<Backend>> factories = factories();
        Map<String, String> missing = new LinkedHashMap<>();
        ModelBenchmark mb = new ModelBenchmark(o.profile().model(), o.reps(), o.warmups(), log);
        List<ModelBenchmark.Row> peakRows = new ArrayList<>();
        Map<String, double[]> peaks = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Supplier<Backend>> e : factories.entrySet()) {
                try {
                    if (o.model() && !o.peerOnly()) {
                        mb.startup(e.getKey(), e.getValue());
                    }
                    live.put(e.getKey(), e.getValue().get());
                } catch (RuntimeException | LinkageError ex) {
                    String why = ex.getMessage() == null ? ex.toString() : ex.getMessage();
                    missing.put(e.getKey(), why);
                    log.println("  " + e.getKey() + ": unavailable: " + why);
                }
            }
            for (Map.Entry<String, Backend> e : live.entrySet()) {
                double[] p = peak(e.getKey(), e.getValue(), info, peakRows);
                peaks.put(e.getKey(), p);
            }
            List<KernelBenchmark.Row> kernelRows = new ArrayList<>();
            if (o.kernels()) {
                KernelBenchmark kb = new KernelBenchmark(o.reps(), o.profile() != Profile.FULL, o.profile().kernels(), o.out(), log);
                kernelRows.addAll(kb.measure(live));
                for (Map.Entry<String, String> m : missing.entrySet()) {
                    kernelRows.add(KernelBenchmark.Row.unavailable(m.getKey(), m.getValue()));
                }
            }
            List<ModelBenchmark.Row> modelRows = new ArrayList<>(peakRows);
            if (o.model()) {
                for (Map.Entry<String, Backend> e : live.entrySet()) {
                    log.println("model workloads on " + e.getKey() + ": " + e.getValue().describe());
                    if (o.peerOnly()) {
                        mb.peer(e.getKey(), e.getValue(), peaks.get(e.getKey())[0]);
                    } else {
                        mb.run(e.getKey(), e.getValue(), peaks.get(e.getKey())[0]);
                    }
                }
                // the peak again after the workloads: a peak is a maximum, and on a shared VM one reading once came
                // out at half the other, which put MFU over 100%
                for (Map.Entry<String, Backend> e : live.entrySet()) {
                    double before = peaks.get(e.getKey())[0];
                    double after = measurePeak(e.getValue());
                    if (after > before) {
                        peaks.get(e.getKey())[0] = after;
                    }
                    log.printf(Locale.ROOT, "  peak %-10s %8.1f GFLOP/s before the workloads, %.1f after: MFU over %.1f%n",
                            e.getKey(), before, after, Math.max(before, after));
                    replacePeakRow(modelRows, e.getKey(), before, after);
                }
                for (ModelBenchmark.Row r : mb.rows()) {
                    double[] p = peaks.get(r.backend());
                    modelRows.add(p != null && !Double.isNaN(r.peakGflops()) ? r.withPeak(p[0]) : r);
                }
                for (Map.Entry<String, String> m : missing.entrySet()) {
                    modelRows.add(ModelBenchmark.Row.unavailable(m.getKey(), m.getValue()));
                }
            }
            Map<String, String> descriptions = new LinkedHashMap<>();
            for (Map.Entry<String, Backend> e : live.entrySet()) {
                descriptions.put(e.getKey(), e.getValue().describe());
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Path dir = new ReportWriter(o, info, loadBefore, seconds, descriptions, missing, peaks)
                    .write(kernelRows, modelRows, mb.stages());
            log.println("wrote " + dir.resolve("report.md") + " (and CSV/PNG files beside it) in "
                    + String.format(Locale.ROOT, "%.0f s", seconds));
            int code = !missing.isEmpty() && !o.skipMissing() ? EXIT_MISSING : 0;
            if (code != 0) {
                log.println("blt bench: unavailable backend(s) " + String.join(", ", missing.keySet())
                        + " (reported as rows; pass --skip-missing to exit 0)");
            }
            return new Result(code, dir, new ArrayList<>(missing.keySet()), kernelRows, modelRows, mb.stages());
        } finally {
            for (Backend b : live.values()) {
                b.close();
            }
        }
    }

    /**
     * Measures the backend's peak (GFLOP/s) and, for host backends, triad bandwidth (GB/s); adds a row each.
     * reference: scalar FMA, one thread; cpu-Nt: Vector API FMA on N threads; others: not measured (NaN).
     */
    private double[] peak(String label, Backend be, RunInfo info, List<ModelBenchmark.Row> rows) {
        double scale = peakScale();
        double peak = measurePeak(be);
        String how;
        int threads;
        if (be.name().equals("reference")) {
            threads = 1;
            how = "scalar Math.fma on 12 independent float accumulators, 1 thread";
        } else if (be instanceof CpuBackend c) {
            threads = c.threads();
            how = "Vector API FMA (" + PeakFlops.lanes() + " fp32 lanes) on 12 independent accumulators per thread, "
                    + threads + " thread(s)";
        } else {
            rows.add(peakRow(label, be, "peak fp32 FMA", Double.NaN, Double.NaN, "not measured for this backend"));
            return new double[] {Double.NaN, Double.NaN};
        }
        int runs = peakRuns();
        int floats = (int) Math.max(1 << 16, 16_000_000 * Math.min(1.0, scale * 2));
        double bw = PeakFlops.triadBandwidth(threads, floats, runs);
        rows.add(peakRow(label, be, "peak fp32 FMA", peak, Double.NaN, how + "; the measured peak, denominator of every MFU"));
        rows.add(peakRow(label, be, "memory triad a=b+s*c", Double.NaN, bw * 1e9, String.format(Locale.ROOT,
                "%,d floats per array, %d thread(s), 12 bytes per element; bytes/s = bandwidth", floats, threads)));
        log.printf(Locale.ROOT, "  peak %-10s %8.1f GFLOP/s (measured)  triad %.1f GB/s%n", label, peak, bw);
        return new double[] {peak, bw};
    }

    /** Work per peak run relative to the full profile's. */
    private double peakScale() {
        return switch (o.profile()) {
            case FULL -> 1.0;
            case QUICK -> 0.3;
            case TINY -> 0.01;
        };
    }

    private int peakRuns() {
        return o.profile() == Profile.FULL ? 5 : o.profile() == Profile.QUICK ? 3 : 1;
    }

    /** The backend's fp32 FMA peak in GFLOP/s, best of {@link #peakRuns} runs (NaN for a device backend). */
    private double measurePeak(Backend be) {
        long iters = (long) (1e8 * peakScale());
        if (be.name().equals("reference")) {
            return PeakFlops.scalar(iters, peakRuns());
        }
        if (be instanceof CpuBackend c) {
            return PeakFlops.vector(c.threads(), iters, peakRuns());
        }
        return Double.NaN;
    }

    /** The backend's "peak fp32 FMA" row, now the larger of the two readings, both given in its note. */
    private static void replacePeakRow(List<ModelBenchmark.Row> rows, String label, double before, double after) {
        for (int i = 0; i < rows.size(); i++) {
            ModelBenchmark.Row r = rows.get(i);
            if (r.backend().equals(label) && r.workload().equals("peak fp32 FMA") && !Double.isNaN(before)) {
                double best = Double.isNaN(after) ? before : Math.max(before, after);
                rows.set(i, new ModelBenchmark.Row(r.workload(), r.backend(), r.description(), r.warmups(), r.reps(),
                        r.medianMs(), r.ciLowMs(), r.ciHighMs(), r.ciLevel(), r.cv(), r.bytes(), r.bytesPerSec(),
                        r.patchesPerSec(), r.flops(), best, r.peakGflops(), r.mfu(), r.status(),
                        r.note() + String.format(Locale.ROOT, "; the larger of %.1f before the workloads and %.1f after",
                                before, after)));
            }
        }
    }

    private static ModelBenchmark.Row peakRow(String label, Backend be, String workload, double gflops, double bytesPerSec,
                                              String note) {
        return new ModelBenchmark.Row(workload, label, be.describe(), 0, 1, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN, Double.NaN, bytesPerSec, Double.NaN, Double.NaN, gflops, Double.NaN, Double.NaN, "ok", note);
    }

    static void writeText(Path p, String text) {
        try {
            Files.writeString(p, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + p, e);
        }
    }
}
