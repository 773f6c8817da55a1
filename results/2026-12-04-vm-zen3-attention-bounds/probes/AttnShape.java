import blt4j.compute.*;
import java.util.*;
public class AttnShape {
  public static void main(String[] a) throws Exception {
    int D = Integer.getInteger("D", 64), win = Integer.getInteger("win", 0), t = 1024;
    int threads = Integer.getInteger("threads", 1), reps = Integer.getInteger("reps", 40);
    CpuBackend be = new CpuBackend(threads);
    String[] cfgs = System.getProperty("cfgs", "1:1,1:4,4:1,4:4").split(",");
    Object[][] jobs = new Object[cfgs.length][];
    for (int c = 0; c < cfgs.length; c++) {
      int H = Integer.parseInt(cfgs[c].split(":")[0]), b = Integer.parseInt(cfgs[c].split(":")[1]), W = H * D, T = b * t;
      Random r = new Random(1); float[] x = new float[T * W];
      Tensor q = be.zeros(T, W), k = be.zeros(T, W), v = be.zeros(T, W), o = be.zeros(T, W), g = be.zeros(T, W);
      Tensor dq = be.zeros(T, W), dk = be.zeros(T, W), dv = be.zeros(T, W), lse = be.zeros(H, T);
      for (Tensor tt : new Tensor[]{q, k, v, g}) { for (int j = 0; j < x.length; j++) x[j] = (float) r.nextGaussian(); be.upload(x, 0, tt); }
      Ranges m = AttentionMask.batched(be, b, t, win, null);
      jobs[c] = new Object[]{new Tensor[]{q, k, v, o, g, dq, dk, dv, lse}, m, H};
    }
    double[][] f = new double[cfgs.length][reps], bw = new double[cfgs.length][reps];
    for (int w = 0; w < 10; w++) for (Object[] j : jobs) run(be, j, null, 0);
    for (int p = 0; p < reps; p++) for (int c = 0; c < cfgs.length; c++) { double[] out = new double[2]; run(be, jobs[c], out, D); f[c][p] = out[0]; bw[c][p] = out[1]; }
    for (int c = 0; c < cfgs.length; c++) { Arrays.sort(f[c]); Arrays.sort(bw[c]);
      System.out.printf("D %d win %d %dT heads:rows %s  fwd median %5.1f best %5.1f   bwd median %5.1f best %5.1f GFLOP/s%n", D, win, threads, cfgs[c], f[c][reps/2], f[c][reps-1], bw[c][reps/2], bw[c][reps-1]); }
  }
  static void run(CpuBackend be, Object[] j, double[] out, int D) {
    Tensor[] s = (Tensor[]) j[0]; Ranges m = (Ranges) j[1]; int H = (Integer) j[2];
    long t0 = System.nanoTime(); be.attention(s[0], s[1], s[2], s[3], s[8], m, H);
    long t1 = System.nanoTime(); be.attentionBackward(s[4], s[0], s[1], s[2], s[3], s[8], m, s[5], s[6], s[7], H);
    long t2 = System.nanoTime();
    if (out != null) { double fl = 4.0 * D * H * m.total(); out[0] = fl / (t1 - t0); out[1] = 2 * fl / (t2 - t1); }
  }
}
