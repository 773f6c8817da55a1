package blt4j.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import blt4j.backends.Backends;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * X·Wᵀ with W in registered weights (packed once, then reused): the reference's values within tolerance, every row
 * bit-identical to that row alone (whether threads split the columns or, for a tall X, the rows), accumulation
 * honoured, and a write to the weights seen by the next product.
 */
class PackedWeightsTest {
    @ParameterizedTest(name = "{0} thread(s): {1} rows, k {2}, n {3}")
    @CsvSource({"1, 1, 1, 1", "1, 3, 37, 33", "2, 1, 300, 67", "2, 17, 300, 2100", "1, 70, 128, 128", "2, 5, 257, 31",
            "1, 1, 2050, 9", "2, 37, 1500, 40", "2, 1163, 300, 67", "2, 613, 521, 9"})   // the last two split by rows, over both threads
    void packedProductsMatchTheReferenceAndEachRowAlone(int threads, int rows, int k, int n) {
        Random r = new Random(rows * 131L + k * 7L + n);
        float[] x = gaussian(r, rows * k);
        float[] w = gaussian(r, 3 + n * k); // the matrix sits at offset 3 of the weights, as a parameter does
        float[] c0 = gaussian(r, rows * n);
        try (Backend cpu = Backends.create("cpu", threads, null); Backend ref = Backends.create("reference", 1, null)) {
            Tensor weights = cpu.fromHost(w, w.length);
            cpu.registerWeights(weights);
            Tensor wt = weights.view(3, n, k);
            float[] expected = product(ref, x, w, rows, k, n, null);
            Tensor all = cpu.zeros(rows, n);
            cpu.matmul(cpu.fromHost(x, rows, k), false, wt, true, all, false);
            float[] together = cpu.toHost(all);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], together[i], 1e-4f * (1 + Math.abs(expected[i])), "element " + i);
            }
            for (int row = 0; row < rows; row++) {
                Tensor one = cpu.zeros(1, n);
                cpu.matmul(cpu.fromHost(Arrays.copyOfRange(x, row * k, row * k + k), 1, k), false, wt, true, one, false);
                assertArrayEquals(cpu.toHost(one), Arrays.copyOfRange(together, row * n, row * n + n), "row " + row);
            }
            Tensor acc = cpu.fromHost(c0, rows, n);
            cpu.matmul(cpu.fromHost(x, rows, k), false, wt, true, acc, true);
            float[] accumulated = cpu.toHost(acc);
            for (int i = 0; i < accumulated.length; i++) {
                assertEquals(c0[i] + together[i], accumulated[i], 1e-4f * (1 + Math.abs(accumulated[i])), "accumulated " + i);
            }
            // a write into the weights (an optimizer step, a load) must reach the next product
            float[] w2 = gaussian(r, w.length);
            cpu.upload(w2, 0, weights);
            Tensor after = cpu.zeros(rows, n);
            cpu.matmul(cpu.fromHost(x, rows, k), false, wt, true, after, false);
            float[] expected2 = product(ref, x, w2, rows, k, n, null);
            float[] got2 = cpu.toHost(after);
            for (int i = 0; i < expected2.length; i++) {
                assertEquals(expected2[i], got2[i], 1e-4f * (1 + Math.abs(expected2[i])), "after the write, element " + i);
            }
        }
    }

    private static float[] product(Backend ref, float[] x, float[] w, int rows, int k, int n, float[] c) {
        Tensor out = ref.zeros(rows, n);
        ref.matmul(ref.fromHost(x, rows, k), false, ref.fromHost(w, w.length).view(3, n, k), true, out, false);
        return ref.toHost(out);
    }

    private static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }
}
