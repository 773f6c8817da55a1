package blt4j.experiment;

import blt4j.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;

/**
 * The tables, CSVs and figures of an experiment folder: bits/byte against training FLOPs (matched runs), against
 * inference FLOPs per byte (patch sizes), degradation under noise, and bits/byte per script family. Everything is
 * computed from what the folder holds, so a partial experiment gives partial tables.
 */
public final class ExperimentReport {
    private final ExperimentResults results;
    private final Path out;
    private final StringBuilder md = new StringBuilder();

    private ExperimentReport(ExperimentResults results, Path out) {
        this.results = results;
        this.out = out;
    }

    /** Writes everything into {@code out}; returns the markdown tables (also in tables.md). */
    public static String write(ExperimentResults results, Path out) throws IOException {
        Files.createDirectories(out);
        ExperimentReport r = new ExperimentReport(results, out);
        r.matched();
        r.seeds();
        r.patches();
        r.noise();
        r.languages();
        AtomicFiles.writeString(out.resolve("tables.md"), r.md.toString());
        return r.md.toString();
    }

    private void matched() throws IOException {
        List<String[]> rows = new ArrayList<>();
        Map<String, List<double[]>> curves = new TreeMap<>();
        for (ExperimentResults.Run run : results.runs().values()) {
            if (!run.group().equals("matched")) {
                continue;
            }
            ExperimentResults.Eval e = results.eval(run.name(), "test");
            rows.add(new String[] {run.name(), run.family(), sci(run.number("budget")), sci(run.trainFlops()),
                Integer.toString(run.steps()), String.format(Locale.ROOT, "%,d", run.trainedPositions()),
                num(run.epochs(), "%.2f"), String.format(Locale.ROOT, "%.0f", run.trainSeconds()), e == null ? "" : sci(e.flopsPerByteCounted()),
                e == null ? "" : String.format(Locale.ROOT, "%.4f", e.bitsPerByte()), run.done() ? "yes" : "no"});
            if (e != null && run.trainFlops() > 0) {
                curves.computeIfAbsent(run.family(), k -> new ArrayList<>()).add(new double[] {run.trainFlops(), e.bitsPerByte()});
            }
        }
        String[] head = {"run", "model", "budget (FLOPs)", "training FLOPs", "steps", "bytes trained", "epochs", "train s",
            "forward FLOPs/byte", "test bits/byte", "done"};
        table("Matched training FLOPs: held-out bits/byte", head, rows, "matched.csv");
        xy(curves, "Held-out bits/byte against training FLOPs", "training FLOPs (forward + backward, counted)",
                "bits per byte (WikiText-2 test)", true, "matched.png");
    }

    /** Runs of group "seeds" beside the matched run of the same model and budget: the spread of one run. */
    private void seeds() throws IOException {
        List<String[]> rows = new ArrayList<>();
        for (ExperimentResults.Run run : results.runs().values()) {
            if (!run.group().equals("seeds")) {
                continue;
            }
            ExperimentResults.Eval e = results.eval(run.name(), "test");
            for (ExperimentResults.Run base : results.runs().values()) {
                ExperimentResults.Eval b = results.eval(base.name(), "test");
                if (base.group().equals("matched") && base.family().equals(run.family())
                        && base.number("budget") == run.number("budget") && b != null && e != null) {
                    rows.add(new String[] {run.family(), sci(run.number("budget")), base.name(), label(base, "seed"),
                        num(b.bitsPerByte(), "%.4f"), run.name(), label(run, "seed"), num(e.bitsPerByte(), "%.4f"),
                        num(e.bitsPerByte() - b.bitsPerByte(), "%+.4f")});
                }
            }
        }
        String[] head = {"model", "budget", "run", "seed", "test bits/byte", "run", "seed", "test bits/byte", "difference"};
        table("Seed spread: the same run with another seed", head, rows, "seeds.csv");
    }

