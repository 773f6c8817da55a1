import blt4j.compute.*;
import java.util.*;
import java.util.concurrent.*;
public class AttnConc {
  static int H = 4, D = Integer.getInteger("D", 32), W = H * D, win = Integer.getInteger("win", 512), t = 1024, b = 4, T = b * t;
  static class Job { CpuBackend be; Tensor[] s; Ranges m;
    Job(int threads, long seed) { be = new CpuBackend(threads); Random r = new Random(seed); float[] x = new float[T * W];
      Tensor q = be.zeros(T, W), k = be.zeros(T, W), v = be.zeros(T, W), o = be.zeros(T, W), g = be.zeros(T, W);
      Tensor dq = be.zeros(T, W), dk = be.zeros(T, W), dv = be.zeros(T, W), lse = be.zeros(H, T);
      for (Tensor tt : new Tensor[]{q, k, v, g}) { for (int j = 0; j < x.length; j++) x[j] = (float) r.nextGaussian(); be.upload(x, 0, tt); }
      s = new Tensor[]{q, k, v, o, g, dq, dk, dv, lse}; m = AttentionMask.batched(be, b, t, win, null); }
    void fwd() { be.attention(s[0], s[1], s[2], s[3], s[8], m, H); }
    void bwd() { be.attentionBackward(s[4], s[0], s[1], s[2], s[3], s[8], m, s[5], s[6], s[7], H); }
  }
  public static void main(String[] a) throws Exception {
    Job one = new Job(1, 1), other = new Job(1, 2), two = new Job(2, 3);
    long tot = one.m.total();
    ExecutorService ex = Executors.newFixedThreadPool(2);
    for (int w = 0; w < 25; w++) { one.fwd(); one.bwd(); other.fwd(); other.bwd(); two.fwd(); two.bwd(); }
    for (int p = 0; p < Integer.getInteger("pairs", 10); p++) {
      long t0 = System.nanoTime(); one.fwd(); long t1 = System.nanoTime(); one.bwd(); long t2 = System.nanoTime();
      two.fwd(); long t3 = System.nanoTime(); two.bwd(); long t4 = System.nanoTime();
      Future<?> f1 = ex.submit(() -> one.fwd()), f2 = ex.submit(() -> other.fwd()); f1.get(); f2.get(); long t5 = System.nanoTime();
      f1 = ex.submit(() -> one.bwd()); f2 = ex.submit(() -> other.bwd()); f1.get(); f2.get(); long t6 = System.nanoTime();
      double ff = 4.0 * D * H * tot, bf = 2 * ff;
      System.out.printf("fwd: 1T %5.1f  2T %5.1f  two 1T jobs %5.1f    bwd: 1T %5.1f  2T %5.1f  two 1T jobs %5.1f%n",
        ff / (t1 - t0), ff / (t3 - t2), 2 * ff / (t5 - t4), bf / (t2 - t1), bf / (t4 - t3), 2 * bf / (t6 - t5));
    }
    ex.shutdown();
  }
}
