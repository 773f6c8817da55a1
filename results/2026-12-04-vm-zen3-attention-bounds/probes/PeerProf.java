import blt4j.compute.*;
import blt4j.model.*;
import blt4j.nn.AdamW;
import java.util.*;
public class PeerProf {
  public static void main(String[] a) throws Exception {
    int threads = Integer.getInteger("threads", 2);
    int steps = Integer.getInteger("steps", 6);
    boolean shapes = Boolean.getBoolean("shapes");
    boolean fwdOnly = Boolean.getBoolean("fwd");
    String model = System.getProperty("model", "blt");
    CpuBackend be = new CpuBackend(threads);
    int rows = 4, n = 1024;
    Random r = new Random(7);
    int[] in = new int[rows * n], tg = new int[rows * n];
    for (int i = 0; i < in.length; i++) { in[i] = 32 + r.nextInt(90); }
    for (int i = 0; i < in.length; i++) { tg[i] = i + 1 < in.length ? in[i + 1] : 0; }
    BltConfig cfg = BltConfig.tiny();
    Runnable step;
    if (model.equals("blt")) {
      int[][] lengths = new int[rows][];
      int patches = 0;
      for (int row = 0; row < rows; row++) {
        List<Integer> l = new ArrayList<>(); l.add(1); int left = n;
        while (left > 0) { int x = Math.min(left, 1 + r.nextInt(8)); l.add(x); left -= x; }
        lengths[row] = l.stream().mapToInt(Integer::intValue).toArray(); patches += l.size();
      }
      ByteLatentTransformer blt = new ByteLatentTransformer(cfg, be).initialize(3);
      AdamW opt = AdamW.standard(blt.parameters(), 0.1f);
      ByteLatentTransformer.State st = blt.newState(rows, n, patches, !fwdOnly);
      step = fwdOnly ? () -> blt.forward(st, in, lengths) : () -> {
        blt.parameters().zeroGrads(); blt.forward(st, in, lengths); blt.loss(st, tg, null); blt.backward(st);
        be.clipGradNorm(blt.parameters().grads(), 1.0); opt.step(1e-4f); };
    } else {
      EntropyModel base = new EntropyModel(EntropyModelConfig.byteTransformer(cfg, n), be).initialize(5);
      AdamW opt = AdamW.standard(base.parameters(), 0.1f);
      EntropyModel.State st = base.newState(rows, n, !fwdOnly);
      step = fwdOnly ? () -> base.forward(st, in) : () -> {
        base.parameters().zeroGrads(); base.forward(st, in); base.loss(st, tg, null); base.backward(st);
        be.clipGradNorm(base.parameters().grads(), 1.0); opt.step(1e-4f); };
    }
    for (int i = 0; i < 6; i++) step.run();
    long t0 = System.nanoTime();
    for (int i = 0; i < steps; i++) step.run();
    long plain = System.nanoTime() - t0;
    be.setProfiling(true, shapes);
    for (int i = 0; i < steps; i++) step.run();
    var p = be.opTimes();
    be.setProfiling(false);
    long total = p.values().stream().mapToLong(e -> e[1]).sum();
    System.out.printf("%s %s: %.1f ms/step unprofiled, %.1f ms/step op time profiled%n", model, fwdOnly ? "fwd" : "train", plain / 1e6 / steps, total / 1e6 / steps);
    p.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1])).limit(40).forEach(e -> {
      long[] v = e.getValue();
      String rate = v[2] > 0 ? String.format(Locale.ROOT, "  %7.1f GFLOP/s", v[2] / (double) v[1]) : "";
      System.out.printf(Locale.ROOT, "  %-58s %6d %8.2f ms/step %5.1f%%%s%n", e.getKey(), v[0] / steps, v[1] / 1e6 / steps, 100.0 * v[1] / total, rate);
    });
  }
}
