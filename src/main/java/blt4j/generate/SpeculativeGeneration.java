package blt4j.generate;

import blt4j.compute.Tensor;
import blt4j.patch.PatchStream;
import blt4j.tokenizer.ByteTokenizer;
import java.util.Arrays;

/**
 * Self-speculative decoding (in the spirit of Kallini et al., "Fast Byte Latent Transformer"): after each byte the
 * model itself chose, the local models alone (encoder and decoder, reading the patch they already have) draft up to
 * k more bytes; one pass of the full model over the draft (entropy model, the true patch boundaries, global steps,
 * decoder) verifies it, and every cache rolls back to the accepted prefix.
 *
 * <p>Acceptance is the speculative-sampling rule (Leviathan et al. 2023; Chen et al. 2023): a draft byte d drawn
 * from the draft distribution q is kept with probability min(1, p(d)/q(d)) under the verified distribution p;
 * otherwise a byte is drawn from max(0, p − q) renormalised and the draft ends. The output distribution is that of
 * plain sampling with the same sampler settings; greedy makes p and q one-hot, so the output is plain greedy output.
 */
final class SpeculativeGeneration {
    private SpeculativeGeneration() {}

    record Counts(int drafted, int accepted, int verifications) {}

    static Counts run(Generator g, Generator.Session s, int maxBytes, int k, Sampler sampler) {
        int vocab = ByteTokenizer.VOCAB;
        float[] logits = new float[vocab];
        float[] all = new float[(k + 1) * vocab];
        double[][] draftDist = new double[k][];
        PatchStream[] before = new PatchStream[k + 1];
        int drafted = 0;
        int accepted = 0;
        int verifications = 0;
        int forced = -1; // a byte already drawn from the residual of a rejected draft
        boolean done = false;
        s.prefillLogits.backend().download(s.prefillLogits, logits, 0);
        while (!done && s.produced < maxBytes) {
            int own = forced;
            if (own < 0) {
                g.maskSpecials(logits, 0);
                own = sampler.sample(sampler.distribution(logits));
            }
            forced = -1;
            if (own < ByteTokenizer.OFFSET) {
                break;
            }
            s.tokens[s.length] = own;
            // draft with the local models only
            int budget = Math.min(k, maxBytes - s.produced - 1);
            int n = 1;
            s.model.appendToken(s.tokens);
            while (n - 1 < budget) {
                Tensor d = s.model.decode();
                d.backend().download(d, all, (n - 1) * vocab); // stands as verified when no new patch comes before it
                System.arraycopy(all, (n - 1) * vocab, logits, 0, vocab);
                g.maskSpecials(logits, 0);
                double[] q = sampler.distribution(logits);
                int next = sampler.sample(q);
                if (next < ByteTokenizer.OFFSET) {
                    break;
                }
                draftDist[n - 1] = q;
                s.tokens[s.length + n] = next;
                n++;
                s.model.appendToken(s.tokens);
            }
            // verify: entropies, the true patch decisions, one pass of the global model and the decoder
            float[] h = s.scorer == null ? null : s.scorer.appendAll(s.tokens, s.length, n);
            for (int i = 0; i < n; i++) {
                before[i] = s.patches.copy();
                s.startFlags[i] = s.patches.next(s.tokens[s.length + i], h == null ? Float.NaN : h[i]);
            }
            Tensor v = s.model.verify(s.length, n, s.startFlags);
            verifications++;
            v.backend().download(v, all, s.model.reusedRows() * vocab);
            int kept = 1;
            while (kept < n) {
                g.maskSpecials(all, (kept - 1) * vocab);
                double[] p = sampler.distribution(Arrays.copyOfRange(all, (kept - 1) * vocab, kept * vocab));
                int d = s.tokens[s.length + kept];
                double[] q = draftDist[kept - 1];
                if (sampler.uniform() >= Math.min(1.0, p[d] / q[d])) {
                    forced = sampler.sample(residual(p, q));
                    break;
                }
                kept++;
            }
            drafted += n - 1;
            accepted += kept - 1;
            s.model.rollback(kept);
            if (s.scorer != null) {
                s.scorer.truncate(s.length + kept);
            }
            if (kept < n) {
                s.patches = before[kept];
            }
            for (int i = 0; i < kept && !done; i++) {
                s.produced++;
                done = s.out.accept(s.tokens[s.length + i] - ByteTokenizer.OFFSET) || s.produced == maxBytes;
            }
            s.length += kept;
            System.arraycopy(all, (kept - 1) * vocab, logits, 0, vocab);
        }
        return new Counts(drafted, accepted, verifications);
    }

    /** max(0, p − q) renormalised (p itself if rounding left nothing, which exact arithmetic rules out after a rejection). */
    static double[] residual(double[] p, double[] q) {
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
}