    /** What each patch-size family varies, for the tables and the figure legend. */
    private static final Map<String, String> PATCH_FAMILIES = Map.of(
            "fixed", "fixed: the main model at other patch sizes",
            "iso", "iso: global width grown with the patch (global FLOPs/byte held)",
            "wide", "wide: global width grown faster (64-dim heads)");

    private void patches() throws IOException {
        Set<Double> budgets = new LinkedHashSet<>();
        Set<String> families = new java.util.TreeSet<>();
        for (ExperimentResults.Run run : results.runs().values()) {
            if (run.group().equals("patches")) {
                budgets.add(run.number("budget"));
                families.add(run.label("family"));
            }
        }
        // the matched BLT at the patch runs' budget is the 4.5-byte member of every family
        ExperimentResults.Run main = null;
        for (ExperimentResults.Run run : results.runs().values()) {
            if (run.group().equals("matched") && run.model().equals("blt") && run.label("family").isEmpty()
                    && budgets.contains(run.number("budget"))) {
                main = run;
            }
        }
        List<String[]> rows = new ArrayList<>();
        Map<String, List<double[]>> counted = new LinkedHashMap<>();
        if (main != null && results.eval(main.name(), "test") != null) {
            rows.add(patchRow("main (every family)", main, results.eval(main.name(), "test")));
        }
        for (String family : families) {
            List<ExperimentResults.Run> members = new ArrayList<>();
            for (ExperimentResults.Run run : results.runs().values()) {
                if (run.group().equals("patches") && run.label("family").equals(family)) {
                    members.add(run);
                }
            }
            if (main != null) {
                members.add(main);
            }
            members.sort((a, b) -> Double.compare(a.number("target_patch_size"), b.number("target_patch_size")));
            String name = PATCH_FAMILIES.getOrDefault(family, family.isEmpty() ? "patches" : family);
            for (ExperimentResults.Run run : members) {
                ExperimentResults.Eval e = results.eval(run.name(), "test");
                if (e == null) {
                    continue;
                }
                if (run != main) {
                    rows.add(patchRow(family, run, e));
                }
                counted.computeIfAbsent(name, k -> new ArrayList<>()).add(new double[] {e.flopsPerByteCounted(), e.bitsPerByte()});
            }
        }
        String[] head = {"family", "run", "target patch", "global d", "mean patch (test)", "inference FLOPs/byte (analytic)",
            "inference FLOPs/byte (counted)", "parameters (BLT: hash tables excluded)", "training FLOPs", "test bits/byte"};
        table("Patch size against inference cost (one training budget)", head, rows, "patches.csv");
        xy(counted, "Held-out bits/byte against inference FLOPs per byte (patch sizes 3, 4.5, 6, 8)",
                "forward FLOPs per byte (counted)", "bits per byte (WikiText-2 test)", false, "patches.png");
    }

    private static String[] patchRow(String family, ExperimentResults.Run run, ExperimentResults.Eval e) {
        return new String[] {family, run.name(), num(run.number("target_patch_size"), "%.1f"), label(run, "global_dim"),
            num(e.meanPatchSize(), "%.3f"), sci(e.flopsPerByteAnalytic()), sci(e.flopsPerByteCounted()),
            String.format(Locale.ROOT, "%,d", e.parameters()), sci(run.trainFlops()), num(e.bitsPerByte(), "%.4f")};
    }

