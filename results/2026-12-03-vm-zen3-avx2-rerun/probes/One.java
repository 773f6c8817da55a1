import blt4j.compute.*;
public class One {
  public static void main(String[] x) {
    CpuBackend be = new CpuBackend(1);
    int m = 4096, n = 256, k = 256;
    Tensor a = be.zeros(m, k), b = be.zeros(n, k), c = be.zeros(m, n);
    float[] d = new float[m * k]; for (int i = 0; i < d.length; i++) d[i] = (i % 13) * 0.01f;
    be.upload(d, 0, a); be.upload(d, 0, b);
    double fl = 2.0 * m * n * k;
    StringBuilder sb = new StringBuilder();
    for (int r = 0; r < 24; r++) {
      long t0 = System.nanoTime();
      for (int q = 0; q < 10; q++) be.matmul(a, false, b, true, c, false);
      sb.append(String.format("%.0f ", fl * 10 / (System.nanoTime() - t0)));
    }
    System.out.println(sb);
  }
}
