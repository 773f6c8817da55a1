package blt4j.generate;

import blt4j.model.ByteLatentTransformer;
import blt4j.tokenizer.ByteTokenizer;
import blt4j.model.EntropyModel;
import blt4j.model.EntropyScorer;
import blt4j.patch.EntropyPatcher;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Generation with patching on the fly (BLT-REFERENCE §10.2): the entropy model scores each new byte as it
 * arrives; when the entropy crosses the threshold the current patch closes and the global model takes one step.
 * Caches make every byte cost local work only. {@link #generateFullRecompute} is the reference's slow path
 * (entropy model, patching and the whole BLT rerun for every byte) used to check that both agree.
 */
public final class Generator {
    private final ByteLatentTransformer blt;
    private final EntropyModel entropyModel;
    private final float threshold;

    public Generator(ByteLatentTransformer blt, EntropyModel entropyModel, float threshold) {
        this.blt = blt;
        this.entropyModel = entropyModel;
        this.threshold = threshold;
    }

    /** What a generation produced. */
    public record Result(byte[] bytes, int promptTokens, int patches, double seconds) {
        public double bytesPerSecond() {
            return bytes.length / Math.max(seconds, 1e-9);
        }
    }

    /**
     * Generates up to maxBytes bytes after the prompt (BOS + prompt bytes, no EOS), streaming each byte to
     * {@code sink}; stops early at EOS or another special id.
     */
    public Result generate(byte[] prompt, int maxBytes, Sampler sampler, IntConsumer sink) {
        int[] tokens = Arrays.copyOf(ByteTokenizer.encode(prompt, true, false), prompt.length + 1 + maxBytes);
        int length = prompt.length + 1;
        int capacity = length + maxBytes;
        long start = System.nanoTime();
        EntropyModel.Incremental scorer = entropyModel.incremental(capacity);
        ByteLatentTransformer.Incremental model = blt.incremental(capacity);
        int patchStart = 0;
        int produced = 0;
        for (int p = 0; ; p++) {
            float h = scorer.entropy(scorer.append(tokens[p]));
            model.appendToken(tokens);
            // does position p+1 open a new patch? (position 1 always does; later ones when H[p] > θ, strictly)
            if (p + 1 == 1 || h > threshold) {
                model.completePatch(patchStart);
                patchStart = p + 1;
            }
            if (produced == maxBytes) {
                break;
            }
            // the decoder runs at every position to fill its caches; only the last prompt position onwards samples
            var logits = model.decode();
            if (p + 1 < length) {
                continue;
            }
            int next = sampler.pick(logits.toHost());
            if (next < ByteTokenizer.OFFSET) {
                break;
            }
            tokens[length++] = next;
            produced++;
            sink.accept(next - ByteTokenizer.OFFSET);
        }
        double secs = (System.nanoTime() - start) / 1e9;
        byte[] out = ByteTokenizer.decodeBytes(Arrays.copyOfRange(tokens, prompt.length + 1, length), false);
        return new Result(out, prompt.length + 1, model.patches(), secs);
    }

    /** Greedy generation by full recomputation for every byte (the reference's generation loop, no caches). */
    public byte[] generateFullRecompute(byte[] prompt, int maxBytes) {
        int[] tokens = ByteTokenizer.encode(prompt, true, false);
        EntropyScorer scorer = new EntropyScorer(entropyModel);
        EntropyPatcher patcher = EntropyPatcher.global(threshold).withIncludeNextToken(true);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < maxBytes; i++) {
            float[] h = scorer.score(tokens);
            int[] lengths = patcher.lengths(h);
            float[] logits = blt.forward(tokens, 1, tokens.length, new int[][] {lengths}).toHost();
            float[] last = Arrays.copyOfRange(logits, (tokens.length - 1) * 260, tokens.length * 260);
            int next = Sampler.argmax(last);
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