    private void noise() throws IOException {
        Map<String, Map<Double, Double>> byRun = new TreeMap<>();
        for (ExperimentResults.Eval e : results.evals()) {
            if (e.tag().startsWith("noise-")) {
                byRun.computeIfAbsent(e.run(), k -> new TreeMap<>()).put(Double.parseDouble(e.tag().substring(6)), e.bitsPerByte());
            }
        }
        List<String[]> rows = new ArrayList<>();
        Map<String, List<double[]>> curves = new TreeMap<>();
        for (var entry : byRun.entrySet()) {
            Double clean = entry.getValue().get(0.0);
            ExperimentResults.Run run = results.runs().get(entry.getKey());
            String family = run == null ? entry.getKey() : run.family();
            for (var p : entry.getValue().entrySet()) {
                double delta = clean == null ? Double.NaN : p.getValue() - clean;
                rows.add(new String[] {entry.getKey(), family, num(p.getKey(), "%.2f"), num(p.getValue(), "%.4f"),
                    num(delta, "%+.4f"), clean == null ? "" : num(100 * delta / clean, "%+.1f%%")});
                if (clean != null) {
                    curves.computeIfAbsent(family, k -> new ArrayList<>()).add(new double[] {p.getKey(), delta});
                }
            }
        }
        String[] head = {"run", "model", "edits per character", "bits/byte", "degradation (bits/byte)", "relative"};
        table("Noise: bits/byte on noised held-out text", head, rows, "noise.csv");
        xy(curves, "Degradation under character noise", "edits per character (delete, substitute, swap, case, insert)",
                "bits/byte above clean", false, "noise.png");
    }

    private void languages() throws IOException {
        // run → dataset → script → {sum, n}; and the per-text rows
        Map<String, Map<String, Map<String, double[]>>> agg = new TreeMap<>();
        Map<String, Set<String>> scriptLanguages = new TreeMap<>();
        List<String[]> rows = new ArrayList<>();
        Map<Path, String> scripts = new LinkedHashMap<>();
        for (ExperimentResults.Eval e : results.evals()) {
            boolean xquad = e.tag().startsWith("xquad-");
            if (!xquad && !e.tag().startsWith("udhr-")) {
                continue;
            }
            String dataset = xquad ? "xquad" : "udhr";
            String lang = e.tag().substring(dataset.length() + 1);
            String script = scripts.computeIfAbsent(e.data(), p -> {
                try {
                    return ScriptFamily.of(Files.readAllBytes(p));
                } catch (IOException ex) {
                    return "unknown";
                }
            });
            scriptLanguages.computeIfAbsent(script, k -> new java.util.TreeSet<>()).add(lang);
            ExperimentResults.Run run = results.runs().get(e.run());
            rows.add(new String[] {e.run(), run == null ? "" : run.family(), run == null ? "" : run.train(), dataset, lang,
                script, num(e.bitsPerByte(), "%.4f"), num(e.meanPatchSize(), "%.3f"), num(e.bytesPerToken(), "%.3f")});
            double[] s = agg.computeIfAbsent(e.run(), k -> new TreeMap<>()).computeIfAbsent(dataset, k -> new TreeMap<>())
                    .computeIfAbsent(script, k -> new double[2]);
            s[0] += e.bitsPerByte();
            s[1]++;
        }
        String[] head = {"run", "model", "trained on", "dataset", "language", "script", "bits/byte", "mean patch",
            "bytes per BPE token"};
        writeCsv("languages.csv", head, rows);
        List<String> runs = new ArrayList<>(agg.keySet());
        for (String dataset : List.of("xquad", "udhr")) {
            List<String[]> t = new ArrayList<>();
            Map<String, List<Double>> bars = new LinkedHashMap<>();
            List<String> families = new ArrayList<>();
            for (String script : scriptLanguages.keySet()) {
                String[] row = new String[runs.size() + 2];
                row[0] = script;
                Set<String> langs = new java.util.TreeSet<>();
                boolean any = false;
                for (int i = 0; i < runs.size(); i++) {
                    double[] s = agg.get(runs.get(i)).getOrDefault(dataset, Map.of()).get(script);
                    row[i + 2] = s == null ? "" : num(s[0] / s[1], "%.3f");
                    any |= s != null;
                }
                for (String[] r : rows) {
                    if (r[3].equals(dataset) && r[5].equals(script)) {
                        langs.add(r[4]);
                    }
                }
                row[1] = String.join(" ", langs);
                if (any) {
                    t.add(row);
                    families.add(script);
                    for (int i = 0; i < runs.size(); i++) {
                        double[] s = agg.get(runs.get(i)).getOrDefault(dataset, Map.of()).get(script);
                        bars.computeIfAbsent(runs.get(i), k -> new ArrayList<>()).add(s == null ? 0.0 : s[0] / s[1]);
                    }
                }
            }
            if (t.isEmpty()) {
                continue;
            }
            String[] h = new String[runs.size() + 2];
            h[0] = "script";
            h[1] = "languages";
            for (int i = 0; i < runs.size(); i++) {
                ExperimentResults.Run run = results.runs().get(runs.get(i));
                h[i + 2] = runs.get(i) + (run == null ? "" : " (" + run.family() + ", " + run.train() + ")");
            }
            table("Bits/byte per script family, " + dataset + " (mean over its languages)", h, t, "languages-" + dataset + ".csv");
            bars(families, bars, "Bits/byte per script family (" + dataset + ")", "languages-" + dataset + ".png");
        }
    }

