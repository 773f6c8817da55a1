package blt4j.cli;

import blt4j.backends.Backends;

import blt4j.bench.BenchSuite;
import blt4j.bench.GemmBenchmark;
import blt4j.bench.GenerationBenchmark;
import blt4j.bench.RunInfo;
import blt4j.compute.Backend;
import blt4j.io.AtomicFiles;
import blt4j.model.ByteLatentTransformer;
import blt4j.patch.PatchingScheme;
import blt4j.train.ModelFiles;
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

    @Parameters(index = "0", arity = "0..1", defaultValue = "all", description = "kernels, model, all (default: "
            + "${DEFAULT-VALUE}); gemm: matrix products at the models' shapes (see --shapes); peer: only the four model workloads the PyTorch peer runs (BLT and byte-transformer "
            + "training step and forward, scripts/compare-pytorch.sh); peak: the FMA peak on one thread and on all cores, in about a second; or generation: plain, speculative (k = 2, 4, 8) and batched (1, 4, 16 prompts) greedy "
            + "generation on the trained checkpoint given by -c.")
    String what;

    @Option(names = "--backends", split = ",",
            description = "Backends to compare (reference, cpu, opencl; default: reference,cpu; bench gemm: cpu).")
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

    @Option(names = {"-c", "--checkpoint"}, description = "BLT run or checkpoint folder (bench generation only).")
    Path checkpoint;

    @Option(names = "--model", description = "bench generation on a preset shape with random weights instead of -c "
            + "(blt-tiny, blt-1b, ...).")
    String model;

    @Option(names = "--hash-vocab", description = "bench generation --model: rows per hash table (blt-1b has 500002; "
            + "fewer keep the work per byte and save memory).")
    Integer hashVocab;

    @Option(names = "--entropy-model", defaultValue = "entropy-tiny", description = "bench generation --model: the "
            + "entropy model preset (default: ${DEFAULT-VALUE}; entropy-released is the 100M one).")
    String entropyModel;

    @Option(names = "--target-patch-size", description = "bench generation -c: replace the checkpoint's patching by a "
            + "global threshold giving this many bytes per patch on the benchmark prompts (for random-weight checkpoints "
            + "from blt init, whose entropies are all alike).")
    Double targetPatchSize;

    @Option(names = "--bytes", description = "Greedy bytes per prompt (bench generation only; default: 500).")
    void setBytes(int v) {
        bytes = FlagException.atLeast("--bytes", v, 1);
    }

    int bytes = 500;

    @Override
    public Integer call() throws Exception {
        boolean kernels;
        boolean model;
        boolean peer = false;
        switch (what) {
            case "kernels" -> { kernels = true; model = false; }
            case "model" -> { kernels = false; model = true; }
            case "peer" -> { kernels = false; model = true; peer = true; }
            case "all" -> { kernels = true; model = true; }
            case "generation" -> {
                return generation();
            }
            case "gemm" -> {
                return gemm();
            }
            case "peak" -> {
                return peak();
            }
            default -> throw new IllegalArgumentException("unknown selection '" + what
                    + "' (kernels, model, peer, gemm, peak, all or generation)");
        }
        if (checkpoint != null) {
            throw new IllegalArgumentException("-c/--checkpoint is for 'blt bench generation'");
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
        BenchSuite.Options o = new BenchSuite.Options(kernels, model, backendNames(), List.copyOf(new LinkedHashSet<>(t)), r, w,
                profile, skipMissing, out, deviceProfile, peer);
        return new BenchSuite(o, System.out).run().exitCode();
    }

    private List<String> backendNames() {
        List<String> names = new ArrayList<>();
        List<String> asked = backends != null ? backends : "gemm".equals(what) ? List.of("cpu") : List.of("reference", "cpu");
        for (String b : asked) {
            if (!b.isBlank() && !Backends.NAMES.contains(b.trim())) {
                throw new IllegalArgumentException("--backends: unknown backend '" + b.trim() + "' (known: "
                        + String.join(", ", Backends.NAMES) + ")");
            }
            if (!b.isBlank() && !names.contains(b.trim())) {
                names.add(b.trim());
            }
        }
        return names;
    }

    /** {@code blt bench generation -c RUN}: every generation mode on each backend, written to generation.csv and .md. */
    @Option(names = "--shapes", split = " ", description = "bench gemm: products M,N,K[,ta,tb] (t: operand stored "
            + "transposed), space-separated in one argument; default: 1024³ and blt-tiny's own shapes.")
    List<String> shapes;

    @Option(names = "--print-shapes", description = "bench gemm: print the default shapes (for a peer to time the same) and exit.")
    boolean printShapes;

    /**
     * blt bench peak: the vector FMA peak on one thread and on all cores, in about a second, as one line. A shared VM
     * sometimes gives two vCPUs one core's worth for minutes; scripts/compare-pytorch.sh logs this line around every
     * segment so such phases show.
     */
    private int peak() {
        int n = Runtime.getRuntime().availableProcessors();
        long iters = 40_000_000L;
        // short calls first, so the FMA loop runs compiled (interpreted, every vector is an object)
        for (int i = 0; i < 20; i++) {
            blt4j.bench.PeakFlops.vector(1, 100_000L, 1);
        }
        double one = blt4j.bench.PeakFlops.vector(1, iters, 3);
        double all = blt4j.bench.PeakFlops.vector(n, iters, 3);
        System.out.printf(java.util.Locale.ROOT, "fma peak: 1 thread %.1f GFLOP/s, %d threads %.1f GFLOP/s (%.2f cores' worth)%n",
                one, n, all, all / one);
        return 0;
    }

    /** blt bench gemm: matrix products at the models' shapes on each backend and thread count; writes gemm.csv. */
    private int gemm() throws java.io.IOException {
        if (printShapes) {
            System.out.println(String.join(" ", GemmBenchmark.MODEL_SHAPES));
            return 0;
        }
        if (checkpoint != null) {
            throw new IllegalArgumentException("-c/--checkpoint is for 'blt bench generation'");
        }
        List<GemmBenchmark.Shape> list = new ArrayList<>();
        for (String s : shapes == null || shapes.isEmpty() ? GemmBenchmark.MODEL_SHAPES : shapes) {
            if (!s.isBlank()) {
                list.add(GemmBenchmark.Shape.parse(s));
            }
        }
        List<Integer> t = threads == null || threads.isEmpty() ? List.of(1, Runtime.getRuntime().availableProcessors()) : threads;
        RunInfo info = RunInfo.collect("gemm", deviceProfile);
        System.out.println("blt bench gemm on " + info.machine() + ", " + info.jdk() + "; load average " + RunInfo.loadAverage());
        List<GemmBenchmark.Row> rows = new ArrayList<>();
        int code = 0;
        for (String name : backendNames()) {
            for (int n : name.equals("cpu") ? List.copyOf(new LinkedHashSet<>(t)) : List.of(0)) {
                String label = name.equals("cpu") ? "cpu-" + n + "t" : name;
                Backend backend;
                try {
                    backend = Backends.create(name, n, deviceProfile);
                } catch (RuntimeException | LinkageError e) {
                    System.out.println("blt bench gemm: backend " + label + " unavailable: " + e.getMessage());
                    code = skipMissing ? code : BenchSuite.EXIT_MISSING;
                    continue;
                }
                try (backend) {
                    rows.addAll(GemmBenchmark.run(label, backend, list, System.out));
                }
            }
        }
        Path dir = info.folder(out).resolveSibling(info.folder(out).getFileName() + "-gemm");
        GemmBenchmark.writeCsv(dir.resolve("gemm.csv"), rows);
        System.out.println("wrote " + dir.resolve("gemm.csv"));
        return code;
    }

    private int generation() throws java.io.IOException {
        if ((checkpoint == null) == (model == null)) {
            throw new IllegalArgumentException("bench generation needs -c/--checkpoint (a trained BLT run or checkpoint) or "
                    + "--model PRESET (random weights), not both");
        }
        if (checkpoint != null) {
            ModelFiles.resolve(checkpoint);
            if (hashVocab != null) {
                throw new IllegalArgumentException("--hash-vocab goes with --model (random weights), not with -c");
            }
        }
        if (targetPatchSize != null && (checkpoint == null || !(targetPatchSize >= 1 && targetPatchSize <= 1e6))) {
            throw new IllegalArgumentException("--target-patch-size goes with -c and must be at least 1 byte, got "
                    + targetPatchSize);
        }
        int r = reps != null ? reps : 2;
        int w = warmups != null ? warmups : 1;
        if (r < 1 || w < 0) {
            throw new IllegalArgumentException("--reps must be at least 1 and --warmups at least 0");
        }
        int cpuThreads = threads == null || threads.isEmpty() ? 0 : threads.get(0);
        List<GenerationBenchmark.Row> rows = new ArrayList<>();
        List<GenerationBenchmark.PartTimes> parts = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        List<String> loadLines = new ArrayList<>();
        for (String name : backendNames()) {
            Backend backend;
            try {
                backend = Backends.create(name, cpuThreads, deviceProfile);
            } catch (RuntimeException e) {
                System.out.println("blt bench generation: backend " + name + " unavailable: " + e.getMessage());
                missing.add(name);
                continue;
            }
            try (backend) {
                GenerationBenchmark.Setup setup;
                long loadStart = System.nanoTime();
                if (checkpoint != null) {
                    ByteLatentTransformer blt = ModelFiles.loadBlt(checkpoint, backend);
                    setup = targetPatchSize != null
                            ? GenerationBenchmark.targetPatchSize(blt, ModelFiles.loadEntropyModel(checkpoint, backend), targetPatchSize)
                            : new GenerationBenchmark.Setup(blt, ModelFiles.patchingScheme(checkpoint, blt.config().patching(), backend));
                } else {
                    setup = GenerationBenchmark.randomSetup(backend, model, hashVocab, entropyModel, 42);
                }
                double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
                Runtime rt = Runtime.getRuntime();
                String loaded = String.format(java.util.Locale.ROOT, "%s: model %s in %.1f s, heap in use %.2f GiB",
                        name, checkpoint != null ? "loaded" : "built", loadSeconds,
                        (rt.totalMemory() - rt.freeMemory()) / (double) (1L << 30));
                loadLines.add(loaded);
                System.out.println("blt bench generation: " + backend.describe() + "; " + setup.blt().parameters().declaredSize()
                        + " BLT parameters in the buffer" + (setup.blt().hashTablesInFile() ? " (hash tables read from the file)" : "")
                        + "; " + loaded);
                rows.addAll(GenerationBenchmark.run(name, setup, bytes, w, r, System.out));
                parts.addAll(GenerationBenchmark.partTimes(name, setup, bytes));
            }
        }
        RunInfo info = RunInfo.collect("generation", deviceProfile);
        Path dir = info.folder(out).resolveSibling(info.folder(out).getFileName() + "-generation");
        java.nio.file.Files.createDirectories(dir);
        String source = checkpoint != null ? "checkpoint: " + checkpoint + (targetPatchSize == null ? ""
                : ", patching replaced by a global threshold giving " + targetPatchSize + " bytes per patch on the prompts")
                : "random weights: " + model
                + (hashVocab == null ? "" : " with " + hashVocab + " rows per hash table") + ", " + entropyModel;
        String md = "# blt bench generation\n\n- " + source + "\n- machine: " + info.machine() + "; " + info.jdk()
                + "; commit " + info.commit() + "\n- load average before: " + String.format(java.util.Locale.ROOT, "%.2f", load)
                + "\n- " + String.join("\n- ", loadLines)
                + "\n- " + bytes + " greedy bytes per prompt (EOS masked), " + w + " warm-up and " + r
                + " measured rounds, modes interleaved; medians\n\n" + GenerationBenchmark.markdown(rows)
                + "\n## Time per byte by part (one more round, every op timed)\n\n" + GenerationBenchmark.partMarkdown(parts);
        AtomicFiles.writeString(dir.resolve("generation.md"), md);
        AtomicFiles.writeString(dir.resolve("generation.csv"), GenerationBenchmark.csv(rows));
        System.out.println(md);
        System.out.println("written to " + dir);
        return !missing.isEmpty() && !skipMissing ? BenchSuite.EXIT_MISSING : 0;
    }
}
