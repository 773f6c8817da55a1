package blt4j.generate;

import blt4j.compute.Tensor;
import blt4j.model.ByteLatentTransformer;
import blt4j.model.EntropyModel;
import blt4j.patch.PatchStream;
import blt4j.patch.PatchingScheme;
import blt4j.tokenizer.ByteTokenizer;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Generation with patching on the fly (BLT-REFERENCE §10.2): the model's patching scheme decides, byte by byte,
 * whether the next position opens a patch (the entropy model scores each new byte when the rule needs it); each
 * completed patch costs one global step, and caches make every byte cost local work only.
 * {@link #generateFullRecompute} is the reference's slow path (entropies, patching and the whole BLT rerun for
 * every byte) used to check that both agree.
 */
public final class Generator {
    private final ByteLatentTransformer blt;
    private final PatchingScheme scheme;
    private final EntropyModel entropyModel;
    private final boolean stopAtSpecialIds;

    public Generator(ByteLatentTransformer blt, PatchingScheme scheme) {
        this(blt, scheme, true);
    }

    private Generator(ByteLatentTransformer blt, PatchingScheme scheme, boolean stopAtSpecialIds) {
        if (!scheme.isIncremental()) {
            throw new IllegalArgumentException("patching '" + scheme.config().describe()
                    + "' needs the whole sequence, so it cannot patch while generating");
        }
        this.blt = blt;
        this.scheme = scheme;
        this.entropyModel = scheme.entropyModel();
        this.stopAtSpecialIds = stopAtSpecialIds;
    }

    /** A generator that never emits EOS or another special id (they are masked out), so it always makes maxBytes. */
    public Generator ignoringSpecialIds() {
        return new Generator(blt, scheme, false);
    }

    private void maskSpecials(float[] logits, int offset) {
        if (!stopAtSpecialIds) {
            Arrays.fill(logits, offset, offset + ByteTokenizer.OFFSET, Float.NEGATIVE_INFINITY);
        }
    }

    /** What a generation produced. */
    public record Result(byte[] bytes, int promptTokens, int patches, double seconds, int drafted, int accepted) {
        /** A plain (not speculative) generation: nothing drafted. */
        public Result(byte[] bytes, int promptTokens, int patches, double seconds) {
            this(bytes, promptTokens, patches, seconds, 0, 0);
        }

        /** Share of drafted bytes the full model confirmed (NaN when nothing was drafted). */
        public double acceptanceRate() {
            return drafted == 0 ? Double.NaN : (double) accepted / drafted;
        }

        public double bytesPerSecond() {
            return bytes.length / Math.max(seconds, 1e-9);
        }
    }

    /**
     * Generates up to maxBytes bytes after the prompt (BOS + prompt bytes, no EOS), streaming each byte to
     * {@code sink}; stops early at EOS or another special id.
     */
    public Result generate(byte[] prompt, int maxBytes, Sampler sampler, IntConsumer sink) {
        return generate(prompt, maxBytes, sampler, null, sink);
    }

