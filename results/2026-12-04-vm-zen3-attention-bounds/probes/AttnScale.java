import blt4j.compute.*;
import java.util.*;
public class AttnScale {
  public static void main(String[] a) throws Exception {
    int H = 4, D = Integer.getInteger("D", 32), W = H * D, win = Integer.getInteger("win", 512);
    int t = 1024, b = 4, T = b * t;
    CpuBackend[] bes = { new CpuBackend(1), new CpuBackend(2) };
    Random r = new Random(1);
    float[] x = new float[T * W];
    double[][] fwd = new double[2][], bwd = new double[2][];
    int pairsN = Integer.getInteger("pairs", 12);
    Tensor[][] ts = new Tensor[2][];
    Ranges[] ms = new Ranges[2];
    for (int i = 0; i < 2; i++) {
      CpuBackend be = bes[i];
      Tensor q = be.zeros(T, W), k = be.zeros(T, W), v = be.zeros(T, W), o = be.zeros(T, W), g = be.zeros(T, W);
      Tensor dq = be.zeros(T, W), dk = be.zeros(T, W), dv = be.zeros(T, W), lse = be.zeros(H, T);
      for (Tensor tt : new Tensor[]{q, k, v, g}) { for (int j = 0; j < x.length; j++) x[j] = (float) r.nextGaussian(); be.upload(x, 0, tt); }
      ts[i] = new Tensor[]{q, k, v, o, g, dq, dk, dv, lse};
      ms[i] = AttentionMask.batched(be, b, t, win, null);
      fwd[i] = new double[pairsN]; bwd[i] = new double[pairsN];
    }
    long tot = ms[0].total();
    for (int w = 0; w < 30; w++) for (int i = 0; i < 2; i++) { Tensor[] s = ts[i]; bes[i].attention(s[0], s[1], s[2], s[3], s[8], ms[i], H); bes[i].attentionBackward(s[4], s[0], s[1], s[2], s[3], s[8], ms[i], s[5], s[6], s[7], H); }
    for (int p = 0; p < pairsN; p++) for (int i = 0; i < 2; i++) {
      Tensor[] s = ts[i]; CpuBackend be = bes[i];
      long t0 = System.nanoTime(); be.attention(s[0], s[1], s[2], s[3], s[8], ms[i], H);
      long t1 = System.nanoTime(); be.attentionBackward(s[4], s[0], s[1], s[2], s[3], s[8], ms[i], s[5], s[6], s[7], H);
      long t2 = System.nanoTime();
      fwd[i][p] = 4.0 * D * H * tot / (t1 - t0); bwd[i][p] = 8.0 * D * H * tot / (t2 - t1);
    }
    for (int p = 0; p < pairsN; p++) System.out.printf("pair %2d: fwd 1T %5.1f 2T %5.1f (x%.2f)   bwd 1T %5.1f 2T %5.1f (x%.2f)%n", p, fwd[0][p], fwd[1][p], fwd[1][p] / fwd[0][p], bwd[0][p], bwd[1][p], bwd[1][p] / bwd[0][p]);
  }
}
