package blt4j.compute;
public class Mac2 {
  static final int kc = 256, MR = CpuGemm.MR, NR = CpuGemm.NR, n = 1024, k = 1024;
  static float[] a = new float[n * k], b = new float[n * k], c = new float[n * n];
  static float[] bp = new float[kc * n], apAll = new float[n * kc];
  // current order: per MC block pack A, jr outer, strips inner
  static void cur(int mc) {
    CpuScratch sc = CpuScratch.get();
    for (int ic = 0; ic < n; ic += mc) CpuGemm.macroRows(a, ic * k, k, bp, 0, c, ic * n, n, Math.min(mc, n - ic), n, kc, false, sc, 0, n / NR);
  }
  // A packed already (all 1024 rows), current order per mc block
  static void prepackedA(int mc) {
    for (int ic = 0; ic < n; ic += mc)
      for (int jr = 0; jr < n; jr += NR)
        for (int st = ic / MR; st < Math.min(n, ic + mc) / MR; st++)
          CpuGemm.tilePacked(apAll, st * kc * MR, bp, (jr / NR) * kc * NR, kc, c, st * MR * n + jr, n, false);
  }
  // swapped: B column block of nb columns (in L2), strips outer, jr inner
  static void swapped(int nb) {
    for (int jc = 0; jc < n; jc += nb)
      for (int st = 0; st < n / MR; st++)
        for (int jr = jc; jr < jc + nb; jr += NR)
          CpuGemm.tilePacked(apAll, st * kc * MR, bp, (jr / NR) * kc * NR, kc, c, st * MR * n + jr, n, false);
  }
  static void packAll() {
    for (int st = 0; st < n / MR; st++)
      for (int ii = 0; ii < MR; ii++) for (int p = 0; p < kc; p++) apAll[st * kc * MR + p * MR + ii] = a[(st * MR + ii) * k + p];
  }
  interface R { void run(); }
  static double t(R r) { long t0 = System.nanoTime(); for (int q = 0; q < 3; q++) r.run(); return 2.0 * n * n * kc * 3 / (System.nanoTime() - t0); }
  public static void main(String[] x) {
    for (int i = 0; i < a.length; i++) { a[i] = (i % 7) * 0.01f; b[i] = (i % 5) * 0.01f; }
    CpuGemm.packB(b, 0, true, n, k, 0, kc, 0, n, bp, 0);
    packAll();
    for (int r = 0; r < 12; r++) {
      System.out.printf("cur144 %.1f cur48 %.1f preA144 %.1f preA48 %.1f swap128 %.1f swap256 %.1f swap512 %.1f%n",
        t(() -> cur(144)), t(() -> cur(48)), t(() -> prepackedA(144)), t(() -> prepackedA(48)), t(() -> swapped(128)), t(() -> swapped(256)), t(() -> swapped(512)));
    }
  }
}