    private static String label(ExperimentResults.Run run, String key) {
        double v = run.number(key);
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.0f", v);
    }

    private static String sci(double v) {
        return Double.isNaN(v) || v == 0 ? "" : String.format(Locale.ROOT, "%.3g", v);
    }

    private static String num(double v, String format) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, format, v);
    }

    private void table(String title, String[] head, List<String[]> rows, String csv) throws IOException {
        writeCsv(csv, head, rows);
        md.append("### ").append(title).append("\n\n");
        if (rows.isEmpty()) {
            md.append("(no finished runs yet)\n\n");
            return;
        }
        md.append("| ").append(String.join(" | ", head)).append(" |\n|");
        for (String ignored : head) {
            md.append("---|");
        }
        md.append('\n');
        for (String[] r : rows) {
            md.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        md.append("\n(").append(csv).append(")\n\n");
    }

    private void writeCsv(String name, String[] head, List<String[]> rows) throws IOException {
        StringBuilder sb = new StringBuilder(String.join(",", head)).append('\n');
        for (String[] r : rows) {
            List<String> cells = new ArrayList<>();
            for (String c : r) {
                cells.add(c.contains(",") || c.contains("\"") ? "\"" + c.replace("\"", "\"\"") + "\"" : c);
            }
            sb.append(String.join(",", cells)).append('\n');
        }
        AtomicFiles.writeString(out.resolve(name), sb.toString());
    }

    private void xy(Map<String, List<double[]>> series, String title, String xTitle, String yTitle, boolean logX,
                    String png) throws IOException {
        if (series.isEmpty()) {
            return;
        }
        XYChart c = new XYChartBuilder().width(900).height(560).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        c.getStyler().setXAxisLogarithmic(logX);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        for (var e : series.entrySet()) {
            List<double[]> pts = new ArrayList<>(e.getValue());
            pts.sort((a, b) -> Double.compare(a[0], b[0]));
            double[] x = pts.stream().mapToDouble(p -> p[0]).toArray();
            double[] y = pts.stream().mapToDouble(p -> p[1]).toArray();
            c.addSeries(e.getKey(), x, y).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        }
        BitmapEncoder.saveBitmap(c, out.resolve(png.replaceFirst("\\.png$", "")).toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private void bars(List<String> categories, Map<String, List<Double>> series, String title, String png) throws IOException {
        CategoryChart c = new CategoryChartBuilder().width(1100).height(560).title(title).xAxisTitle("script")
                .yAxisTitle("bits per byte").build();
        c.getStyler().setXAxisLabelRotation(30);
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        for (var e : series.entrySet()) {
            c.addSeries(e.getKey(), categories, e.getValue());
        }
        BitmapEncoder.saveBitmap(c, out.resolve(png.replaceFirst("\\.png$", "")).toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
