package blt4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.backends.Backends;
import blt4j.compute.Backend;
import blt4j.tokenizer.ByteTokenizer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The local caches of a long generation stay the size their windows need (the entropy model's too), while the
 * global cache grows with the patches: memory for the local parts is flat.
 */
class BoundedCachesTest {
    @Test
    void localCachesStayFixedOverThousandsOfBytes() {
        BltConfig c = BltConfig.micro();
        c.localAttentionWindowLen = 16;
        EntropyModelConfig ec = EntropyModelConfig.tiny();
        ec.dim = 32;
        ec.nLayers = 1;
        ec.nHeads = 2;
        ec.slidingWindow = 8;
        ec.maxSeqlen = 100;
        try (Backend be = Backends.create("cpu", 1, null)) {
            ByteLatentTransformer blt = new ByteLatentTransformer(c, be).initialize(3);
            EntropyModel entropy = new EntropyModel(ec, be).initialize(4);
            int total = 3000;
            int[] tokens = new int[total];
            Random r = new Random(5);
            tokens[0] = ByteTokenizer.BOS;
            for (int i = 1; i < total; i++) {
                tokens[i] = ByteTokenizer.OFFSET + 'a' + r.nextInt(26);
            }
            int prompt = 6;
            IncrementalBlt inc = blt.incremental(total, prompt);
            EntropyModel.Incremental scorer = entropy.incremental(total, 4);
            scorer.appendAll(tokens, 0, prompt);
            boolean[] starts = new boolean[prompt + 1];
            for (int q = 0; q <= prompt; q++) {
                starts[q] = q < 2 || q % 3 == 0;
            }
            inc.prefill(tokens, prompt, starts);
            long local = -1;
            long scorerRows = -1;
            long globalAt500 = 0;
            for (int p = prompt; p < total; p++) {
                scorer.entropy(scorer.append(tokens[p]));
                inc.appendToken(tokens);
                if ((p + 1) % 3 == 0) {
                    inc.completePatch();
                }
                inc.decode();
                if (p == 500) {
                    local = inc.localCacheRows();
                    scorerRows = scorer.cacheRows();
                    globalAt500 = inc.globalCacheRows();
                }
            }
            assertEquals(local, inc.localCacheRows(), "the local caches grew between byte 500 and byte " + total);
            assertEquals(scorerRows, scorer.cacheRows(), "the entropy model's caches grew");
            assertTrue(local < 3L * 2 * total / 10, "local caches of " + local + " rows for windows of 16");
            assertTrue(inc.globalCacheRows() > globalAt500, "the global cache must grow with the patches");
        }
    }
}
