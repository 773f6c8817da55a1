package blt4j.bench;

import blt4j.compute.Backend;
import blt4j.compute.Tensor;
import blt4j.model.BltConfig;
import blt4j.model.BatchedBlt;
import blt4j.model.ByteLatentTransformer;
import blt4j.model.IncrementalBlt;
import blt4j.tokenizer.ByteTokenizer;
import blt4j.model.EntropyModel;
import blt4j.model.EntropyModelConfig;
import blt4j.patch.EntropyScorer;
import blt4j.model.StageTimer;
import blt4j.nn.AdamW;
import blt4j.generate.Generator;
import blt4j.generate.Sampler;
import blt4j.model.PatchingConfig;
import blt4j.patch.EntropyPatcher;
import blt4j.patch.PatchStream;
import blt4j.patch.PatchingScheme;
import blt4j.patch.ThresholdSearch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.function.IntConsumer;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import java.util.LinkedHashMap;

/**
 * Model-level benchmarks on one backend: start-up costs, entropy scoring, a BLT training step (with MFU against a
 * measured peak), BLT prefill and generation next to the byte-transformer baseline, and a per-stage time and FLOP
 * breakdown of the training step and of generation. Models are randomly initialised (speed does not depend on the
 * weights; patch boundaries do, see {@link #trainStep}).
 */
public final class ModelBenchmark {

    /** Workload sizes of one profile. */
    public record Sizes(String bltPreset, int entropyBytes, int trainRows, int trainBytes, int promptBytes, int generateBytes) {
        public static final Sizes FULL = new Sizes("blt-tiny", 8192, 4, 1024, 512, 256);
        public static final Sizes QUICK = new Sizes("blt-tiny", 1024, 1, 256, 128, 32);
        public static final Sizes TINY = new Sizes("blt-micro", 128, 1, 64, 16, 8);

        public BltConfig blt() {
            return BltConfig.preset(bltPreset);
        }
    }

    /**
     * One model-level row. {@code units} is bytes per repetition; rates are per second of the median; {@code flops}
     * is what the backend counted per repetition (matmul and attention, forward and backward); MFU = flops / median
     * time / peak. {@code status} is "ok" or "unavailable: why".
     */
    public record Row(String workload, String backend, String description, int warmups, int reps, double medianMs,
                      double ciLowMs, double ciHighMs, double ciLevel, double cv, double bytes, double bytesPerSec,
                      double patchesPerSec, double flops, double gflops, double peakGflops, double mfu, String status,
                      String note) {
        /** This row with MFU over another peak (the larger of two peak measurements; see BenchSuite). */
        public Row withPeak(double peak) {
            return new Row(workload, backend, description, warmups, reps, medianMs, ciLowMs, ciHighMs, ciLevel, cv, bytes,
                    bytesPerSec, patchesPerSec, flops, gflops, peak, gflops / peak, status, note);
        }

        public static Row unavailable(String backend, String why) {
            return new Row("*", backend, why, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                    Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, "unavailable: " + why, "");
        }
    }

    /** Time and FLOPs of one stage, per repetition of a workload. */
    public record StageRow(String workload, String backend, String stage, double msPerRep, double share, double flopsPerRep,
                           double gflops) {}

    private final Sizes sizes;
    private final int reps;
    private final int warmups;
    private final Appendable log;
    private final List<Row> rows = new ArrayList<>();
    private final List<StageRow> stages = new ArrayList<>();

    public ModelBenchmark(Sizes sizes, int reps, int warmups, Appendable log) {
        this.sizes = sizes;
        this.reps = Math.max(1, reps);
        this.warmups = Math.max(0, warmups);
        this.log = log;
    }

    public List<Row> rows() {
        return rows;
    }

    public List<StageRow> stages() {
        return stages;
    }

    // ------------------------------------------------------------------ start-up

