// Probe (not built with the project): alternated a temporary, non-final CpuGemm.COL_BLOCK_STRIPS switch (0 = the old
// order) that is not in the committed code; kept for the record of how the in-process pairs were taken.
package blt4j.compute;
public class AB {
  public static void main(String[] x) {
    int th = Integer.getInteger("t", 1);
    CpuBackend be = new CpuBackend(th);
    String[] shapes = System.getProperty("shapes", "1024,1024,1024,n,t;912,256,768,n,t;256,256,912,t,n;4096,256,256,n,t").split(";");
    int[] blocks = java.util.Arrays.stream(System.getProperty("blocks", "0,8").split(",")).mapToInt(Integer::parseInt).toArray();
    int rounds = Integer.getInteger("rounds", 6);
    float[] d = new float[1 << 22]; for (int i = 0; i < d.length; i++) d[i] = (i % 13) * 0.01f;
    for (String sh : shapes) {
      String[] f = sh.split(",");
      int m = Integer.parseInt(f[0]), n = Integer.parseInt(f[1]), k = Integer.parseInt(f[2]);
      boolean ta = f[3].equals("t"), tb = f[4].equals("t");
      Tensor a = ta ? be.zeros(k, m) : be.zeros(m, k), b = tb ? be.zeros(n, k) : be.zeros(k, n), c = be.zeros(m, n);
      be.upload(d, 0, a); be.upload(d, 0, b);
      double fl = 2.0 * m * n * k;
      int reps = (int) Math.max(3, Double.parseDouble(System.getProperty("work", "1e9")) / fl);
      double[][] r = new double[blocks.length][rounds];
      for (int w = 0; w < 3; w++) for (int bi = 0; bi < blocks.length; bi++) { CpuGemm.COL_BLOCK_STRIPS = blocks[bi]; be.matmul(a, ta, b, tb, c, false); }
      for (int q = 0; q < rounds; q++) for (int bi = 0; bi < blocks.length; bi++) {
        CpuGemm.COL_BLOCK_STRIPS = blocks[bi];
        long t0 = System.nanoTime();
        for (int z = 0; z < reps; z++) be.matmul(a, ta, b, tb, c, false);
        r[bi][q] = fl * reps / (System.nanoTime() - t0);
      }
      StringBuilder sb = new StringBuilder(sh + " t" + th + ":");
      for (int bi = 0; bi < blocks.length; bi++) {
        double[] v = r[bi].clone(); java.util.Arrays.sort(v);
        sb.append(String.format("  cb%d med %.1f [%.1f-%.1f]", blocks[bi], v[rounds / 2], v[0], v[rounds - 1]));
      }
      // per-round ratio cb8/cb0
      double[] rat = new double[rounds]; for (int q = 0; q < rounds; q++) rat[q] = r[1][q] / r[0][q];
      java.util.Arrays.sort(rat);
      sb.append(String.format("  ratio8/0 med %.2f [%.2f-%.2f]", rat[rounds / 2], rat[0], rat[rounds - 1]));
      System.out.println(sb);
    }
  }
}
