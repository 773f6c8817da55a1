package blt4j.bench;

import blt4j.compute.AttentionMask;
import blt4j.compute.Backend;
import blt4j.compute.CpuBackend;
import blt4j.compute.Ranges;
import blt4j.compute.ReferenceBackend;
import blt4j.compute.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Kernel benchmark over backends: matmul 1024³, matrix-vector 2048², causal attention forward (1024 positions,
 * 4 heads of 64) and entropy over [4096 × 260]. Warm-ups are discarded; each measured repetition is
 * timed alone (with {@link Backend#synchronize()}); the report gives the median and a distribution-free 95%
 * confidence interval of the median (binomial order statistics), GFLOP/s and GB/s (minimal compulsory traffic),
 * and ratios computed within the same run: every backend against {@code reference}, and cpu on N threads against
 * cpu on 1 thread. Writes {@code <root>/<yyyy-MM-dd>-<host>/kernels.csv} and {@code kernels.md}.
 */
public final class KernelBenchmark {

    /**
     * One measured (kernel, backend) cell. Times in milliseconds; NaN where a rate does not apply. {@code status} is
     * "ok", or "unavailable: why" for a backend that could not be created (then nothing was measured).
     */
    public record Row(String kernel, String backend, String description, int warmups, int reps, double medianMs,
                      double ciLowMs, double ciHighMs, double ciLevel, double cv, double gflops, double gbps, String status) {
        /** FLOP per byte of compulsory traffic (NaN without a FLOP count). */
        public double intensity() {
            return gflops / gbps;
        }

        public static Row unavailable(String backend, String why) {
            return new Row("*", backend, why, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                    Double.NaN, "unavailable: " + why);
        }
    }

    /** Problem sizes: matmul s³, matvec m², attention positions, entropy rows. */
    public record Sizes(int matmul, int matvec, int attention, int entropyRows) {
        public static final Sizes FULL = new Sizes(1024, 2048, 1024, 4096);
        public static final Sizes QUICK = new Sizes(512, 2048, 512, 4096);
        public static final Sizes TINY = new Sizes(64, 128, 64, 64);
    }

    /** What a run produced. */
    public record Result(List<Row> rows, Path csv, Path markdown, String machine, String jdk, String commit) {}

    private final int reps;
    private final boolean quick;
    private final Path root;
    private final Appendable log;
    private final Sizes sizes;
    private String loadBefore = "";

    /**
     * @param reps  measured repetitions per cell (at least 1)
     * @param quick fewer warm-ups, and at most 3 repetitions of the slow reference matmul (said so in the output)
     * @param root  results folder, usually {@code results}
     * @param log   progress lines (e.g. System.out), or null
     */
    public KernelBenchmark(int reps, boolean quick, Path root, Appendable log) {
        this(reps, quick, Sizes.FULL, root, log);
    }

    /** With explicit problem sizes (the bench suite's quick and tiny profiles). */
    public KernelBenchmark(int reps, boolean quick, Sizes sizes, Path root, Appendable log) {
        this.sizes = sizes;
        if (reps < 1) {
            throw new IllegalArgumentException("repetitions must be at least 1");
        }
        this.reps = reps;
        this.quick = quick;
        this.root = root;
        this.log = log;
    }

    /**
     * Benchmarks the given backends plus, when not already among them, {@code reference}, cpu on 1 thread and cpu on
     * all available processors (those three are created and closed here). Backends are labelled by name, cpu ones
     * as {@code cpu-<n>t}.
     */
    public Result run(List<Backend> backends) {
        int n = Runtime.getRuntime().availableProcessors();
        Map<String, Backend> all = new LinkedHashMap<>();
        List<Backend> owned = new ArrayList<>();
        for (Backend b : backends) {
            all.putIfAbsent(label(b), b);
        }
        if (!all.containsKey("reference")) {
            Backend r = new ReferenceBackend();
            owned.add(r);
            all.put("reference", r);
        }
        for (int t : n == 1 ? new int[] {1} : new int[] {1, n}) {
            String l = "cpu-" + t + "t";
            if (!all.containsKey(l)) {
                Backend c = new CpuBackend(t);
                owned.add(c);
                all.put(l, c);
            }
        }
        loadBefore = RunInfo.loadAverage();
        try {
            return write(measure(all), all);
        } finally {
            for (Backend b : owned) {
                b.close();
            }
        }
    }

    /** Measures exactly the given backends (label → backend), in order; writes nothing. */
    public List<Row> measure(Map<String, Backend> backends) {
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<String, Backend> e : backends.entrySet()) {
            say("benchmarking kernels on " + e.getKey() + ": " + e.getValue().describe());
            rows.addAll(benchBackend(e.getKey(), e.getValue()));
        }
        return rows;
    }

    static String label(Backend b) {
        if (b instanceof CpuBackend c) {
            return "cpu-" + c.threads() + "t";
        }
        return b.name();
    }

    // ------------------------------------------------------------------ the kernels

    private List<Row> benchBackend(String label, Backend be) {
        List<Row> rows = new ArrayList<>();
        Random rnd = new Random(42);
        boolean slow = be instanceof ReferenceBackend;
        int warm = quick ? 2 : 5;

        // matmul 1024^3 as a Linear layer: C = A · Bᵀ
        int s = sizes.matmul();
        Tensor a = random(be, rnd, s, s);
        Tensor b = random(be, rnd, s, s);
        Tensor c = be.zeros(s, s);
        int mmReps = slow && quick ? Math.min(reps, 3) : reps;
        int mmWarm = slow ? 1 : warm;
        rows.add(measure("matmul " + s + "x" + s + "x" + s, label, be, mmWarm, mmReps, 2.0 * s * s * s, 3.0 * s * s * 4,
                () -> be.matmul(a, false, b, true, c, false)));
        // the same with its transfers: both operands up from host arrays, the result back down
        float[] ha = be.toHost(a);
        float[] hb = be.toHost(b);
        float[] hc = new float[s * s];
        rows.add(measure("matmul " + s + "x" + s + "x" + s + " + transfers", label, be, mmWarm, mmReps, 2.0 * s * s * s,
                3.0 * s * s * 4, () -> {
                    be.upload(ha, 0, a);
                    be.upload(hb, 0, b);
                    be.matmul(a, false, b, true, c, false);
                    be.download(c, hc, 0);
                }));

        // matrix-vector 2048x2048: y = x · Wᵀ with x [1, 2048]
        int mv = sizes.matvec();
        Tensor w = random(be, rnd, mv, mv);
        Tensor x = random(be, rnd, 1, mv);
        Tensor y = be.zeros(1, mv);
        rows.add(measure("matvec " + mv + "x" + mv, label, be, warm * 4, reps * (quick ? 1 : 4), 2.0 * mv * mv,
                4.0 * ((double) mv * mv + 2 * mv), () -> be.matmul(x, false, w, true, y, false)));

        // causal self-attention forward: 1024 positions, 4 heads of 64
        int t = sizes.attention(), heads = 4, hd = 64, width = heads * hd;
        Tensor q = random(be, rnd, t, width);
        Tensor k = random(be, rnd, t, width);
        Tensor v = random(be, rnd, t, width);
        Tensor out = be.zeros(t, width);
        Tensor lse = be.zeros(heads, t);
        Ranges mask = AttentionMask.selfAttention(be, t, 0, null);
        double attFlops = 4.0 * hd * heads * mask.total();
        rows.add(measure("attention fwd T=" + t + " H=4 D=64 causal", label, be, slow ? 1 : warm, slow && quick ? Math.min(reps, 5) : reps,
                attFlops, 4.0 * 4 * t * width + 4.0 * heads * t, () -> be.attention(q, k, v, out, lse, mask, heads)));

        // entropy over [4096 x 260] (the entropy model's patching scores); reads the logits once
        int rowsN = sizes.entropyRows(), vocab = 260;
        Tensor logits = random(be, rnd, rowsN, vocab);
        Tensor ent = be.zeros(rowsN);
        rows.add(measure("entropy " + rowsN + "x260", label, be, warm, reps, Double.NaN,
                4.0 * ((double) rowsN * vocab + rowsN), () -> be.entropy(logits, ent)));
        return rows;
    }

    private static Tensor random(Backend be, Random rnd, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] d = new float[n];
        for (int i = 0; i < n; i++) {
            d[i] = rnd.nextFloat() * 2 - 1;
        }
        return be.fromHost(d, shape);
    }

    private Row measure(String kernel, String label, Backend be, int warmups, int n, double flops, double bytes, Runnable op) {
        Stats.Summary st = Stats.time(be, warmups, n, op);
        double median = st.medianMs();
        Row r = new Row(kernel, label, be.describe(), warmups, n, median, st.ciLowMs(), st.ciHighMs(), st.ciLevel(), st.cv(),
                Double.isNaN(flops) ? Double.NaN : flops / (median * 1e6), bytes / (median * 1e6), "ok");
        say(String.format(Locale.ROOT, "  %-40s %-10s median %10.3f ms  [%s]  cv %s  %s GFLOP/s  %.1f GB/s  (%d reps)", kernel,
                label, median, ciText(r), fmt(r.cv(), 3), fmt(r.gflops(), 1), r.gbps(), n));
        return r;
    }

    /** See {@link Stats#medianCi}. */
    static double[] medianCi(double[] samples) {
        return Stats.medianCi(samples);
    }

    private static String ciText(Row r) {
        return String.format(Locale.ROOT, "%.3f–%.3f ms, %.0f%%", r.ciLowMs(), r.ciHighMs(), 100 * r.ciLevel());
    }

    private static String fmt(double v, int decimals) {
        return Stats.fmt(v, decimals);
    }

    private void say(String line) {
        if (log == null) {
            return;
        }
        try {
            log.append(line).append('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ reports

    private Result write(List<Row> rows, Map<String, Backend> backends) {
        RunInfo info = RunInfo.collect(quick ? "quick" : "full", null);
        String machine = info.machine();
        String jdk = info.jdk();
        String commit = info.commit();
        Path dir = info.folder(root);
        try {
            Files.createDirectories(dir);
            Path csv = dir.resolve("kernels.csv");
            Path md = dir.resolve("kernels.md");
            Files.writeString(csv, csv(rows, machine, jdk, commit), StandardCharsets.UTF_8);
            Files.writeString(md, markdown(rows, backends, machine, jdk, commit), StandardCharsets.UTF_8);
            say("wrote " + csv + " and " + md);
            return new Result(rows, csv, md, machine, jdk, commit);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write benchmark results under " + dir, e);
        }
    }

    private String csv(List<Row> rows, String machine, String jdk, String commit) {
        StringBuilder sb = new StringBuilder();
        sb.append("kernel,backend,warmups,reps,median_ms,ci_low_ms,ci_high_ms,ci_level,gflops,gbps,"
                + "speedup_vs_reference,speedup_vs_cpu_1t,quick,machine,jdk,commit,backend_description\n");
        for (Row r : rows) {
            sb.append(Stats.csvQuote(r.kernel())).append(',').append(r.backend()).append(',').append(r.warmups()).append(',')
                    .append(r.reps()).append(',')
                    .append(num(r.medianMs())).append(',').append(num(r.ciLowMs())).append(',').append(num(r.ciHighMs())).append(',')
                    .append(num(r.ciLevel())).append(',').append(num(r.gflops())).append(',').append(num(r.gbps())).append(',')
                    .append(num(ratio(rows, r, "reference"))).append(',').append(num(ratio(rows, r, "cpu-1t"))).append(',')
                    .append(quick).append(',').append(Stats.csvQuote(machine)).append(',').append(Stats.csvQuote(jdk)).append(',')
                    .append(commit).append(',').append(Stats.csvQuote(r.description())).append('\n');
        }
        return sb.toString();
    }

    private static String num(double v) {
        return Stats.num(v);
    }

    /** How many times faster r is than the same kernel on the named backend (NaN if absent or r is that backend). */
    static double ratio(List<Row> rows, Row r, String base) {
        if (r.backend().equals(base) || r.backend().equals("reference") || !r.status().equals("ok")) {
            return Double.NaN;
        }
        for (Row o : rows) {
            if (o.kernel().equals(r.kernel()) && o.backend().equals(base) && o.status().equals("ok")) {
                return o.medianMs() / r.medianMs();
            }
        }
        return Double.NaN;
    }

    private String markdown(List<Row> rows, Map<String, Backend> backends, String machine, String jdk, String commit) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Kernel benchmark\n\n");
        sb.append("| | |\n|---|---|\n");
        sb.append("| date | ").append(java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ISO_LOCAL_DATE_TIME)).append(" |\n");
        sb.append("| machine | ").append(machine).append(" |\n");
        sb.append("| JDK | ").append(jdk).append(" |\n");
        sb.append("| commit | ").append(commit).append(" |\n");
        sb.append("| load average (1/5/15 min) | before ").append(loadBefore).append(", after ").append(RunInfo.loadAverage())
                .append(" (other processes share these cores: a load above the idle level makes multi-thread numbers noisy) |\n");
        sb.append("| mode | ").append(quick ? "quick" : "full").append(", ").append(reps).append(" repetitions per cell")
                .append(quick ? " (reference matmul: at most 3, reference attention: at most 5)" : "").append(" |\n");
        for (Map.Entry<String, Backend> e : backends.entrySet()) {
            sb.append("| backend `").append(e.getKey()).append("` | ").append(e.getValue().describe()).append(" |\n");
        }
        sb.append("\nTimes per call; the interval is a distribution-free confidence interval of the median (its coverage"
                + " is shown; below 6 repetitions it is min–max). GB/s counts each operand read or written once.\n\n");
        sb.append("| kernel | backend | reps | median ms | CI ms | GFLOP/s | GB/s | × reference | × cpu-1t |\n");
        sb.append("|---|---|---:|---:|---|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            sb.append("| ").append(r.kernel()).append(" | ").append(r.backend()).append(" | ").append(r.reps()).append(" | ")
                    .append(fmt(r.medianMs(), 3)).append(" | ").append(ciText(r)).append(" | ").append(fmt(r.gflops(), 2))
                    .append(" | ").append(fmt(r.gbps(), 2)).append(" | ").append(fmt(ratio(rows, r, "reference"), 1))
                    .append(" | ").append(fmt(ratio(rows, r, "cpu-1t"), 2)).append(" |\n");
        }
        return sb.toString();
    }
}
