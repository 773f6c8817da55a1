package blt4j.viz;

import blt4j.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;
import java.io.ByteArrayOutputStream;

/**
 * Shows patches three ways: coloured terminal text, an HTML page (entropy curve, threshold, boundaries, and the
 * text with one colour per patch) and a PNG chart of entropy along the text with the patch starts marked.
 */
public final class PatchView {
    private final int[] tokens;
    private final float[] entropies;
    private final int[] lengths;
    private final Float threshold;

    /**
     * @param tokens    the shown tokens ([BOS] + bytes)
     * @param entropies entropy per token (null for schemes without a model)
     * @param lengths   patch lengths covering the shown tokens
     */
    public PatchView(int[] tokens, float[] entropies, int[] lengths, Float threshold) {
        this.tokens = tokens;
        this.entropies = entropies;
        this.lengths = lengths;
        this.threshold = threshold;
    }

    private boolean[] starts() {
        boolean[] s = new boolean[tokens.length + 1];
        int at = 0;
        for (int l : lengths) {
            if (at <= tokens.length) {
                s[at] = true;
            }
            at += l;
        }
        return s;
    }

    /** The text with alternating background colours per patch (ANSI), special ids shown as ⟨BOS⟩ etc. */
    public String terminal() {
        String[] colours = {"\u001b[48;5;153m", "\u001b[48;5;222m", "\u001b[48;5;157m", "\u001b[48;5;218m"};
        StringBuilder sb = new StringBuilder();
        boolean[] st = starts();
        int patch = -1;
        ByteArrayOutputStream pending = new ByteArrayOutputStream();
        for (int i = 0; i < tokens.length; i++) {
            if (st[i]) {
                flush(pending, sb);
                patch++;
                sb.append("\u001b[30m").append(colours[patch % colours.length]);
            }
            int t = tokens[i];
            if (t < ByteTokenizer.OFFSET) {
                flush(pending, sb);
                sb.append(special(t));
            } else if (t - 4 == '\n') {
                flush(pending, sb);
                sb.append("↵\u001b[0m\n");
                sb.append("\u001b[30m").append(colours[Math.max(0, patch) % colours.length]);
            } else {
                pending.write(t - 4);
            }
        }
        flush(pending, sb);
        return sb.append("\u001b[0m").toString();
    }

    private static void flush(ByteArrayOutputStream pending, StringBuilder sb) {
        if (pending.size() > 0) {
            sb.append(new String(pending.toByteArray(), StandardCharsets.UTF_8));
            pending.reset();
        }
    }

    private static String special(int t) {
        return switch (t) {
            case ByteTokenizer.BOS -> "⟨BOS⟩";
            case ByteTokenizer.EOS -> "⟨EOS⟩";
            case ByteTokenizer.BOE -> "⟨BOE⟩";
            default -> "⟨" + t + "⟩";
        };
    }

    public Path png(Path file, String title) throws IOException {
        XYChart chart = new XYChartBuilder().width(Math.max(900, Math.min(4000, tokens.length * 6))).height(420)
                .title(title).xAxisTitle("byte position").yAxisTitle("next-byte entropy (nats)").build();
        chart.getStyler().setMarkerSize(6);
        List<Integer> xs = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        List<Integer> sx = new ArrayList<>();
        List<Double> sy = new ArrayList<>();
        boolean[] st = starts();
        for (int i = 0; i < tokens.length; i++) {
            double h = entropies == null ? 0 : entropies[i];
            xs.add(i);
            ys.add(h);
            // a patch starting at i ≥ 2 was decided by H[i-1]: mark that point (0 and 1 always start)
            if (st[i] && i >= 2) {
                sx.add(i - 1);
                sy.add(entropies == null ? 0 : (double) entropies[i - 1]);
            }
        }
        chart.addSeries("entropy H[t]", xs, ys).setMarker(SeriesMarkers.NONE);
        if (sx.isEmpty()) {
            sx.add(0);
            sy.add(0.0);
        }
        XYSeries starts = chart.addSeries("H[t] that starts a patch at t+1", sx, sy);
        starts.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        if (threshold != null) {
            chart.addSeries("threshold " + threshold, List.of(0, tokens.length - 1), List.of((double) threshold, (double) threshold))
                    .setMarker(SeriesMarkers.NONE);
        }
        String name = file.toString().replaceFirst("\\.png$", "");
        BitmapEncoder.saveBitmap(chart, name, BitmapEncoder.BitmapFormat.PNG);
        return Path.of(name + ".png");
    }

    public Path html(Path file, String title) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append("<!doctype html><meta charset=utf-8><title>").append(esc(title)).append("</title>\n<style>")
                .append("body{font-family:sans-serif;margin:1.5em} .t{font-family:monospace;white-space:pre-wrap;line-height:1.9}")
                .append(".p0{background:#cfe3ff}.p1{background:#ffe3b0}.p2{background:#d4f5d4}.p3{background:#ffd4e8}")
                .append("span.b{border-left:2px solid #333}</style>\n<h2>").append(esc(title)).append("</h2>\n");
        if (entropies != null) {
            int w = Math.max(800, tokens.length * 4);
            int h = 160;
            double max = threshold == null ? 1 : threshold;
            for (float e : entropies) {
                max = Math.max(max, e);
            }
            sb.append("<svg width=").append(w).append(" height=").append(h + 20).append(" style='display:block'>");
            sb.append("<polyline fill=none stroke='#2060c0' points='");
            for (int i = 0; i < tokens.length; i++) {
                sb.append(String.format("%.1f,%.1f ", i * 4.0 + 2, h - entropies[i] / max * h));
            }
            sb.append("'/>");
            boolean[] st = starts();
            for (int i = 0; i < tokens.length; i++) {
                if (st[i]) {
                    sb.append(String.format("<line x1=%.1f x2=%.1f y1=0 y2=%d stroke='#999' stroke-width=0.6/>", i * 4.0, i * 4.0, h));
                }
            }
            if (threshold != null) {
                double y = h - threshold / max * h;
                sb.append(String.format("<line x1=0 x2=%d y1=%.1f y2=%.1f stroke='#d03030' stroke-dasharray='4 3'/>", w, y, y));
                sb.append(String.format("<text x=4 y=%.1f fill='#d03030' font-size=12>θ = %s nats</text>", y - 3, threshold));
            }
            sb.append("</svg><p>Blue: next-byte entropy H[t] (nats); grey: patch starts; red: threshold.</p>\n");
        }
        sb.append("<div class=t>");
        boolean[] st = starts();
        int patch = -1;
        for (int i = 0; i < tokens.length; i++) {
            if (st[i]) {
                if (patch >= 0) {
                    sb.append("</span>");
                }
                patch++;
                sb.append("<span class='b p").append(patch % 4).append("'>");
            }
            int t = tokens[i];
            String tip = entropies == null ? "" : String.format(" title='H=%.3f'", entropies[i]);
            String text = t < ByteTokenizer.OFFSET ? special(t) : byteText(i);
            sb.append("<span").append(tip).append('>').append(esc(text)).append("</span>");
        }
        if (patch >= 0) {
            sb.append("</span>");
        }
        sb.append("</div>\n");
        Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
        return file;
    }

    /** One byte shown as text: ASCII as is, other bytes as their hex value (multi-byte characters stay readable per byte). */
    private String byteText(int i) {
        int b = tokens[i] - ByteTokenizer.OFFSET;
        if (b == '\n') {
            return "↵\n";
        }
        if (b >= 0x20 && b < 0x7F) {
            return Character.toString((char) b);
        }
        return String.format("\\x%02X", b);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;");
    }
}
