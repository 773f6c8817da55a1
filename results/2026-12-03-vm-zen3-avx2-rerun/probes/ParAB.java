import blt4j.compute.*;
public class ParAB {
  public static void main(String[] x) {
    CpuBackend b1 = new CpuBackend(1), b2 = new CpuBackend(2);
    int pairs = Integer.getInteger("pairs", 30);
    for (String shp : System.getProperty("shapes", "1024,1024,1024,n,t;4096,256,256,n,t;4096,768,256,n,t;4096,256,768,n,n").split(";")) {
      String[] s = shp.split(",");
      int m = Integer.parseInt(s[0]), n = Integer.parseInt(s[1]), k = Integer.parseInt(s[2]);
      boolean ta = s.length > 3 && s[3].equals("t"), tb = s.length > 4 && s[4].equals("t");
      Tensor[][] t = new Tensor[2][];
      CpuBackend[] be = {b1, b2};
      float[] data = new float[Math.max(m * k, Math.max(n * k, m * n))];
      java.util.Random r = new java.util.Random(1);
      for (int i = 0; i < data.length; i++) data[i] = r.nextFloat() - 0.5f;
      for (int i = 0; i < 2; i++) {
        Tensor a = ta ? be[i].zeros(k, m) : be[i].zeros(m, k), b = tb ? be[i].zeros(n, k) : be[i].zeros(k, n), c = be[i].zeros(m, n);
        be[i].upload(data, 0, a); be[i].upload(data, 0, b);
        t[i] = new Tensor[]{a, b, c};
      }
      double fl = 2.0 * m * n * k;
      int reps = (int) Math.max(1, 3e8 / fl);
      double[] ratio = new double[pairs]; double[] r1 = new double[pairs], r2 = new double[pairs];
      for (int w = 0; w < 3; w++) for (int i = 0; i < 2; i++) for (int q = 0; q < reps; q++) be[i].matmul(t[i][0], ta, t[i][1], tb, t[i][2], false);
      for (int p = 0; p < pairs; p++) {
        long[] ns = new long[2];
        for (int j = 0; j < 2; j++) {
          int i = (p & 1) == 0 ? j : 1 - j;
          long t0 = System.nanoTime();
          for (int q = 0; q < reps; q++) be[i].matmul(t[i][0], ta, t[i][1], tb, t[i][2], false);
          ns[i] = System.nanoTime() - t0;
        }
        r1[p] = fl * reps / ns[0]; r2[p] = fl * reps / ns[1]; ratio[p] = (double) ns[0] / ns[1];
      }
      java.util.Arrays.sort(ratio); java.util.Arrays.sort(r1); java.util.Arrays.sort(r2);
      System.out.printf("%-22s 1T median %6.1f  2T median %6.1f  2T/1T speed-up median %.2f (q1 %.2f, q3 %.2f)%n", shp, r1[pairs / 2], r2[pairs / 2], ratio[pairs / 2], ratio[pairs / 4], ratio[3 * pairs / 4]);
    }
    b1.close(); b2.close();
  }
}