    /**
     * Backend creation (program build on device backends), first launch on a fresh backend (a small matmul and its
     * read-back, JIT or kernel compilation included) and the upload of the BLT's parameters. The factory is called
     * reps+1 times; the last backend created is closed here.
     */
    public void startup(String label, Supplier<Backend> factory) {
        int n = Math.min(reps, 5);
        double[] create = new double[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            Backend b = factory.get();
            create[i] = (System.nanoTime() - t0) / 1e6;
            b.close();
        }
        Backend be = factory.get();
        try {
            add(label, be, "startup: backend creation", Stats.summarize(0, create), Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                    "new backend (thread pool / context, queue and program build), then close");
            long t0 = System.nanoTime();
            Tensor a = be.fromHost(new float[64 * 64], 64, 64);
            Tensor c = be.zeros(64, 64);
            be.matmul(a, false, a, true, c, false);
            c.toHost();
            double first = (System.nanoTime() - t0) / 1e6;
            add(label, be, "startup: first launch", Stats.summarize(0, new double[] {first}), Double.NaN, Double.NaN, Double.NaN,
                    Double.NaN, "first 64x64 matmul + read-back on a fresh backend (cold only for the first backend of its kind"
                            + " in this JVM: the JIT is shared)");
            long count = sizes.blt().parameterCount();
            float[] host = new float[(int) count];
            Arrays.fill(host, 0.01f);
            Tensor params = be.zeros((int) count);
            Stats.Summary up = Stats.time(be, 1, Math.min(reps, 5), () -> be.upload(host, 0, params));
            add(label, be, "startup: weight upload " + sizes.bltPreset(), up, 4.0 * count, Double.NaN, Double.NaN, Double.NaN,
                    String.format(Locale.ROOT, "%,d fp32 parameters (%.1f MB) into one buffer; bytes/s = upload bandwidth",
                            count, 4.0 * count / 1e6));
        } finally {
            be.close();
        }
    }

    // ------------------------------------------------------------------ workloads

    /** All model workloads on one backend; {@code peak} is that backend's measured peak GFLOP/s (NaN if unknown). */
    public void run(String label, Backend be, double peak) {
        entropyScoring(label, be);
        trainStep(label, be, peak);
        generation(label, be);
    }

    private static int[] text(int n, long seed) {
        // pseudo-text: words of 1-9 lowercase letters separated by spaces, with some punctuation
        Random r = new Random(seed);
        int[] t = new int[n];
        int word = 0;
        for (int i = 0; i < n; i++) {
            int b;
            if (word > 0 && r.nextInt(6) == 0) {
                b = r.nextInt(10) == 0 ? '.' : ' ';
                word = 0;
            } else {
                b = 'a' + r.nextInt(26);
                word++;
            }
            t[i] = b + ByteTokenizer.OFFSET;
        }
        return t;
    }

    void entropyScoring(String label, Backend be) {
        EntropyModel m = new EntropyModel(EntropyModelConfig.tiny(), be).initialize(1);
        int[] tokens = text(sizes.entropyBytes(), 7);
        tokens[0] = ByteTokenizer.BOS;
        EntropyScorer scorer = new EntropyScorer(m);
        // the first warm-up (always at least one) also counts the FLOPs
        be.resetFlops();
        scorer.score(tokens);
        long flops = be.flops();
        Stats.Summary s = Stats.time(be, Math.max(0, warmups - 1), reps, () -> scorer.score(tokens));
        s = withWarmups(s, Math.max(1, warmups));
        add(label, be, "entropy scoring entropy-tiny", s, tokens.length, Double.NaN, flops, Double.NaN,
                tokens.length + " tokens in blocks of 512 with KV caches (EntropyScorer); random init");
    }

    /** Rows of pseudo-text for a training step: inputs (BOS first) and the next-byte targets, rows × n each. */
    private record TrainRows(int[] inputs, int[] targets) {}

    private static TrainRows trainRows(int rows, int n) {
        int[] stream = text(rows * (n + 1), 11);
        int[] inputs = new int[rows * n];
        int[] targets = new int[rows * n];
        for (int r = 0; r < rows; r++) {
            stream[r * (n + 1)] = ByteTokenizer.BOS;
            System.arraycopy(stream, r * (n + 1), inputs, r * n, n);
            System.arraycopy(stream, r * (n + 1) + 1, targets, r * n, n);
        }
        return new TrainRows(inputs, targets);
    }

