package blt4j.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.TestBackends;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * X·Wᵀ with W in bfloat16 on every backend against a float64 sum of the exactly widened weights, at awkward shapes
 * (1, primes, more rows than the row-invariant limit, batched 3-D, views at odd offsets, accumulate on and off); on
 * cpu the product equals the fp32 product of the widened weights bit for bit, and up to 64 rows a row's result does
 * not depend on how many rows come with it.
 */
class Bf16MatmulTest {
    private static final int[][] SHAPES = {{1, 1, 1}, {1, 7, 13}, {3, 17, 31}, {5, 64, 100}, {2, 5, 257}, {70, 37, 129}, {1, 261, 33}};

    private static short[] randomBf16(Random rnd, int n) {
        short[] w = new short[n];
        for (int i = 0; i < n; i++) {
            w[i] = KernelMath.toBf16((float) rnd.nextGaussian());
        }
        return w;
    }

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"reference", "cpu", "opencl"})
    void bf16WeightsMatchAFloat64Sum(String backendName) {
        Random rnd = new Random(7);
        try (Backend be = TestBackends.create(backendName)) {
            for (int[] s : SHAPES) {
                for (int batch : new int[] {1, 2}) {
                    for (boolean acc : new boolean[] {false, true}) {
                        int m = s[0], n = s[1], k = s[2];
                        int off = 3;
                        float[] x = new float[batch * m * k];
                        for (int i = 0; i < x.length; i++) {
                            x[i] = rnd.nextFloat() * 2 - 1;
                        }
                        short[] wBits = randomBf16(rnd, off + batch * n * k);
                        float[] c0 = new float[batch * m * n];
                        for (int i = 0; i < c0.length; i++) {
                            c0[i] = rnd.nextFloat();
                        }
                        Tensor parent = be.allocate(DType.BF16, off + batch * n * k);
                        be.uploadBf16(wBits, 0, parent);
                        Tensor w = batch == 1 ? parent.view(off, n, k) : parent.view(off, batch, n, k);
                        Tensor a = batch == 1 ? be.fromHost(x, m, k) : be.fromHost(x, batch, m, k);
                        Tensor c = batch == 1 ? be.fromHost(c0, m, n) : be.fromHost(c0, batch, m, n);
                        be.matmul(a, false, w, true, c, acc);
                        float[] got = c.toHost();
                        for (int b = 0; b < batch; b++) {
                            for (int i = 0; i < m; i++) {
                                for (int j = 0; j < n; j++) {
                                    double sum = 0;
                                    for (int p = 0; p < k; p++) {
                                        sum += (double) x[(b * m + i) * k + p] * KernelMath.bf16(wBits[off + (b * n + j) * k + p]);
                                    }
                                    int at = (b * m + i) * n + j;
                                    double want = (acc ? c0[at] : 0) + sum;
                                    assertEquals(want, got[at], 1e-5 * (1 + Math.sqrt(k)), "m,n,k=" + m + "," + n + "," + k
                                            + " batch " + batch + " acc " + acc + " at " + at);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "m = {0}")
    @ValueSource(ints = {1, 4, 13, 64, 70})
    void onCpuTheBitsAreThoseOfTheWidenedFp32WeightsWhateverTheRowCount(int m) {
        Random rnd = new Random(m);
        int n = 37, k = 131;
        try (Backend be = TestBackends.create("cpu")) {
            short[] bits = randomBf16(rnd, n * k);
            float[] wide = new float[n * k];
            for (int i = 0; i < wide.length; i++) {
                wide[i] = KernelMath.bf16(bits[i]);
            }
            float[] x = new float[m * k];
            for (int i = 0; i < x.length; i++) {
                x[i] = rnd.nextFloat() * 2 - 1;
            }
            Tensor w16 = be.allocate(DType.BF16, n, k);
            be.uploadBf16(bits, 0, w16);
            Tensor w32 = be.fromHost(wide, n, k);
            Tensor a = be.fromHost(x, m, k);
            Tensor c16 = be.zeros(m, n);
            be.matmul(a, false, w16, true, c16, false);
            float[] all = c16.toHost();
            if (m <= 64) { // the fp32 path is row-invariant (the same dot recipe) up to 64 rows
                Tensor c32 = be.zeros(m, n);
                be.matmul(a, false, w32, true, c32, false);
                assertArrayEquals(c32.toHost(), all);
            }
            // up to 64 rows (batched and speculative generation) a row's bits do not depend on the rows beside it;
            // more rows (a prompt) take the blocked GEMM, equal within rounding
            for (int r = 0; r < m; r++) {
                Tensor one = be.zeros(1, n);
                be.matmul(a.rowSlice(r, r + 1), false, w16, true, one, false);
                float[] row = one.toHost();
                for (int j = 0; j < n; j++) {
                    if (m <= 64) {
                        assertEquals(Float.floatToIntBits(all[r * n + j]), Float.floatToIntBits(row[j]), "row " + r + " col " + j);
                    } else {
                        assertEquals(all[r * n + j], row[j], 1e-4 * (1 + Math.abs(row[j])), "row " + r + " col " + j);
                    }
                }
            }
            assertArrayEquals(wide, w16.toHost(), "toHost widens exactly");
        }
    }

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"reference", "cpu"})
    void aBf16OperandMustBeTheTransposedWeight(String backendName) {
        try (Backend be = TestBackends.create(backendName)) {
            Tensor w = be.allocate(DType.BF16, 4, 3);
            Tensor a = be.zeros(2, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> be.matmul(a, false, w, false, be.zeros(2, 3), false));
            assertTrue(e.getMessage().contains("BF16"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> be.add(w, w, w));
        }
    }
}
