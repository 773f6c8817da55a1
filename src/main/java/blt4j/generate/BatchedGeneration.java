package blt4j.generate;

import blt4j.compute.Tensor;
import blt4j.model.BatchedBlt;
import blt4j.model.EntropyModel;
import blt4j.model.IncrementalBlt;
import blt4j.tokenizer.ByteTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Several prompts generated in lockstep: each has its own caches, patching and sampler (a fresh copy of the one
 * given, so the same seed), and every step takes one byte of each prompt still going through one batched pass
 * (entropy model, encoder, the global step of those whose patch closed, decoder). Every prompt's output equals
 * its one-at-a-time output byte for byte. Prompts beyond {@link BatchedBlt#maxRows} go in successive groups.
 */
final class BatchedGeneration {
    private BatchedGeneration() {}

    static List<Generator.Result> run(Generator g, List<byte[]> prompts, int maxBytes, Sampler sampler, byte[] stop,
                                      List<IntConsumer> sinks) {
        int group = BatchedBlt.maxRows(g.blt().config());
        List<Generator.Result> results = new ArrayList<>();
        for (int from = 0; from < prompts.size(); from += group) {
            int to = Math.min(prompts.size(), from + group);
            results.addAll(runGroup(g, prompts.subList(from, to), maxBytes, sampler, stop, sinks.subList(from, to)));
        }
        return results;
    }

    private static List<Generator.Result> runGroup(Generator g, List<byte[]> prompts, int maxBytes, Sampler sampler,
                                                   byte[] stop, List<IntConsumer> sinks) {
        int count = prompts.size();
        int vocab = ByteTokenizer.VOCAB;
        long start = System.nanoTime();
        Generator.Session[] sessions = new Generator.Session[count];
        Sampler[] samplers = new Sampler[count];
        float[][] logits = new float[count][vocab];
        double[] seconds = new double[count];
        int[] active = new int[count];
        int live = 0;
        for (int i = 0; i < count; i++) {
            sessions[i] = g.new Session(prompts.get(i), maxBytes, 0, 0, stop, sinks.get(i));
            samplers[i] = sampler.fresh();
            Tensor row = sessions[i].prefillLogits;
            row.backend().download(row, logits[i], 0);
            if (maxBytes > 0) {
                active[live++] = i;
            }
        }
        boolean entropy = count > 0 && sessions[0].scorer != null;
        BatchedBlt batch = new BatchedBlt(g.blt(), Math.max(1, count));
        EntropyModel.BatchStep scoring = entropy ? g.entropyModel().batchStep(Math.max(1, count)) : null;
        IncrementalBlt[] models = new IncrementalBlt[count];
        EntropyModel.Incremental[] scorers = new EntropyModel.Incremental[count];
        int[][] tokens = new int[count][];
        int[] ids = new int[count];
        boolean[] complete = new boolean[count];
        float[] all = new float[count * vocab];
        while (live > 0) {
            // each live prompt picks its byte; those that end here leave the batch before any work is done for them
            int going = 0;
            for (int a = 0; a < live; a++) {
                int i = active[a];
                if (sessions[i].takeNext(samplers[i], logits[i], maxBytes) < 0) {
                    seconds[i] = (System.nanoTime() - start) / 1e9;
                } else {
                    active[going++] = i;
                }
            }
            live = going;
            if (live == 0) {
                break;
            }
            for (int a = 0; a < live; a++) {
                int i = active[a];
                models[a] = sessions[i].model;
                scorers[a] = sessions[i].scorer;
                tokens[a] = sessions[i].tokens;
                ids[a] = sessions[i].tokens[sessions[i].length - 1];
            }
            float[] h = entropy ? scoring.appendEntropies(scorers, ids, live) : null;
            batch.appendTokens(models, tokens, live);
            for (int a = 0; a < live; a++) {
                complete[a] = sessions[active[a]].patches.next(ids[a], h == null ? Float.NaN : h[a]);
            }
            batch.completePatches(models, complete, live);
            Tensor next = batch.decode(models, live);
            next.backend().download(next, all, 0);
            for (int a = 0; a < live; a++) {
                System.arraycopy(all, a * vocab, logits[active[a]], 0, vocab);
            }
        }
        List<Generator.Result> results = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Generator.Session s = sessions[i];
            s.out.finish();
            results.add(new Generator.Result(s.out.released(), s.promptTokens, s.model.patches(), seconds[i]));
        }
        return results;
    }
}
