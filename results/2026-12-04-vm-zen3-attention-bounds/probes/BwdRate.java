import blt4j.compute.*;
import java.util.*;
public class BwdRate {
  public static void main(String[] a) throws Exception {
    int H = 4, t = 1024, b = 4, T = b * t;
    StringBuilder sb = new StringBuilder();
    for (String cfg : System.getProperty("cfgs", "32:512:1,32:512:2,64:0:1,64:0:2").split(",")) {
      String[] c = cfg.split(":");
      int D = Integer.parseInt(c[0]), win = Integer.parseInt(c[1]), threads = Integer.parseInt(c[2]), W = H * D;
      CpuBackend be = new CpuBackend(threads);
      Random r = new Random(1);
      float[] x = new float[T * W];
      Tensor q = be.zeros(T, W), k = be.zeros(T, W), v = be.zeros(T, W), o = be.zeros(T, W), g = be.zeros(T, W);
      Tensor dq = be.zeros(T, W), dk = be.zeros(T, W), dv = be.zeros(T, W), lse = be.zeros(H, T);
      for (Tensor tt : new Tensor[]{q, k, v, g}) { for (int j = 0; j < x.length; j++) x[j] = (float) r.nextGaussian(); be.upload(x, 0, tt); }
      Ranges m = AttentionMask.batched(be, b, t, win, null);
      long tot = m.total();
      be.attention(q, k, v, o, lse, m, H);
      for (int w = 0; w < 25; w++) be.attentionBackward(g, q, k, v, o, lse, m, dq, dk, dv, H);
      int reps = 15; double[] rs = new double[reps];
      for (int i = 0; i < reps; i++) { long t0 = System.nanoTime(); be.attentionBackward(g, q, k, v, o, lse, m, dq, dk, dv, H); rs[i] = 8.0 * D * H * tot / (System.nanoTime() - t0); }
      Arrays.sort(rs);
      sb.append(String.format(" %s=%.1f", cfg, rs[reps / 2]));
    }
    System.out.println(System.getProperty("tag", "") + sb);
  }
}
