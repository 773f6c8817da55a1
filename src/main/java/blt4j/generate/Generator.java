package blt4j.generate;

import blt4j.compute.Tensor;
import blt4j.model.ByteLatentTransformer;
import blt4j.model.IncrementalBlt;
import blt4j.model.EntropyModel;
import blt4j.patch.PatchStream;
import blt4j.patch.PatchingScheme;
import blt4j.tokenizer.ByteTokenizer;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
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

    /** Masks EOS and the other special ids (logits[offset, offset + 4)) when this generator ignores them. */
    void maskSpecials(float[] logits, int offset) {
        if (!stopAtSpecialIds) {
            Arrays.fill(logits, offset, offset + ByteTokenizer.OFFSET, Float.NEGATIVE_INFINITY);
        }
    }

    /** What a generation produced. */
    public record Result(byte[] bytes, int promptTokens, int patches, double seconds, int drafted, int accepted,
                         int verifications) {
        /** A plain (not speculative) generation: nothing drafted. */
        public Result(byte[] bytes, int promptTokens, int patches, double seconds) {
            this(bytes, promptTokens, patches, seconds, 0, 0, 0);
        }

        /** Drafted bytes confirmed per full-model verification (NaN without speculation). */
        public double meanAcceptedLength() {
            return verifications == 0 ? Double.NaN : (double) accepted / verifications;
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
        long start = System.nanoTime();
        Session s = new Session(prompt, maxBytes, 0, 0, stop, sink);
        float[] logits = new float[ByteTokenizer.VOCAB];
        Tensor logitsRow = s.prefillLogits;
        while (s.produced < maxBytes) {
            logitsRow.backend().download(logitsRow, logits, 0);
            int id = s.takeNext(sampler, logits, maxBytes);
            if (id < 0) {
                break;
            }
            // the new byte through the caches; when the next position opens a patch, the one ending here is complete
            float hp = s.scorer == null ? Float.NaN : s.scorer.entropy(s.scorer.append(id));
            s.model.appendToken(s.tokens);
            if (s.patches.next(id, hp)) {
                s.model.completePatch();
            }
            logitsRow = s.model.decode();
        }
        s.out.finish();
        double secs = (System.nanoTime() - start) / 1e9;
        return new Result(s.out.released(), s.promptTokens, s.model.patches(), secs);
    }

    /**
     * Self-speculative generation: the local models draft up to {@code k} bytes past each byte the model chose and
     * one full-model pass verifies them ({@link SpeculativeGeneration}). Greedy gives exactly the plain greedy
     * output; sampling keeps its distribution.
     */
    public Result generateSpeculative(byte[] prompt, int maxBytes, int k, Sampler sampler, byte[] stop, IntConsumer sink) {
        if (maxBytes < 0 || k < 1 || k > 64) {
            throw new IllegalArgumentException("speculative generation needs max bytes ≥ 0 and 1 ≤ k ≤ 64, got " + maxBytes + ", " + k);
        }
        long start = System.nanoTime();
        Session s = new Session(prompt, maxBytes, k + 1, k + 2, stop, sink);
        SpeculativeGeneration.Counts c = SpeculativeGeneration.run(this, s, maxBytes, k, sampler);
        s.out.finish();
        double secs = (System.nanoTime() - start) / 1e9;
        return new Result(s.out.released(), s.promptTokens, s.model.patches(), secs, c.drafted(), c.accepted(),
                c.verifications());
    }

    /**
     * Generates after each prompt at once (one batched pass per step for all prompts still going), each with its own
     * caches, patching and a fresh copy of {@code sampler}; each result equals {@link #generate} of that prompt alone.
     * {@code sinks.get(i)} receives prompt i's bytes as they come.
     */
    public List<Result> generateBatch(List<byte[]> prompts, int maxBytes, Sampler sampler, byte[] stop,
                                      List<IntConsumer> sinks) {
        if (maxBytes < 0 || prompts.size() != sinks.size()) {
            throw new IllegalArgumentException("batched generation needs max bytes ≥ 0 and one sink per prompt");
        }
        return BatchedGeneration.run(this, prompts, maxBytes, sampler, stop, sinks);
    }

    ByteLatentTransformer blt() {
        return blt;
    }

    EntropyModel entropyModel() {
        return entropyModel;
    }

    /** Greedy self-speculative generation (see {@link #generateSpeculative(byte[], int, int, Sampler, byte[], IntConsumer)}). */
    public Result generateSpeculative(byte[] prompt, int maxBytes, int k, byte[] stop, IntConsumer sink) {
        return generateSpeculative(prompt, maxBytes, k, Sampler.greedy(), stop, sink);
    }

    /**
     * One generation's caches and streams, after the prefill: the prompt's entropies in blocks, its patch
     * decisions, then one block through the BLT (every cache filled, the logits of the next byte ready).
     */
    final class Session {
        final int[] tokens;
        final int promptTokens;
        final EntropyModel.Incremental scorer;
        final IncrementalBlt model;
        PatchStream patches;
        final ByteStream out;
        final boolean[] startFlags;
        final Tensor prefillLogits;
        int length;                           // tokens so far, BOS and prompt included
        int produced;                         // bytes generated so far

        /** @param slack positions needed past the last generated byte (a draft); @param minBlock smallest step block */
        Session(byte[] prompt, int maxBytes, int slack, int minBlock, byte[] stop, IntConsumer sink) {
            promptTokens = prompt.length + 1;
            int limit = blt.config().maxEncoderSeqLength;
            if (promptTokens > limit) {
                throw new IllegalArgumentException("the prompt (" + prompt.length + " bytes + BOS) is longer than the model's"
                        + " max_encoder_seq_length " + limit);
            }
            int capacity = promptTokens + maxBytes + slack;
            tokens = Arrays.copyOf(ByteTokenizer.encode(prompt, true, false), capacity);
            // the local caches keep their windows only, so memory for them stays flat however many bytes follow
            scorer = entropyModel == null ? null : entropyModel.incremental(capacity, EntropyModel.BLOCK, slack);
            model = blt.incremental(capacity, Math.max(promptTokens, minBlock), slack);
            patches = scheme.stream();
            out = new ByteStream(stop, sink);
            startFlags = new boolean[Math.max(promptTokens, minBlock) + 1];
            startFlags[0] = true;
            float[] h = scorer == null ? null : scorer.appendAll(tokens, 0, promptTokens);
            for (int p = 0; p < promptTokens; p++) {
                startFlags[p + 1] = patches.next(tokens[p], h == null ? Float.NaN : h[p]);
            }
            prefillLogits = model.prefill(tokens, promptTokens, startFlags);
            length = promptTokens;
        }

        /**
         * Picks the next byte from {@code logits} (specials masked when they are ignored) and records it in the tokens
         * and the output stream. Returns its id, or −1 when this generation ends here: EOS or another special id, the
         * stop text completed, or the budget of maxBytes reached; a byte that ends it is recorded but not returned.
         */
        int takeNext(Sampler sampler, float[] logits, int maxBytes) {
            maskSpecials(logits, 0);
            int id = sampler.pick(logits);
            if (id < ByteTokenizer.OFFSET) {
                return -1;
            }
            tokens[length++] = id;
            produced++;
            return out.accept(id - ByteTokenizer.OFFSET) || produced == maxBytes ? -1 : id;
        }
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
