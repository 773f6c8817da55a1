package blt4j.bench;

import static blt4j.bench.Stats.csvQuote;
import static blt4j.bench.Stats.fmt;
import static blt4j.bench.Stats.num;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes a bench run: kernels.csv, model.csv, breakdown.csv, report.md, speedup.png, roofline.png. */
final class ReportWriter {
    private final BenchSuite.Options o;
    private final RunInfo info;
    private final String loadBefore;
    private final double seconds;
    private final Map<String, String> descriptions;
    private final Map<String, String> missing;
    private final Map<String, double[]> peaks;

    ReportWriter(BenchSuite.Options o, RunInfo info, String loadBefore, double seconds, Map<String, String> descriptions,
                 Map<String, String> missing, Map<String, double[]> peaks) {
        this.o = o;
        this.info = info;
        this.loadBefore = loadBefore;
        this.seconds = seconds;
        this.descriptions = descriptions;
        this.missing = missing;
        this.peaks = peaks;
    }

    Path write(List<KernelBenchmark.Row> kernels, List<ModelBenchmark.Row> model, List<ModelBenchmark.StageRow> stages) {
        Path dir = info.folder(o.out());
        try {
            Files.createDirectories(dir);
            String subtitle = info.host() + ", " + info.profile() + ", " + info.commit();
            if (o.kernels()) {
                BenchSuite.writeText(dir.resolve("kernels.csv"), kernelsCsv(kernels));
                Charts.speedup(kernels, dir.resolve("speedup.png"), subtitle);
                Charts.roofline(kernels, peaks, dir.resolve("roofline.png"), subtitle);
            }
            BenchSuite.writeText(dir.resolve("model.csv"), modelCsv(model));
            if (o.model()) {
                BenchSuite.writeText(dir.resolve("breakdown.csv"), breakdownCsv(stages));
            }
            BenchSuite.writeText(dir.resolve("report.md"), markdown(kernels, model, stages));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write benchmark results under " + dir, e);
        }
    }

    private String desc(String backend, String fallback) {
        return descriptions.getOrDefault(backend, fallback);
    }

    private String kernelsCsv(List<KernelBenchmark.Row> rows) {
        StringBuilder sb = new StringBuilder("kernel,backend,status,warmups,reps,median_ms,ci_low_ms,ci_high_ms,ci_level,cv,"
                + "gflops,gbps,flop_per_byte,speedup_vs_reference,speedup_vs_cpu_1t,backend_description,device," + RunInfo.csvHeader()
                + "\n");
        for (KernelBenchmark.Row r : rows) {
            sb.append(csvQuote(r.kernel())).append(',').append(r.backend()).append(',').append(csvQuote(r.status())).append(',')
                    .append(r.warmups()).append(',').append(r.reps()).append(',').append(num(r.medianMs())).append(',')
                    .append(num(r.ciLowMs())).append(',').append(num(r.ciHighMs())).append(',').append(num(r.ciLevel()))
                    .append(',').append(num(r.cv())).append(',').append(num(r.gflops())).append(',').append(num(r.gbps()))
                    .append(',').append(num(r.intensity())).append(',')
                    .append(num(KernelBenchmark.ratio(rows, r, "reference"))).append(',')
                    .append(num(KernelBenchmark.ratio(rows, r, "cpu-1t"))).append(',')
                    .append(csvQuote(desc(r.backend(), r.description()))).append(',').append(csvQuote(device(r.backend())))
                    .append(',').append(info.csvCells()).append('\n');
        }
        return sb.toString();
    }

    private String modelCsv(List<ModelBenchmark.Row> rows) {
        StringBuilder sb = new StringBuilder("workload,backend,status,warmups,reps,median_ms,ci_low_ms,ci_high_ms,ci_level,cv,"
                + "bytes,bytes_per_s,patches_per_s,flops,gflops,peak_gflops,mfu,note,backend_description,device,"
                + RunInfo.csvHeader() + "\n");
        for (ModelBenchmark.Row r : rows) {
            sb.append(csvQuote(r.workload())).append(',').append(r.backend()).append(',').append(csvQuote(r.status()))
                    .append(',').append(r.warmups()).append(',').append(r.reps()).append(',').append(num(r.medianMs()))
                    .append(',').append(num(r.ciLowMs())).append(',').append(num(r.ciHighMs())).append(',')
                    .append(num(r.ciLevel())).append(',').append(num(r.cv())).append(',').append(num(r.bytes())).append(',')
                    .append(num(r.bytesPerSec())).append(',').append(num(r.patchesPerSec())).append(',').append(num(r.flops()))
                    .append(',').append(num(r.gflops())).append(',').append(num(r.peakGflops())).append(',')
                    .append(num(r.mfu())).append(',').append(csvQuote(r.note())).append(',')
                    .append(csvQuote(desc(r.backend(), r.description()))).append(',').append(csvQuote(device(r.backend())))
                    .append(',').append(info.csvCells()).append('\n');
        }
        return sb.toString();
    }