    /**
     * As {@link #generate(byte[], int, Sampler, IntConsumer)}, also stopping once the output ends with {@code stop}
     * (null or empty: no stop sequence; the stop sequence itself is neither streamed nor part of the result). The
     * sink sees whole UTF-8 characters only ({@link ByteStream}).
     */
    public Result generate(byte[] prompt, int maxBytes, Sampler sampler, byte[] stop, IntConsumer sink) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("max bytes must be ≥ 0, got " + maxBytes);
        }
        int[] tokens = Arrays.copyOf(ByteTokenizer.encode(prompt, true, false), prompt.length + 1 + maxBytes);
        int promptTokens = prompt.length + 1;
        int capacity = promptTokens + maxBytes;
        long start = System.nanoTime();
        if (entropyModel != null && capacity > entropyModel.config().maxSeqlen) {
            // the reference restarts the entropy model's context every max_seqlen tokens; cached generation does not yet
            throw new IllegalArgumentException("the prompt and the bytes to generate need " + capacity
                    + " positions, more than the entropy model's max_seqlen " + entropyModel.config().maxSeqlen);
        }
        EntropyModel.Incremental scorer = entropyModel == null ? null : entropyModel.incremental(capacity);
        ByteLatentTransformer.Incremental model = blt.incremental(capacity, promptTokens);
        PatchStream patches = scheme.stream();
        ByteStream out = new ByteStream(stop, sink);
        // prefill: the prompt's entropies in blocks, its patch decisions, then one block through the BLT
        boolean[] startFlags = new boolean[promptTokens + 1];
        startFlags[0] = true;
        float[] h = scorer == null ? null : entropies(scorer, tokens, promptTokens);
        for (int p = 0; p < promptTokens; p++) {
            startFlags[p + 1] = patches.next(tokens[p], h == null ? Float.NaN : h[p]);
        }
        Tensor logitsRow = model.prefill(tokens, promptTokens, startFlags);
        int patchStart = model.openPatchStart();
        float[] logits = new float[ByteTokenizer.VOCAB];
        int length = promptTokens;
        int produced = 0;
        while (produced < maxBytes) {
            logitsRow.backend().download(logitsRow, logits, 0);
            maskSpecials(logits, 0);
            int id = sampler.pick(logits);
            if (id < ByteTokenizer.OFFSET) {
                break;
            }
            tokens[length++] = id;
            produced++;
            if (out.accept(id - ByteTokenizer.OFFSET) || produced == maxBytes) {
                break;
            }
            // the new byte through the caches; when the next position opens a patch, the one ending here is complete
            int p = length - 1;
            float hp = scorer == null ? Float.NaN : scorer.entropy(scorer.append(id));
            model.appendToken(tokens);
            if (patches.next(id, hp)) {
                model.completePatch(patchStart);
                patchStart = p + 1;
            }
            logitsRow = model.decode();
        }
        out.finish();
        double secs = (System.nanoTime() - start) / 1e9;
        return new Result(out.released(), prompt.length + 1, model.patches(), secs);
    }

    /**
     * Self-speculative generation: after each byte the model itself chose, the local models alone (encoder and
     * decoder, with the patch representation they already have) draft up to {@code k} more bytes; one pass of the
     * full model over them (entropy model, the true patch boundaries, global steps, decoder) verifies the draft, and
     * every cache rolls back to the accepted prefix. Acceptance is the speculative-sampling rule (Leviathan et al.
     * 2023, Chen et al. 2023): draft byte d drawn from the draft distribution q is kept with probability
     * min(1, p(d)/q(d)) under the verified distribution p, else a byte is drawn from max(0, p − q) renormalised and the
     * draft ends; this leaves the output distribution that of plain sampling with the same sampler settings. Greedy
     * (temperature 0) makes p and q one-hot, so the output is exactly plain greedy output.
     */
    public Result generateSpeculative(byte[] prompt, int maxBytes, int k, Sampler sampler, byte[] stop, IntConsumer sink) {
        if (maxBytes < 0 || k < 1 || k > 64) {
            throw new IllegalArgumentException("speculative generation needs max bytes ≥ 0 and 1 ≤ k ≤ 64, got " + maxBytes + ", " + k);
        }
        int[] tokens = Arrays.copyOf(ByteTokenizer.encode(prompt, true, false), prompt.length + 1 + maxBytes + k + 1);
        int promptTokens = prompt.length + 1;
        int capacity = promptTokens + maxBytes + k + 1;
        long start = System.nanoTime();
        if (entropyModel != null && capacity > entropyModel.config().maxSeqlen) {
            throw new IllegalArgumentException("the prompt, the bytes to generate and the draft need " + capacity
                    + " positions, more than the entropy model's max_seqlen " + entropyModel.config().maxSeqlen);
        }
        EntropyModel.Incremental scorer = entropyModel == null ? null : entropyModel.incremental(capacity);
        ByteLatentTransformer.Incremental model = blt.incremental(capacity, Math.max(promptTokens, k + 2));
        PatchStream patches = scheme.stream();
        ByteStream out = new ByteStream(stop, sink);
        boolean[] startFlags = new boolean[Math.max(promptTokens, k + 1) + 1];
        startFlags[0] = true;
        float[] h = scorer == null ? null : entropies(scorer, tokens, promptTokens);
        for (int p = 0; p < promptTokens; p++) {
            startFlags[p + 1] = patches.next(tokens[p], h == null ? Float.NaN : h[p]);
        }
        Tensor logitsRow = model.prefill(tokens, promptTokens, startFlags);
        int vocab = ByteTokenizer.VOCAB;
        float[] logits = new float[vocab];
        float[] all = new float[(k + 1) * vocab];
        double[][] draftDist = new double[k + 1][];
        PatchStream[] before = new PatchStream[k + 1];
        int totalDrafted = 0;
        int totalAccepted = 0;
        int length = promptTokens;
        int produced = 0;
        int forced = -1; // a byte already drawn from the residual of a rejected draft
        boolean done = false;
        logitsRow.backend().download(logitsRow, logits, 0);
        while (!done && produced < maxBytes) {
            int own = forced;
            if (own < 0) {
                maskSpecials(logits, 0);
                own = sampler.sample(sampler.distribution(logits));
            }
            forced = -1;
            if (own < ByteTokenizer.OFFSET) {
                break;
            }
            tokens[length] = own;
            // draft with the local models only
            int budget = Math.min(k, maxBytes - produced - 1);
            int drafted = 0;
            model.appendToken(tokens);
            while (drafted < budget) {
                Tensor d = model.decode();
                d.backend().download(d, logits, 0);
                maskSpecials(logits, 0);
                double[] q = sampler.distribution(logits);
                int next = sampler.sample(q);
                if (next < ByteTokenizer.OFFSET) {
                    break;
                }
                draftDist[drafted] = q;
                tokens[length + 1 + drafted] = next;
                drafted++;
                model.appendToken(tokens);
            }
            // verify: entropies, true patch decisions, one pass of the global model and the decoder
            int n = drafted + 1;
            float[] hv = scorer == null ? null : scorer.entropies(scorer.append(Arrays.copyOfRange(tokens, length, length + n)));
            for (int i = 0; i < n; i++) {
                before[i] = patches.copy();
                startFlags[i] = patches.next(tokens[length + i], hv == null ? Float.NaN : hv[i]);
            }
            Tensor v = model.verify(length, n, startFlags);
            v.backend().download(v, all, 0);
            int accepted = 0;
            while (accepted < drafted) {
                maskSpecials(all, accepted * vocab);
                double[] p = sampler.distribution(Arrays.copyOfRange(all, accepted * vocab, (accepted + 1) * vocab));
                int d = tokens[length + 1 + accepted];
                double[] q = draftDist[accepted];
                if (sampler.uniform() < Math.min(1.0, p[d] / q[d])) {
                    accepted++;
                    continue;
                }
                forced = sampler.sample(residual(p, q));
                break;
            }
            int kept = 1 + accepted;
            totalDrafted += drafted;
            totalAccepted += accepted;
            model.rollback(kept);
            if (scorer != null) {
                scorer.truncate(length + kept);
            }
            if (kept < n) {
                patches = before[kept];
            }
            for (int i = 0; i < kept && !done; i++) {
                produced++;
                done = out.accept(tokens[length + i] - ByteTokenizer.OFFSET) || produced == maxBytes;
            }
            length += kept;
            System.arraycopy(all, (kept - 1) * vocab, logits, 0, vocab);
        }
        out.finish();
        double secs = (System.nanoTime() - start) / 1e9;
        return new Result(out.released(), promptTokens, model.patches(), secs, totalDrafted, totalAccepted);
    }

    /** Greedy self-speculative generation (see {@link #generateSpeculative(byte[], int, int, Sampler, byte[], IntConsumer)}). */
    public Result generateSpeculative(byte[] prompt, int maxBytes, int k, byte[] stop, IntConsumer sink) {
        return generateSpeculative(prompt, maxBytes, k, Sampler.greedy(), stop, sink);
    }

    /** max(0, p − q) renormalised (p where they agree to rounding, which a rejection makes impossible in exact math). */
    private static double[] residual(double[] p, double[] q) {
        double[] r = new double[p.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            r[i] = Math.max(0, p[i] - q[i]);
            sum += r[i];
        }
        if (!(sum > 0)) {
            return p;
        }
        for (int i = 0; i < r.length; i++) {
            r[i] /= sum;
        }
        return r;
    }

    /** Entropies of tokens[0, n), fed to the scorer in blocks of its size. */
    private static float[] entropies(EntropyModel.Incremental scorer, int[] tokens, int n) {
        float[] h = new float[n];
        for (int from = 0; from < n; from += scorer.maxBlock()) {
            int to = Math.min(n, from + scorer.maxBlock());
            float[] part = scorer.entropies(scorer.append(Arrays.copyOfRange(tokens, from, to)));
            System.arraycopy(part, 0, h, from, part.length);
        }
        return h;
    }

    /** Greedy generation by full recomputation for every byte (the reference's generation loop, no caches). */
    public byte[] generateFullRecompute(byte[] prompt, int maxBytes) {
        int[] tokens = ByteTokenizer.encode(prompt, true, false);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int vocab = ByteTokenizer.VOCAB;
        for (int i = 0; i < maxBytes; i++) {
            int[] lengths = scheme.lengths(tokens);
            float[] logits = blt.forward(tokens, 1, tokens.length, new int[][] {lengths}).toHost();
            maskSpecials(logits, (tokens.length - 1) * vocab);
            int next = Sampler.argmax(Arrays.copyOfRange(logits, (tokens.length - 1) * vocab, tokens.length * vocab));
            if (next < ByteTokenizer.OFFSET) {
                break;
            }
            tokens = Arrays.copyOf(tokens, tokens.length + 1);
            tokens[tokens.length - 1] = next;
            out.write(next - ByteTokenizer.OFFSET);
        }
        return out.toByteArray();
    }
}
