package blt4j.compute;
import java.util.*;
/** One head's forward tiles on rows D apart against rows 4·D apart (the layout of 4 heads): same work, other stride. */
public class StrideGap {
  public static void main(String[] a) {
    int D = Integer.getInteger("D", 32), T = 1024, win = Integer.getInteger("win", 512);
    int[] lo = new int[T], hi = new int[T];
    AttentionMask.fillBatched(1, T, win, null, lo, hi);
    long pairs = 0; for (int i = 0; i < T; i++) pairs += hi[i] - lo[i];
    int nks = (T + CpuAttentionTiles.KT - 1) / CpuAttentionTiles.KT;
    float scale = (float) (1 / Math.sqrt(D));
    CpuScratch sc = CpuScratch.get();
    int[] widths = {D, 4 * D};
    float[][][] data = new float[2][][];
    Random r = new Random(1);
    for (int w = 0; w < 2; w++) { int W = widths[w]; data[w] = new float[4][T * W];
      for (int i = 0; i < T; i++) for (int d = 0; d < D; d++) for (int t = 0; t < 3; t++) data[w][t][i * W + d] = (float) r.nextGaussian(); }
    float[] lv = new float[T];
    int reps = Integer.getInteger("reps", 300);
    double[][] ts = new double[2][reps];
    for (int rep = 0; rep < reps; rep++) for (int w = 0; w < 2; w++) {
      float[][] x = data[w]; int W = widths[w];
      long s0 = System.nanoTime();
      sc.headPanels.start(nks, T, D);
      for (int t = 0; t < T / CpuAttentionTiles.QT; t++) CpuAttentionTiles.tile(x[0], 0, x[1], 0, x[2], 0, sc.headPanels, nks, T, x[3], 0, W, 0, D, t * CpuAttentionTiles.QT, lo, 0, hi, 0, scale, lv, 0, sc);
      ts[w][rep] = (System.nanoTime() - s0) / 1e6;
    }
    double fl = 4.0 * D * pairs;
    // best of the reps: the first ones run before C2 has compiled the tile
    for (int w = 0; w < 2; w++) { Arrays.sort(ts[w]); System.out.printf("D %d win %d row width %d: best %.3f ms (%.1f GFLOP/s)%n", D, win, widths[w], ts[w][0], fl / ts[w][0] / 1e6); }
  }
}