    private String breakdownCsv(List<ModelBenchmark.StageRow> rows) {
        StringBuilder sb = new StringBuilder("workload,backend,stage,ms_per_rep,share,flops_per_rep,gflops,backend_description,"
                + "device," + RunInfo.csvHeader() + "\n");
        for (ModelBenchmark.StageRow r : rows) {
            sb.append(csvQuote(r.workload())).append(',').append(r.backend()).append(',').append(csvQuote(r.stage())).append(',')
                    .append(num(r.msPerRep())).append(',').append(num(r.share())).append(',').append(num(r.flopsPerRep()))
                    .append(',').append(num(r.gflops())).append(',').append(csvQuote(desc(r.backend(), "")))
                    .append(',').append(csvQuote(device(r.backend()))).append(',').append(info.csvCells()).append('\n');
        }
        return sb.toString();
    }

    /** The device a backend label runs on. */
    private String device(String backend) {
        if (backend.equals("reference") || backend.startsWith("cpu")) {
            return info.cpuModel();
        }
        return missing.containsKey(backend) ? "unavailable" : desc(backend, backend);
    }

    private String markdown(List<KernelBenchmark.Row> kernels, List<ModelBenchmark.Row> model,
                            List<ModelBenchmark.StageRow> stages) {
        StringBuilder sb = new StringBuilder("# blt4j backend comparison\n\n| | |\n|---|---|\n");
        row(sb, "date", info.date());
        row(sb, "machine", info.host() + ": " + info.machine());
        row(sb, "CPU model", info.cpuModel());
        row(sb, "JDK", info.jdk());
        row(sb, "commit", info.commit());
        row(sb, "profile", info.profile() + profileNote());
        row(sb, "device profile (opencl)", info.deviceProfile());
        row(sb, "repetitions", o.reps() + " measured after " + o.warmups() + " warm-up(s) (model workloads; kernels use"
                + " their own warm-ups, see the table)");
        row(sb, "load average (1/5/15 min)", "before " + loadBefore + ", after " + RunInfo.loadAverage()
                + " (other processes share these cores: numbers above the idle load are noisy)");
        row(sb, "wall time", String.format(Locale.ROOT, "%.0f s", seconds));
        for (Map.Entry<String, String> e : descriptions.entrySet()) {
            row(sb, "backend `" + e.getKey() + "`", e.getValue() + "; device: " + device(e.getKey()));
        }
        for (Map.Entry<String, String> e : missing.entrySet()) {
            row(sb, "backend `" + e.getKey() + "`", "**unavailable**: " + e.getValue());
        }
        sb.append("\nTimes are medians of repetitions timed one by one (the backend synchronised after each); CI is a "
                + "distribution-free confidence interval of the median (binomial order statistics; its coverage is shown, "
                + "below 6 repetitions it is min–max); cv is the coefficient of variation (standard deviation / mean).\n");

        if (o.kernels()) {
            sb.append("\n## Kernels\n\n| kernel | backend | reps | median ms | CI | cv | GFLOP/s | GB/s | FLOP/byte | × reference |"
                    + " × cpu-1t |\n|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|\n");
            for (KernelBenchmark.Row r : kernels) {
                if (!r.status().equals("ok")) {
                    sb.append("| * | ").append(r.backend()).append(" | ").append(mdCell(r.status())).append(" ||||||||\n");
                    continue;
                }
                sb.append("| ").append(r.kernel()).append(" | ").append(r.backend()).append(" | ").append(r.reps()).append(" | ")
                        .append(fmt(r.medianMs(), 3)).append(" | ").append(ciText(r.ciLowMs(), r.ciHighMs(), r.ciLevel()))
                        .append(" | ").append(fmt(r.cv(), 3)).append(" | ").append(fmt(r.gflops(), 2)).append(" | ")
                        .append(fmt(r.gbps(), 2)).append(" | ").append(fmt(r.intensity(), 2)).append(" | ")
                        .append(fmt(KernelBenchmark.ratio(kernels, r, "reference"), 1)).append(" | ")
                        .append(fmt(KernelBenchmark.ratio(kernels, r, "cpu-1t"), 2)).append(" |\n");
            }
            sb.append("\n![speed-up over reference](speedup.png)\n\n![roofline](roofline.png)\n\n"
                    + "The roofline plots each kernel at its arithmetic intensity (FLOP per byte of compulsory traffic: every "
                    + "operand read or written once); dashed lines are each backend's measured peak (FMA micro-benchmark) "
                    + "capped by its measured triad bandwidth × intensity.\n");
        }

        sb.append("\n## Model workloads\n\n| workload | backend | reps | median ms | CI | cv | bytes/s | patches/s | "
                + "GFLOP/s | peak GFLOP/s | MFU | note |\n|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|\n");
        for (ModelBenchmark.Row r : model) {
            if (!r.status().equals("ok")) {
                sb.append("| * | ").append(r.backend()).append(" | ").append(mdCell(r.status())).append(" ||||||||||\n");
                continue;
            }
            sb.append("| ").append(r.workload()).append(" | ").append(r.backend()).append(" | ").append(r.reps()).append(" | ")
                    .append(fmt(r.medianMs(), 2)).append(" | ").append(ciText(r.ciLowMs(), r.ciHighMs(), r.ciLevel()))
                    .append(" | ").append(fmt(r.cv(), 3)).append(" | ").append(rate(r.bytesPerSec())).append(" | ")
                    .append(fmt(r.patchesPerSec(), 0)).append(" | ").append(fmt(r.gflops(), 2)).append(" | ")
                    .append(fmt(r.peakGflops(), 1)).append(" | ")
                    .append(Double.isNaN(r.mfu()) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * r.mfu())).append(" | ")
                    .append(mdCell(r.note())).append(" |\n");
        }
        sb.append("\nPeak rows: GFLOP/s is the FMA micro-benchmark, the measured peak. No datasheet figure is printed: a "
                + "VM reports a nominal clock, not the sustained one, and the FMA width per core differs between CPU "
                + "generations of one vendor (a nominal-clock estimate read a third of the measured peak on a Zen 5 VM). "
                + "Workload rows: GFLOP/s counts the FLOPs the backend counted (matmul and attention, forward and backward) "
                + "per repetition over the median time; MFU divides that by the backend's measured peak. Models are "
                + "randomly initialised: speed does not depend on the weights, and patch boundaries use a threshold chosen "
                + "so patches average 4.5 bytes.\n");

