package blt4j.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The cpu matmul splits a product over threads by rows of C, by columns, or by depth (a small C over a long k, as in
 * weight gradients). Every split must give the single-threaded bits: the model's results may not depend on the
 * thread count. Each case runs all transposes and both accumulate modes, and is also checked against the reference.
 */
class GemmSplitsTest {

    @ParameterizedTest(name = "{0} x {1} x {2}")
    @CsvSource({
            "37, 41, 1100",   // depth split, edge tiles in both directions
            "13, 29, 2050",   // depth split into uneven runs of KC blocks, a short last block
            "128, 128, 4096", // the local models' weight-gradient shape
            "300, 283, 310",  // row split
            "9, 700, 300",    // column split (C wide and short)
            "71, 67, 1",      // depth 1
            "1, 5, 3000",     // one row over a long depth
            "40, 33, 5000",   // a transposed A sums in depth groups: three of them, the last one short
            "1100, 40, 2100", // rows split of a product summed in depth groups (each thread groups its own rows)
            "600, 130, 900",  // B packed for its whole depth, row blocks outer: 5 row blocks, 4 depth blocks, an edge strip
            "300, 260, 130",  // the output head's width: whole strips and a last one of 4 columns (the narrow tile)
    })
    void everySplitGivesTheSingleThreadBits(int m, int n, int k) {
        Random r = new Random(m * 7919L + n * 31L + k);
        float[] a = gaussian(r, m * k);
        float[] b = gaussian(r, k * n);
        float[] c0 = gaussian(r, m * n);
        try (CpuBackend one = new CpuBackend(1); CpuBackend two = new CpuBackend(2, 1); CpuBackend three = new CpuBackend(3, 1);
             ReferenceBackend ref = new ReferenceBackend()) {
            for (int combo = 0; combo < 8; combo++) {
                boolean ta = (combo & 1) != 0;
                boolean tb = (combo & 2) != 0;
                boolean acc = (combo & 4) != 0;
                String what = m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb + " acc=" + acc;
                float[] expected = product(one, a, b, c0, m, n, k, ta, tb, acc);
                assertArrayEquals(expected, product(two, a, b, c0, m, n, k, ta, tb, acc), what + " on 2 threads");
                assertArrayEquals(expected, product(three, a, b, c0, m, n, k, ta, tb, acc), what + " on 3 threads");
                float[] oracle = product(ref, a, b, c0, m, n, k, ta, tb, acc);
                double tol = 2e-6 * Math.sqrt(k) * 4;
                double worst = 0;
                for (int i = 0; i < oracle.length; i++) {
                    worst = Math.max(worst, Math.abs(oracle[i] - expected[i]) / (1 + Math.abs(oracle[i])));
                }
                assertTrue(worst <= tol, what + ": worst relative error " + worst + " > " + tol);
            }
        }
    }

    /**
     * A column's bits do not depend on the columns beside it: a product 260 wide (a last strip of 4 columns, computed
     * by the narrow tile) equals the first 260 columns of the same product with B 28 columns wider (whole strips).
     */
    @ParameterizedTest(name = "{0} threads")
    @CsvSource({"1", "2"})
    void aNarrowLastStripGivesTheBitsOfAWholeOne(int threads) {
        int m = 300, k = 130, n = 260, wide = 288;
        Random r = new Random(11);
        float[] a = gaussian(r, m * k);
        float[] bWide = gaussian(r, k * wide);
        float[] c0Wide = gaussian(r, m * wide);
        try (CpuBackend be = new CpuBackend(threads, 1)) {
            for (int combo = 0; combo < 8; combo++) {
                boolean ta = (combo & 1) != 0;
                boolean tb = (combo & 2) != 0;
                boolean acc = (combo & 4) != 0;
                float[] b = new float[k * n];
                float[] c0 = new float[m * n];
                for (int p = 0; p < k; p++) {
                    for (int j = 0; j < n; j++) {
                        // op(B)[p, j]: b[j·k + p] when transposed, b[p·n + j] otherwise
                        b[tb ? j * k + p : p * n + j] = bWide[tb ? j * k + p : p * wide + j];
                    }
                }
                for (int i = 0; i < m; i++) {
                    System.arraycopy(c0Wide, i * wide, c0, i * n, n);
                }
                float[] narrow = product(be, a, b, c0, m, n, k, ta, tb, acc);
                float[] whole = product(be, a, bWide, c0Wide, m, wide, k, ta, tb, acc);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        int at = i * n + j;
                        if (Float.floatToIntBits(narrow[at]) != Float.floatToIntBits(whole[i * wide + j])) {
                            throw new AssertionError("ta=" + ta + " tb=" + tb + " acc=" + acc + ": C[" + i + "," + j + "] "
                                    + narrow[at] + " != " + whole[i * wide + j]);
                        }
                    }
                }
            }
        }
    }

    private static float[] product(Backend be, float[] a, float[] b, float[] c0, int m, int n, int k, boolean ta,
                                   boolean tb, boolean acc) {
        Tensor at = ta ? be.fromHost(a, k, m) : be.fromHost(a, m, k);
        Tensor bt = tb ? be.fromHost(b, n, k) : be.fromHost(b, k, n);
        Tensor c = be.fromHost(c0.clone(), m, n);
        be.matmul(at, ta, bt, tb, c, acc);
        return be.toHost(c);
    }

    private static float[] gaussian(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }
}
