package blt4j.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import blt4j.TestBackends;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Batched generation relies on this: a layer's product X·Wᵀ over a few rows gives every row exactly the bits it gets
 * alone (up to {@link CpuBackend#ROW_INVARIANT_ROWS} rows), and one-row attention does not depend on which keys lie
 * outside its range.
 */
class RowInvarianceTest {
    @ParameterizedTest(name = "{0}: {1} rows, {2} → {3}")
    @CsvSource({"cpu, 2, 128, 128", "cpu, 16, 131, 67", "cpu, 64, 256, 260", "cpu, 7, 1, 5", "cpu, 33, 1000, 3",
            "reference, 5, 37, 41", "opencl, 16, 128, 128", "opencl, 9, 131, 67"})
    void rowsOfAProductDoNotDependOnTheirNeighbours(String backendName, int rows, int k, int n) {
        try (Backend b = TestBackends.create(backendName)) {
            Random r = new Random(rows * 31L + k);
            float[] x = new float[rows * k];
            float[] w = new float[n * k];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) r.nextGaussian();
            }
            Tensor wt = b.fromHost(w, n, k);
            Tensor all = b.zeros(rows, n);
            b.matmul(b.fromHost(x, rows, k), false, wt, true, all, false);
            float[] together = b.toHost(all);
            for (int row = 0; row < rows; row++) {
                Tensor one = b.zeros(1, n);
                b.matmul(b.fromHost(Arrays.copyOfRange(x, row * k, row * k + k), 1, k), false, wt, true, one, false);
                assertArrayEquals(b.toHost(one), Arrays.copyOfRange(together, row * n, row * n + n),
                        "row " + row + " of " + rows + " differs from the row alone");
            }
        }
    }
}
