package blt4j.cli;

import blt4j.backends.Backends;

import blt4j.bench.BenchSuite;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import java.util.LinkedHashSet;

/** {@code blt bench [kernels|model|all]}: the backend comparison suite. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Compare backends: kernels (matmul, matvec, attention, entropy), model workloads "
                + "(entropy scoring, BLT training step with MFU, prefill and generation next to the byte-transformer "
                + "baseline, start-up costs, per-stage breakdown) and peak FLOP/bandwidth micro-benchmarks.",
                "Writes <out>/<date>-<host>/: kernels.csv, model.csv, breakdown.csv, report.md, speedup.png, roofline.png.",
                "A backend that cannot be created is reported as an unavailable row; the exit code is then "
                        + BenchSuite.EXIT_MISSING + " unless --skip-missing."})
final class BenchCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", defaultValue = "all", description = "kernels, model or all (default: ${DEFAULT-VALUE}).")
    String what;

    @Option(names = "--backends", split = ",", defaultValue = "reference,cpu",
            description = "Backends to compare (reference, cpu, opencl; default: ${DEFAULT-VALUE}).")
    List<String> backends;

    @Option(names = "--threads", split = ",", description = "Thread counts for the cpu backend (default: 1 and all cores).")
    List<Integer> threads;

    @Option(names = "--reps", description = "Measured repetitions per cell (default: 10, quick: 3).")
    Integer reps;

    @Option(names = "--warmups", description = "Discarded warm-up repetitions of model workloads (default: 2, quick: 1).")
    Integer warmups;

    @Option(names = "--quick", description = "Smaller sizes and fewer repetitions: under 2 minutes on 2 cores.")
    boolean quick;

    @Option(names = "--tiny", description = "Toy sizes (CI smoke test; the numbers mean nothing).")
    boolean tiny;

    @Option(names = "--skip-missing", description = "Exit 0 even when a requested backend is unavailable (still reported).")
    boolean skipMissing;

    @Option(names = "--out", defaultValue = "results", description = "Results root (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--device-profile", description = "OpenCL device profile (a tornado-config/*.properties file or its name).")
    String deviceProfile;

    @Override
    public Integer call() {
        boolean kernels;
        boolean model;
        switch (what) {
            case "kernels" -> { kernels = true; model = false; }
            case "model" -> { kernels = false; model = true; }
            case "all" -> { kernels = true; model = true; }
            default -> throw new IllegalArgumentException("unknown selection '" + what + "' (kernels, model or all)");
        }
        BenchSuite.Profile profile = tiny ? BenchSuite.Profile.TINY : quick ? BenchSuite.Profile.QUICK : BenchSuite.Profile.FULL;
        List<Integer> t = threads;
        if (t == null || t.isEmpty()) {
            int n = Runtime.getRuntime().availableProcessors();
            t = n == 1 ? List.of(1) : List.of(1, n);
        }
        for (int x : t) {
            if (x < 1 || x > 1024) {
                throw new IllegalArgumentException("--threads: thread counts must be 1 to 1024, got " + x);
            }
        }
        int r = reps != null ? reps : profile == BenchSuite.Profile.FULL ? 10 : profile == BenchSuite.Profile.QUICK ? 3 : 2;
        int w = warmups != null ? warmups : profile == BenchSuite.Profile.FULL ? 2 : 1;
        if (r < 1 || w < 0) {
            throw new IllegalArgumentException("--reps must be at least 1 and --warmups at least 0");
        }
        List<String> names = new ArrayList<>();
        for (String b : backends) {
            if (!b.isBlank() && !Backends.NAMES.contains(b.trim())) {
                throw new IllegalArgumentException("--backends: unknown backend '" + b.trim() + "' (known: "
                        + String.join(", ", Backends.NAMES) + ")");
            }
            if (!b.isBlank() && !names.contains(b.trim())) {
                names.add(b.trim());
            }
        }
        BenchSuite.Options o = new BenchSuite.Options(kernels, model, names, List.copyOf(new LinkedHashSet<>(t)), r, w,
                profile, skipMissing, out, deviceProfile);
        return new BenchSuite(o, System.out).run().exitCode();
    }
}