    /** Per-row slices of the entropies of rows × n positions. */
    private static List<float[]> perRow(float[] h, int rows, int n) {
        List<float[]> perRow = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            perRow.add(Arrays.copyOfRange(h, r * n, (r + 1) * n));
        }
        return perRow;
    }

    /** The global-threshold entropy patcher whose θ gives 4.5-byte patches on these rows (next-slot patch included). */
    private static EntropyPatcher patcherFor(List<float[]> perRow) {
        EntropyPatcher template = EntropyPatcher.global(0f).withIncludeNextToken(true);
        float theta = ThresholdSearch.findThreshold(perRow, 4.5, template).threshold();
        return EntropyPatcher.global(theta).withIncludeNextToken(true);
    }

    /**
     * One training step of the BLT on rows of pseudo-text: entropy-tiny scores the rows (on-the-fly patching), the
     * global-threshold patcher cuts them at a θ chosen once so patches average 4.5 bytes, then forward, loss,
     * backward, gradient clipping and AdamW. Both models are randomly initialised, so the boundaries follow
     * random-model entropies; only their number (mean 4.5 bytes) matters for speed.
     */
    void trainStep(String label, Backend be, double peak) {
        BltConfig cfg = sizes.blt();
        int rows = sizes.trainRows();
        int n = sizes.trainBytes();
        ByteLatentTransformer blt = new ByteLatentTransformer(cfg, be).initialize(3);
        EntropyModel entropy = new EntropyModel(EntropyModelConfig.tiny(), be).initialize(1);
        AdamW opt = AdamW.standard(blt.parameters(), 0.1f);
        TrainRows data = trainRows(rows, n);
        int[] inputs = data.inputs();
        int[] targets = data.targets();
        entropy.forward(inputs, rows, n);
        EntropyPatcher patcher = patcherFor(perRow(entropy.entropies(), rows, n));
        float theta = patcher.threshold();
        StageTimer timer = new StageTimer(be);
        long[] patchCount = new long[1];
        Runnable step = () -> {
            timer.begin(StageTimer.ENTROPY);
            entropy.forward(inputs, rows, n);
            float[] h = entropy.entropies();
            timer.begin(StageTimer.PATCHING);
            int[][] lengths = new int[rows][];
            patchCount[0] = 0;
            for (int r = 0; r < rows; r++) {
                lengths[r] = patcher.lengths(Arrays.copyOfRange(h, r * n, (r + 1) * n));
                patchCount[0] += lengths[r].length;
            }
            timer.end();
            blt.parameters().zeroGrads();
            blt.forward(inputs, rows, n, lengths);
            blt.loss(targets, null);
            blt.backward();
            timer.begin(StageTimer.OPTIMIZER);
            be.clipGradNorm(blt.parameters().grads(), 1.0);
            opt.step(1e-4f);
            timer.end();
        };
        blt.setStageTimer(timer);
        be.resetFlops();
        step.run();
        long flops = be.flops();
        double meanPatch = (double) rows * n / patchCount[0];
        for (int i = 1; i < warmups; i++) { // the step above was the first warm-up
            step.run();
        }
        timer.reset();
        Stats.Summary s = withWarmups(Stats.time(be, 0, reps, step), Math.max(1, warmups));
        blt.setStageTimer(null);
        String wl = "train step " + sizes.bltPreset();
        add(label, be, wl, s, (double) rows * n, patchCount[0], flops, peak, String.format(Locale.ROOT,
                "%d x %d bytes, mean patch %.2f bytes (entropy patching at θ=%.3f chosen for 4.5); fwd+loss+bwd+clip+AdamW,"
                        + " entropy model and patching included; random init", rows, n, meanPatch, theta));
        breakdown(wl, label, timer.totals(), s.medianMs(), reps);
    }

    /**
     * The workloads of the PyTorch peer ({@code scripts/compare-pytorch.sh}), shape for shape: the BLT and the byte
     * transformer (the BLT's global model as a plain byte LM: d 256, 4 layers, full causal attention), each as a
     * training step (forward, loss, backward, gradient clipping, AdamW) and as a forward pass without gradients, on
     * rows × bytes of pseudo-text. The BLT's patches are given (the peer computes them once, outside its timing):
     * entropy patching at a global threshold giving 4.5-byte patches, fixed before timing.
     */
    public void peer(String label, Backend be, double peak) {
        BltConfig cfg = sizes.blt();
        int rows = sizes.trainRows();
        int n = sizes.trainBytes();
        TrainRows data = trainRows(rows, n);
        int[] inputs = data.inputs();
        int[] targets = data.targets();
        EntropyModel entropy = new EntropyModel(EntropyModelConfig.tiny(), be).initialize(1);
        entropy.forward(inputs, rows, n);
        List<float[]> perRow = perRow(entropy.entropies(), rows, n);
        EntropyPatcher patcher = patcherFor(perRow);
        int[][] lengths = new int[rows][];
        long patches = 0;
        for (int r = 0; r < rows; r++) {
            lengths[r] = patcher.lengths(perRow.get(r));
            patches += lengths[r].length;
        }
        String shape = String.format(Locale.ROOT, "%d x %d bytes", rows, n);
        String patchNote = String.format(Locale.ROOT, ", patches given (mean %.2f bytes)", (double) rows * n / patches);

        ByteLatentTransformer blt = new ByteLatentTransformer(cfg, be).initialize(3);
        AdamW bltOpt = AdamW.standard(blt.parameters(), 0.1f);
        ByteLatentTransformer.State train = blt.newState(rows, n, (int) patches, true);
        StageTimer timer = new StageTimer(be);
        timed(label, be, "peer: blt train step " + sizes.bltPreset(), rows * n, patches, peak, timer, () -> {
            blt.parameters().zeroGrads();
            blt.forward(train, inputs, lengths);
            blt.loss(train, targets, null);
            blt.backward(train);
            timer.begin(StageTimer.OPTIMIZER);
            be.clipGradNorm(blt.parameters().grads(), 1.0);
            bltOpt.step(1e-4f);
            timer.end();
        }, blt::setStageTimer, shape + patchNote + "; fwd+loss+bwd+clip+AdamW");
        ByteLatentTransformer.State infer = blt.newState(rows, n, (int) patches, false);
        timed(label, be, "peer: blt forward " + sizes.bltPreset(), rows * n, patches, peak, timer,
                () -> blt.forward(infer, inputs, lengths), blt::setStageTimer, shape + patchNote + "; forward, no gradients");
        blt.setStageTimer(null);

        EntropyModel base = new EntropyModel(EntropyModelConfig.byteTransformer(cfg, n), be).initialize(5);
        AdamW baseOpt = AdamW.standard(base.parameters(), 0.1f);
        EntropyModel.State baseTrain = base.newState(rows, n, true);
        timed(label, be, "peer: byte-transformer train step", rows * n, Double.NaN, peak, null, () -> {
            base.parameters().zeroGrads();
            base.forward(baseTrain, inputs);
            base.loss(baseTrain, targets, null);
            base.backward(baseTrain);
            be.clipGradNorm(base.parameters().grads(), 1.0);
            baseOpt.step(1e-4f);
        }, null, shape + "; d " + cfg.dimGlobal + ", " + cfg.nLayersGlobal + " layers, full causal attention; fwd+loss+bwd+clip+AdamW");
        EntropyModel.State baseInfer = base.newState(rows, n, false);
        timed(label, be, "peer: byte-transformer forward", rows * n, Double.NaN, peak, null,
                () -> base.forward(baseInfer, inputs), null, shape + "; forward, no gradients");
    }

    /** Minimum warm-up time of each {@link #peer} workload in the full profile. */
    static final long PEER_WARMUP_NANOS = Long.getLong("blt4j.bench.peerWarmupSeconds", 5) * 1_000_000_000L;

    /** Times one workload (FLOPs counted on the first warm-up), with a stage breakdown when a timer is given. */
    private void timed(String label, Backend be, String workload, double bytes, double patches, double peak, StageTimer timer,
                       Runnable op, java.util.function.Consumer<StageTimer> attach, String note) {
        if (timer != null) {
            attach.accept(timer);
        }
        be.resetFlops();
        long start = System.nanoTime();
        op.run();
        long flops = be.flops();
        // at least the warm-ups asked for, and at least PEER_WARMUP_NANOS: the JIT's last tier takes seconds to reach
        // every kernel, and a long run only ever sees that tier
        int done = 1;
        long minNanos = sizes == Sizes.FULL ? PEER_WARMUP_NANOS : 0;
        while (done < warmups || System.nanoTime() - start < minNanos) {
            op.run();
            done++;
        }
        if (timer != null) {
            timer.reset();
        }
        Stats.Summary s = withWarmups(Stats.time(be, 0, reps, op), done);
        add(label, be, workload, s, bytes, patches, flops, peak, note);
        if (timer != null) {
            breakdown(workload, label, timer.totals(), s.medianMs(), reps);
            attach.accept(null);
        }
    }

    /**
     * Generation with patching on the fly, as {@link blt4j.generate.Generator} does it, split into prefill (BOS +
     * prompt: the entropy model on the prompt as one block, then the BLT over the prompt in one block, every cache
     * filled) and greedy generation of new bytes. The patch threshold is the one giving 4.5-byte patches on the
     * prompt. Next to it the byte-transformer baseline (as wide and deep as the BLT's global model, full causal
     * attention) does the same through its KV-cached {@code incremental(...).append(token)}.
     */
    void generation(String label, Backend be) {
        BltConfig cfg = sizes.blt();
        ByteLatentTransformer blt = new ByteLatentTransformer(cfg, be).initialize(3);
        EntropyModel entropy = new EntropyModel(EntropyModelConfig.tiny(), be).initialize(1);
        int promptLen = sizes.promptBytes() + 1;
        int gen = sizes.generateBytes();
        int capacity = promptLen + gen;
        int[] prompt = text(promptLen, 5);
        prompt[0] = ByteTokenizer.BOS;
        EntropyModel.Incremental probe = entropy.incremental(capacity, promptLen);
        float[] hp = probe.entropies(probe.append(prompt));
        float theta = ThresholdSearch.findThreshold(hp, 4.5).threshold();
        PatchingScheme scheme = PatchingScheme.of(PatchingConfig.globalThreshold(theta), entropy);
        StageTimer timer = new StageTimer(be);
        blt.setStageTimer(timer);
        int total = warmups + reps;
        double[] prefillMs = new double[reps];
        double[] genMs = new double[reps];
        int[] prefillPatches = new int[1];
        int[] genPatches = new int[1];
        Map<String, StageTimer.Totals> prefillStages = null;
        for (int rep = 0; rep < total; rep++) {
            timer.reset();
            int[] tokens = Arrays.copyOf(prompt, capacity);
            long t0 = System.nanoTime();
            timer.begin(StageTimer.ENTROPY);
            EntropyModel.Incremental scorer = entropy.incremental(capacity, promptLen);
            float[] h = scorer.entropies(scorer.append(prompt));
            timer.end();
            IncrementalBlt model = blt.incremental(capacity, promptLen);
            PatchStream patches = scheme.stream();
            boolean[] startFlags = new boolean[promptLen + 1];
            startFlags[0] = true;
            for (int p = 0; p < promptLen; p++) {
                startFlags[p + 1] = patches.next(tokens[p], h[p]);
            }
            Tensor prefillLogits = model.prefill(tokens, promptLen, startFlags);
            be.synchronize();
            long t1 = System.nanoTime();
            int patchesAfterPrefill = model.patches();
            if (rep == total - 1) {
                prefillStages = copy(timer.totals());
            }
            timer.reset();
            int length = promptLen;
            for (int i = 0; i < gen; i++) {
                Tensor logits = i == 0 ? prefillLogits : model.decode();
                timer.begin("sampling");
                int next = argmaxByte(logits.toHost());
                tokens[length] = next;
                timer.begin(StageTimer.ENTROPY);
                float hn = scorer.entropy(scorer.append(next));
                timer.begin(StageTimer.PATCHING);
                boolean boundary = patches.next(next, hn);
                timer.end();
                model.appendToken(tokens);
                length++;
                if (boundary) {
                    model.completePatch();
                }
            }
            be.synchronize();
            long t2 = System.nanoTime();
            if (rep >= warmups) {
                prefillMs[rep - warmups] = (t1 - t0) / 1e6;
                genMs[rep - warmups] = (t2 - t1) / 1e6;
            }
            prefillPatches[0] = patchesAfterPrefill;
            genPatches[0] = model.patches() - patchesAfterPrefill;
        }
        blt.setStageTimer(null);
        Map<String, StageTimer.Totals> genStages = copy(timer.totals());
        Stats.Summary pre = Stats.summarize(warmups, prefillMs);
        Stats.Summary g = Stats.summarize(warmups, genMs);
        String wlPre = "blt prefill " + sizes.bltPreset();
        String wlGen = "blt generate " + sizes.bltPreset();
        add(label, be, wlPre, pre, promptLen, prefillPatches[0], sumFlops(prefillStages), Double.NaN, String.format(Locale.ROOT,
                "BOS + %d prompt bytes, %d patches (θ=%.3f); entropy model and BLT each as one block", promptLen - 1,
                prefillPatches[0], theta));
        add(label, be, wlGen, g, gen, genPatches[0], sumFlops(genStages), Double.NaN, String.format(Locale.ROOT,
                "%d greedy bytes, %d patches; entropy model, BLT encoder/decoder every byte, global model per patch", gen,
                genPatches[0]));
        breakdown(wlPre, label, prefillStages, pre.medianMs(), 1);
        breakdown(wlGen, label, genStages, g.medianMs(), 1);

        // whole Generator calls (prefill included), plain against self-speculative greedy decoding
        byte[] promptBytes = new byte[promptLen - 1];
        for (int i = 1; i < promptLen; i++) {
            promptBytes[i - 1] = (byte) (prompt[i] - ByteTokenizer.OFFSET);
        }
        Generator generator = new Generator(blt, scheme).ignoringSpecialIds();
        for (int k : new int[] {0, 4}) {
            double[] ms = new double[reps];
            Generator.Result last = null;
            be.resetFlops();
            for (int rep = 0; rep < total; rep++) {
                long t0 = System.nanoTime();
                last = k == 0 ? generator.generate(promptBytes, gen, Sampler.greedy(), b -> { })
                        : generator.generateSpeculative(promptBytes, gen, k, null, b -> { });
                be.synchronize();
                if (rep >= warmups) {
                    ms[rep - warmups] = (System.nanoTime() - t0) / 1e6;
                }
            }
            String wl = "blt generator " + (k == 0 ? "plain" : "speculative k=" + k) + " " + sizes.bltPreset();
            add(label, be, wl, Stats.summarize(warmups, ms), gen, last.patches(), be.flops() / total, Double.NaN,
                    String.format(Locale.ROOT, "whole call incl. prefill of %d bytes, %d greedy bytes%s", promptLen - 1, gen,
                            k == 0 ? "" : String.format(Locale.ROOT, "; %d drafted, %.0f%% accepted", last.drafted(),
                                    100 * last.acceptanceRate())));
        }

        // several prompts generated together (each prompt differs in its first byte)
        for (int batchSize : new int[] {4, 16}) {
            if (batchSize > BatchedBlt.maxRows(cfg)) {
                continue;
            }
            List<byte[]> prompts = new ArrayList<>();
            List<IntConsumer> sinks = new ArrayList<>();
            for (int i = 0; i < batchSize; i++) {
                byte[] pi = promptBytes.clone();
                if (pi.length > 0) {
                    pi[0] = (byte) ('A' + i);
                }
                prompts.add(pi);
                sinks.add(b -> { });
            }
            double[] ms = new double[reps];
            long patches = 0;
            be.resetFlops();
            for (int rep = 0; rep < total; rep++) {
                long t0 = System.nanoTime();
                List<Generator.Result> results = generator.generateBatch(prompts, gen, Sampler.greedy(), null, sinks);
                be.synchronize();
                if (rep >= warmups) {
                    ms[rep - warmups] = (System.nanoTime() - t0) / 1e6;
                }
                patches = results.stream().mapToLong(Generator.Result::patches).sum();
            }
            add(label, be, "blt generator batched x" + batchSize + " " + sizes.bltPreset(), Stats.summarize(warmups, ms),
                    (double) batchSize * gen, patches, be.flops() / total, Double.NaN, String.format(Locale.ROOT,
                            "%d prompts of %d bytes together, %d greedy bytes each, prefill included; bytes/s counts all prompts",
                            batchSize, promptLen - 1, gen));
        }

        // the byte-transformer baseline
        EntropyModelConfig bc = EntropyModelConfig.byteTransformer(cfg, Math.max(capacity, 16));
        EntropyModel base = new EntropyModel(bc, be).initialize(9);
        double[] bPre = new double[reps];
        double[] bGen = new double[reps];
        long[] baseFlops = new long[2];
        for (int rep = 0; rep < total; rep++) {
            be.resetFlops();
            long t0 = System.nanoTime();
            EntropyModel.Incremental inc = base.incremental(capacity, promptLen);
            Tensor logits = inc.append(prompt);
            float[] host = logits.toHost();
            be.synchronize();
            long t1 = System.nanoTime();
            baseFlops[0] = be.flops();
            int next = argmaxByte(Arrays.copyOfRange(host, host.length - 260, host.length));
            for (int i = 0; i < gen; i++) {
                next = argmaxByte(inc.append(next).toHost());
            }
            be.synchronize();
            long t2 = System.nanoTime();
            baseFlops[1] = be.flops() - baseFlops[0];
            if (rep >= warmups) {
                bPre[rep - warmups] = (t1 - t0) / 1e6;
                bGen[rep - warmups] = (t2 - t1) / 1e6;
            }
        }
        String shape = String.format(Locale.ROOT, "byte transformer d %d, %d layers, full causal attention", bc.dim, bc.nLayers);
        add(label, be, "baseline prefill", Stats.summarize(warmups, bPre), promptLen, Double.NaN, baseFlops[0], Double.NaN,
                shape + "; prompt as one block");
        add(label, be, "baseline generate", Stats.summarize(warmups, bGen), gen, Double.NaN, baseFlops[1], Double.NaN,
                shape + "; incremental(...).append(token), greedy");
    }

    private static Stats.Summary withWarmups(Stats.Summary s, int w) {
        return new Stats.Summary(w, s.reps(), s.medianMs(), s.ciLowMs(), s.ciHighMs(), s.ciLevel(), s.cv(), s.minMs());
    }

    private static int argmaxByte(float[] logits) {
        int best = ByteTokenizer.OFFSET;
        for (int i = ByteTokenizer.OFFSET + 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    private static Map<String, StageTimer.Totals> copy(Map<String, StageTimer.Totals> m) {
        Map<String, StageTimer.Totals> out = new LinkedHashMap<>();
        for (Map.Entry<String, StageTimer.Totals> e : m.entrySet()) {
            StageTimer.Totals t = new StageTimer.Totals();
            t.calls = e.getValue().calls;
            t.nanos = e.getValue().nanos;
            t.flops = e.getValue().flops;
            out.put(e.getKey(), t);
        }
        return out;
    }

    private static double sumFlops(Map<String, StageTimer.Totals> m) {
        long f = 0;
        for (StageTimer.Totals t : m.values()) {
            f += t.flops;
        }
        return f;
    }

    private void breakdown(String workload, String label, Map<String, StageTimer.Totals> totals, double medianMs, int perReps) {
        double sum = 0;
        for (StageTimer.Totals t : totals.values()) {
            sum += t.nanos / 1e6 / perReps;
        }
        List<String> order = List.of(StageTimer.ENTROPY, StageTimer.PATCHING, StageTimer.ENCODER, StageTimer.GLOBAL,
                StageTimer.DECODER, StageTimer.LOSS, "sampling", StageTimer.OPTIMIZER);
        List<String> names = new ArrayList<>(order);
        for (String k : totals.keySet()) {
            if (!names.contains(k)) {
                names.add(k);
            }
        }
        for (String k : names) {
            StageTimer.Totals t = totals.get(k);
            if (t == null) {
                continue;
            }
            double ms = t.nanos / 1e6 / perReps;
            double f = (double) t.flops / perReps;
            stages.add(new StageRow(workload, label, k, ms, ms / sum, f, f > 0 ? f / (ms * 1e6) : Double.NaN));
        }
        say(String.format(Locale.ROOT, "    stages of %s: %s (sum %.1f ms, median step %.1f ms)", workload,
                stages.stream().filter(r -> r.workload().equals(workload) && r.backend().equals(label))
                        .map(r -> String.format(Locale.ROOT, "%s %.0f%%", r.stage(), 100 * r.share()))
                        .reduce((a, b) -> a + ", " + b).orElse(""), sum, medianMs));
    }

    private void add(String label, Backend be, String workload, Stats.Summary s, double bytes, double patches, double flops,
                     double peak, String note) {
        double secs = s.medianMs() / 1e3;
        double gflops = flops > 0 ? flops / secs / 1e9 : Double.NaN;
        Row r = new Row(workload, label, be.describe(), s.warmups(), s.reps(), s.medianMs(), s.ciLowMs(), s.ciHighMs(),
                s.ciLevel(), s.cv(), bytes, bytes / secs, Double.isNaN(patches) ? Double.NaN : patches / secs, flops, gflops,
                peak, gflops / peak, "ok", note);
        rows.add(r);
        say(String.format(Locale.ROOT, "  %-34s %-10s median %10.3f ms  [%s]  cv %s  %s bytes/s  %s patches/s  %s GFLOP/s%s",
                workload, label, s.medianMs(), s.ciText(), Stats.fmt(s.cv(), 3), Stats.fmt(r.bytesPerSec(), 0),
                Stats.fmt(r.patchesPerSec(), 0), Stats.fmt(gflops, 2),
                Double.isNaN(r.mfu()) ? "" : String.format(Locale.ROOT, "  MFU %.1f%%", 100 * r.mfu())));
    }

    private void say(String line) {
        if (log == null) {
            return;
        }
        try {
            log.append(line).append('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
