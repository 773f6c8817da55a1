package blt4j.compute;
import jdk.incubator.vector.*;
import static blt4j.compute.CpuVectorMath.*;
public class ExpBench {
  static float loopExp(float[] x, float[] y, int n, float scale, float m) {
    FloatVector vs = FloatVector.broadcast(S, -m), vscale = FloatVector.broadcast(S, scale), acc = FloatVector.zero(S);
    for (int i = 0; i < n; i += L) {
      FloatVector e = expSoftmax(FloatVector.fromArray(S, x, i).fma(vscale, vs));
      e.intoArray(y, i);
      acc = acc.add(e);
    }
    return acc.reduceLanes(VectorOperators.ADD);
  }
  static float loopMax(float[] x, int n) { return maxOf(x, 0, n); }
  static float[] mOut = new float[4], lanes = new float[L];
  public static void main(String[] a) {
    int n = 512; float[] x = new float[n + 16], y = new float[n + 16];
    java.util.Random r = new java.util.Random(1);
    for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian() * 3;
    float sink = 0;
    for (int round = 0; round < 5; round++) {
      long it = 200000;
      long t0 = System.nanoTime();
      for (long k = 0; k < it; k++) sink += loopExp(x, y, n, 0.17f, 1f);
      long t1 = System.nanoTime();
      for (long k = 0; k < it; k++) sink += loopMax(x, n);
      long t2 = System.nanoTime();
      long t3 = System.nanoTime();
      for (long k = 0; k < it; k++) { System.arraycopy(y, 0, x, 0, 8); sink += CpuAttentionTiles.softmaxNumerators(x, 3, n - 5, 0.17f, mOut, 1, lanes); }
      long t4 = System.nanoTime();
      System.out.printf("softmaxNumerators: %.3f ns/elem%n", (t4 - t3) / (double) (it * n));
      System.out.printf("exp: %.3f ns/elem   max: %.3f ns/elem%n", (t1 - t0) / (double) (it * n), (t2 - t1) / (double) (it * n));
    }
    System.out.println(sink);
  }
}
