package blt4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.compute.Backend;
import blt4j.compute.ReferenceBackend;
import blt4j.model.Batch;
import blt4j.model.BltConfig;
import blt4j.model.BpeTransformer;
import blt4j.model.EntropyModelConfig;
import blt4j.tokenizer.BpeTokenizer;
import blt4j.tokenizer.ByteTokenizer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Bits per byte of the BPE model: summed token NLL ÷ ln 2 ÷ the bytes its tokens stand for, by hand. */
class BpeBaselineTest {
    private static final String TEXT = "the cat sat on the mat; the cat ate the rat. the end, then the cat sat again.";

    @Test
    void bitsPerByteEqualsAHandComputation() throws Exception {
        byte[] text = TEXT.getBytes(StandardCharsets.US_ASCII);
        BpeTokenizer tok = BpeTokenizer.train(List.of(text), 300, null);
        assertTrue(tok.merges() > 5);
        BltConfig shape = BltConfig.micro();
        EntropyModelConfig cfg = EntropyModelConfig.bpeTransformer(shape, 64, tok.vocabSize());
        try (Backend backend = new ReferenceBackend()) {
            BpeTransformer model = new BpeTransformer(cfg, tok, backend).initialize(5);
            Corpus tokens = Corpus.of(List.of(text), "t").retokenized(tok);
            assertTrue(tokens.length() < text.length * 0.6, "merges shorten the stream: " + tokens.length());
            Batch[] batches = Batcher.evaluationBatches(tokens, 1, 7, 0);
            double nats = 0;
            long bytes = 0;
            for (Batch b : batches) {
                float[] logits = model.lm().forward(b.inputs(), 1, b.seqLen()).toHost();
                int v = tok.vocabSize();
                for (int i = 0; i < b.seqLen(); i++) {
                    if (b.weights()[i] == 0f) {
                        continue;
                    }
                    double max = Double.NEGATIVE_INFINITY;
                    for (int k = 0; k < v; k++) {
                        max = Math.max(max, logits[i * v + k]);
                    }
                    double z = 0;
                    for (int k = 0; k < v; k++) {
                        z += Math.exp(logits[i * v + k] - max);
                    }
                    int target = b.targets()[i];
                    nats += -(logits[i * v + target] - max - Math.log(z));
                    bytes += target < ByteTokenizer.OFFSET ? 1 : tok.bytes(target).length;
                }
            }
            // the stream is [BOS] text [EOS]; every one of its positions is predicted once, as in the byte models
            assertEquals(text.length + 2, bytes);
            Evaluator.Result r = Evaluator.evaluate(model, batches);
            assertEquals(bytes, r.predictedBytes());
            assertEquals(nats / Math.log(2) / bytes, r.bitsPerByte(), 1e-5);
            // an untrained model is near uniform over its vocabulary: ~log2(V) bits per token
            double bitsPerToken = r.bitsPerByte() * bytes / (tokens.length());
            assertEquals(Math.log(tok.vocabSize()) / Math.log(2), bitsPerToken, 1.0);
        }
    }

    @Test
    void theByteStreamCountsOnePositionPerId() throws Exception {
        Corpus bytes = Corpus.of(List.of("abc".getBytes(StandardCharsets.US_ASCII)), "t");
        assertTrue(bytes.byteStream());
        assertEquals(5, bytes.positions());
        Batch b = Batcher.evaluationBatches(bytes, 1, 5, 0)[0];
        assertEquals(b.counted(), b.predictedBytes());
        BpeTokenizer tok = BpeTokenizer.of(new int[] {'a' + 4}, new int[] {'b' + 4});
        Corpus t = bytes.retokenized(tok);
        assertEquals(4, t.length());
        assertEquals(5, t.positions());
        assertEquals(5, Batcher.evaluationBatches(t, 1, 4, 0)[0].predictedBytes());
    }
}
