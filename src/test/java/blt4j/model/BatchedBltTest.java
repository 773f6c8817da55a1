package blt4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import blt4j.SharedData;
import blt4j.TestBackends;
import blt4j.compute.Backend;
import blt4j.compute.Tensor;
import blt4j.generate.Sampler;
import blt4j.tokenizer.ByteTokenizer;
import blt4j.train.ModelFiles;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A batched step gives every generation exactly the logits (every bit) of its own step alone. */
class BatchedBltTest {
    @ParameterizedTest
    @ValueSource(strings = {"cpu", "reference", "opencl"})
    void batchedLogitsAreBitIdenticalToSteppingAlone(String backendName) throws Exception {
        String[] texts = {"First Citizen:", "A", "Before we proceed any further, hear me speak.", "What?"};
        int n = texts.length;
        int steps = 40;
        try (Backend backend = TestBackends.create(backendName)) {
            ByteLatentTransformer blt = ModelFiles.loadBlt(SharedData.bltMicro(), backend);
            IncrementalBlt[] alone = new IncrementalBlt[n];
            IncrementalBlt[] together = new IncrementalBlt[n];
            int[][] tokens = new int[n][];
            float[][] next = new float[n][ByteTokenizer.VOCAB];
            for (int i = 0; i < n; i++) {
                int[] prompt = ByteTokenizer.encode(texts[i].getBytes(StandardCharsets.UTF_8), true, false);
                tokens[i] = Arrays.copyOf(prompt, prompt.length + steps);
                boolean[] starts = new boolean[prompt.length + 1];
                for (int q = 0; q <= prompt.length; q++) {
                    starts[q] = q < 2 || q % 3 == 0;
                }
                alone[i] = blt.incremental(tokens[i].length, prompt.length);
                together[i] = blt.incremental(tokens[i].length, prompt.length);
                Tensor a = alone[i].prefill(tokens[i], prompt.length, starts);
                Tensor b = together[i].prefill(tokens[i], prompt.length, starts);
                next[i] = a.toHost();
                assertArrayEquals(next[i], b.toHost());
            }
            BatchedBlt batch = new BatchedBlt(blt, n);
            boolean[] complete = new boolean[n];
            for (int step = 0; step < steps; step++) {
                for (int i = 0; i < n; i++) {
                    int length = alone[i].length();
                    tokens[i][length] = Sampler.argmax(Arrays.copyOfRange(next[i], ByteTokenizer.OFFSET, ByteTokenizer.VOCAB))
                            + ByteTokenizer.OFFSET;
                    alone[i].appendToken(tokens[i]);
                    complete[i] = (length + 1 + i) % 3 == 0; // the next position opens a patch
                    if (complete[i]) {
                        alone[i].completePatch();
                    }
                    next[i] = alone[i].decode().toHost();
                }
                batch.appendTokens(together, tokens, n);
                batch.completePatches(together, complete, n);
                float[] rows = batch.decode(together, n).toHost();
                for (int i = 0; i < n; i++) {
                    assertArrayEquals(next[i], Arrays.copyOfRange(rows, i * ByteTokenizer.VOCAB, (i + 1) * ByteTokenizer.VOCAB),
                            "generation " + i + " at step " + step);
                }
            }
        }
    }
}