        if (o.model()) {
            sb.append("\n## Stage breakdown\n\nTraining step: mean per measured step; generation: the last repetition. Stage "
                    + "boundaries synchronise the backend.\n\n| workload | backend | stage | ms | share | GFLOP | GFLOP/s |\n"
                    + "|---|---|---|---:|---:|---:|---:|\n");
            for (ModelBenchmark.StageRow r : stages) {
                sb.append("| ").append(r.workload()).append(" | ").append(r.backend()).append(" | ").append(r.stage())
                        .append(" | ").append(fmt(r.msPerRep(), 2)).append(" | ")
                        .append(String.format(Locale.ROOT, "%.1f%%", 100 * r.share())).append(" | ")
                        .append(fmt(r.flopsPerRep() / 1e9, 3)).append(" | ").append(fmt(r.gflops(), 2)).append(" |\n");
            }
        }
        sb.append("\nFiles: ").append(o.kernels() ? "kernels.csv, speedup.png, roofline.png, " : "").append("model.csv")
                .append(o.model() ? ", breakdown.csv" : "").append(". Every CSV row repeats profile, device profile, "
                        + "machine, CPU model, JDK and commit.\n");
        return sb.toString();
    }

    private String profileNote() {
        KernelBenchmark.Sizes k = o.profile().kernels();
        ModelBenchmark.Sizes m = o.profile().model();
        String sizes = String.format(Locale.ROOT, " — kernels: matmul %d³, matvec %d², attention T=%d, entropy %d×260; "
                        + "model: %s, train %d×%d bytes, entropy scoring %d bytes, prompt %d + %d generated bytes",
                k.matmul(), k.matvec(), k.attention(), k.entropyRows(), m.bltPreset(), m.trainRows(), m.trainBytes(),
                m.entropyBytes(), m.promptBytes(), m.generateBytes());
        return switch (o.profile()) {
            case FULL -> sizes;
            case QUICK -> " (smaller sizes and fewer repetitions than the full profile, still real measurements)" + sizes;
            case TINY -> " (toy sizes for the CI smoke test: the numbers mean nothing)" + sizes;
        };
    }

    private static String rate(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        if (v >= 1e9) {
            return String.format(Locale.ROOT, "%.2f G", v / 1e9);
        }
        if (v >= 1e6) {
            return String.format(Locale.ROOT, "%.2f M", v / 1e6);
        }
        return String.format(Locale.ROOT, "%,.0f", v);
    }

    private static String ciText(double lo, double hi, double level) {
        return Double.isNaN(lo) ? "-" : String.format(Locale.ROOT, "%s–%s (%.0f%%)", fmt(lo, 3), fmt(hi, 3), 100 * level);
    }

    private static void row(StringBuilder sb, String k, String v) {
        sb.append("| ").append(k).append(" | ").append(mdCell(v)).append(" |\n");
    }

    /** A Markdown table cell: one line, pipes escaped. */
    private static String mdCell(String v) {
        return v.replaceAll("\\s*\\R\\s*", "; ").replace("|", "\\|");
    }
}
