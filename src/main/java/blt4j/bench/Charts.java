package blt4j.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import java.util.Locale;

/** PNG figures of a bench run (XChart, headless). */
final class Charts {
    private Charts() {}

    /** Bar chart: speed-up of every non-reference backend over reference, per kernel. */
    static void speedup(List<KernelBenchmark.Row> rows, Path png, String subtitle) throws IOException {
        Set<String> kernels = new LinkedHashSet<>();
        Set<String> backends = new LinkedHashSet<>();
        for (KernelBenchmark.Row r : rows) {
            if (r.status().equals("ok")) {
                kernels.add(r.kernel());
                if (!r.backend().equals("reference")) {
                    backends.add(r.backend());
                }
            }
        }
        CategoryChart c = new CategoryChartBuilder().width(1000).height(560)
                .title("Speed-up over the reference backend (" + subtitle + ")")
                .xAxisTitle("kernel").yAxisTitle("× reference (median time ratio)").build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        c.getStyler().setXAxisLabelRotation(10);
        c.getStyler().setLabelsVisible(true);
        c.getStyler().setDecimalPattern("#0.0");
        List<String> ks = new ArrayList<>(kernels);
        boolean any = false;
        for (String b : backends) {
            List<Double> ys = new ArrayList<>();
            for (String k : ks) {
                double v = Double.NaN;
                for (KernelBenchmark.Row r : rows) {
                    if (r.kernel().equals(k) && r.backend().equals(b) && r.status().equals("ok")) {
                        v = KernelBenchmark.ratio(rows, r, "reference");
                    }
                }
                ys.add(Double.isNaN(v) ? 0.0 : v);
            }
            c.addSeries(b, ks, ys);
            any = true;
        }
        if (!any) {
            c.addSeries("(no backend besides reference)", ks.isEmpty() ? List.of("-") : ks,
                    ks.isEmpty() ? List.of(0.0) : ks.stream().map(k -> 0.0).toList());
        }
        BitmapEncoder.saveBitmap(c, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    /**
     * Roofline-style scatter: achieved GFLOP/s against arithmetic intensity (FLOP per byte of compulsory traffic),
     * log axes, one series per backend, with each backend's measured peak (and, where measured, the bandwidth slope).
     *
     * @param peaks backend → {peak GFLOP/s, triad GB/s (NaN if not measured)}
     */
    static void roofline(List<KernelBenchmark.Row> rows, Map<String, double[]> peaks, Path png, String subtitle)
            throws IOException {
        XYChart c = new XYChartBuilder().width(1000).height(620)
                .title("Achieved GFLOP/s vs arithmetic intensity (" + subtitle + ")")
                .xAxisTitle("arithmetic intensity (FLOP/byte, compulsory traffic)").yAxisTitle("GFLOP/s").build();
        c.getStyler().setXAxisLogarithmic(true);
        c.getStyler().setYAxisLogarithmic(true);
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
        c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        c.getStyler().setMarkerSize(10);
        double minX = Double.MAX_VALUE, maxX = 0;
        Set<String> backends = new LinkedHashSet<>();
        for (KernelBenchmark.Row r : rows) {
            if (r.status().equals("ok") && r.gflops() > 0 && r.gbps() > 0) {
                backends.add(r.backend());
                minX = Math.min(minX, r.intensity());
                maxX = Math.max(maxX, r.intensity());
            }
        }
        if (backends.isEmpty()) {
            minX = 0.1;
            maxX = 100;
        }
        double lo = minX / 4, hi = maxX * 4;
        for (String b : backends) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (KernelBenchmark.Row r : rows) {
                if (r.backend().equals(b) && r.status().equals("ok") && r.gflops() > 0 && r.gbps() > 0) {
                    xs.add(r.intensity());
                    ys.add(r.gflops());
                }
            }
            c.addSeries(b, xs, ys).setMarker(SeriesMarkers.CIRCLE);
        }
        for (Map.Entry<String, double[]> e : peaks.entrySet()) {
            double peak = e.getValue()[0];
            double bw = e.getValue()[1];
            if (!(peak > 0)) {
                continue;
            }
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (int i = 0; i <= 40; i++) {
                double x = lo * Math.pow(hi / lo, i / 40.0);
                xs.add(x);
                ys.add(bw > 0 ? Math.min(peak, bw * x) : peak);
            }
            XYSeries s = c.addSeries(String.format(Locale.ROOT, "%s roof: %.1f GFLOP/s%s", e.getKey(), peak,
                    bw > 0 ? String.format(Locale.ROOT, ", %.1f GB/s", bw) : ""), xs, ys);
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            s.setMarker(SeriesMarkers.NONE);
            s.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
        }
        if (c.getSeriesMap().isEmpty()) {
            c.addSeries("(nothing measured)", new double[] {1}, new double[] {1}).setLineColor(Color.GRAY);
        }
        BitmapEncoder.saveBitmap(c, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
