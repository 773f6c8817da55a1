package blt4j.viz;

import blt4j.train.TrainingState;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

/** Training and held-out loss (bits/byte) against step, as a PNG. */
public final class LossCurve {
    private LossCurve() {}

    public static Path write(List<TrainingState.Point> history, Path png, String title) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(500).title(title).xAxisTitle("step").yAxisTitle("bits per byte").build();
        List<Integer> steps = new ArrayList<>();
        List<Double> train = new ArrayList<>();
        List<Integer> evalSteps = new ArrayList<>();
        List<Double> eval = new ArrayList<>();
        for (TrainingState.Point p : history) {
            steps.add(p.step());
            train.add(p.loss() / Math.log(2));
            if (p.evalBitsPerByte() != null) {
                evalSteps.add(p.step());
                eval.add(p.evalBitsPerByte());
            }
        }
        if (steps.isEmpty()) {
            steps.add(0);
            train.add(Double.NaN);
        }
        chart.addSeries("train", steps, train).setMarker(org.knowm.xchart.style.markers.SeriesMarkers.NONE);
        if (!eval.isEmpty()) {
            chart.addSeries("held-out", evalSteps, eval).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        }
        String name = png.toString().replaceFirst("\\.png$", "");
        BitmapEncoder.saveBitmap(chart, name, BitmapEncoder.BitmapFormat.PNG);
        return Path.of(name + ".png");
    }
}
