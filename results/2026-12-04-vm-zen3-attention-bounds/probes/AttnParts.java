package blt4j.compute;
import java.util.*;
public class AttnParts {
  public static void main(String[] args) {
    int D = Integer.getInteger("D", 32), T = Integer.getInteger("T", 1024), win = Integer.getInteger("win", 512);
    int H = 1, W = H * D, reps = Integer.getInteger("reps", 30);
    Random r = new Random(1);
    float[] q = new float[T * W], k = new float[T * W], v = new float[T * W], out = new float[T * W], lse = new float[T];
    for (int i = 0; i < q.length; i++) { q[i] = (float) r.nextGaussian(); k[i] = (float) r.nextGaussian(); v[i] = (float) r.nextGaussian(); }
    int[] lo = new int[T], hi = new int[T];
    long pairs = 0;
    for (int i = 0; i < T; i++) { hi[i] = i + 1; lo[i] = win > 0 ? Math.max(0, i + 1 - win) : 0; pairs += hi[i] - lo[i]; }
    int QT = CpuAttentionTiles.QT, KT = CpuAttentionTiles.KT;
    int nks = (T + KT - 1) / KT;
    CpuScratch sc = CpuScratch.get();
    CpuAttentionTiles.HeadPanels panels = sc.headPanels;
    float scale = (float) (1 / Math.sqrt(D));
    float[] sbuf = new float[QT * (T + 64)];
    double[] best = new double[6];
    Arrays.fill(best, 1e30);
    for (int rep = 0; rep < reps; rep++) {
      for (int mode = 0; mode < 6; mode++) {
        long t0 = System.nanoTime();
        panels.start(nks, T, D);
        if (mode == 0) {
          for (int t = 0; t < T / QT; t++) CpuAttentionTiles.tile(q, 0, k, 0, v, 0, panels, nks, T, out, 0, W, 0, D, t * QT, lo, 0, hi, 0, scale, lse, 0, sc);
        } else {
          panels.ensure(0, nks, k, 0, v, 0, W, D, T, nks);
          if (mode == 3) { t0 = System.nanoTime(); }
          for (int t = 0; t < T / QT; t++) {
            int a = lo[t * QT], b = hi[t * QT + QT - 1];
            int s0 = a / KT, s1 = (b + KT - 1) / KT, rs = (s1 - s0) * KT + 8;
            if (mode == 1 || mode == 3) for (int st = s0; st < s1; st++) CpuGemm.tileRows(q, t * QT * W, W, panels.k, st * D * KT, D, sbuf, (st - s0) * KT, rs, true);
            if (mode == 5) {
              int base = s0 * KT, ld = (s1 - s0) * KT;
              for (int rr = 0; rr < QT; rr++) {
                int x0 = lo[t * QT + rr] - base, y0 = hi[t * QT + rr] - base, row = rr * rs;
                float sum = CpuAttentionTiles.softmaxNumerators(sbuf, row + x0, y0 - x0, scale, sc.meta, rr, sc.lanes);
                lse[t * QT + rr] = sc.meta[rr] + (float) Math.log(sum);
              }
            }
            if (mode == 4) {
              for (int st = s0; st < s1; st++) CpuGemm.tileRows(q, t * QT * W, W, panels.k, st * D * KT, D, sbuf, (st - s0) * KT, rs, true);
              int base = s0 * KT, ld = (s1 - s0) * KT;
              for (int rr = 0; rr < QT; rr++) {
                int x0 = lo[t * QT + rr] - base, y0 = hi[t * QT + rr] - base, row = rr * rs;
                float sum = CpuAttentionTiles.softmaxNumerators(sbuf, row + x0, y0 - x0, scale, sc.meta, rr, sc.lanes);
                CpuVectorMath.zero(sbuf, row, x0);
                CpuVectorMath.zero(sbuf, row + y0, ld - y0);
                lse[t * QT + rr] = sc.meta[rr] + (float) Math.log(sum);
              }
              for (int c = 0; c < (D + KT - 1) / KT; c++) CpuGemm.tileRows(sbuf, 0, rs, panels.v, (c * T + s0 * KT) * KT, b - s0 * KT, out, t * QT * W + c * KT, W, true);
            }
            if (mode == 2 || mode == 3) for (int c = 0; c < (D + KT - 1) / KT; c++) CpuGemm.tileRows(sbuf, 0, rs, panels.v, (c * T + s0 * KT) * KT, b - s0 * KT, out, t * QT * W + c * KT, W, true);
          }
        }
        best[mode] = Math.min(best[mode], (System.nanoTime() - t0) / 1e6);
      }
    }
    double fl = 4.0 * D * pairs;
    System.out.printf("D %d T %d win %d: pairs %d%n", D, T, win, pairs);
    String[] names = {"full tile()", "QK products only (+pack)", "PV products only (+pack)", "QK+PV products (packed)", "QK+softmax copy+PV", "softmax only"};
    for (int m = 0; m < 6; m++) System.out.printf("  %-28s %7.3f ms  %6.1f GFLOP/s (counted fwd flops)  %.2f ns/pair%n", names[m], best[m], fl / best[m] / 1e6, best[m] * 1e6 / pairs);
  }
}
