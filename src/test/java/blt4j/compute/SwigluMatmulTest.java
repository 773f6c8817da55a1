package blt4j.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import blt4j.backends.Backends;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The cpu backend's fused SwiGLU projection gives the bits of the ops it replaces (two products X·Wᵀ and swiglu), on
 * packed weights and on plain ones, with gate and up kept or not, at shapes that leave short row strips, short column
 * strips, several depth blocks and several column blocks; and a write into the weights reaches the next call.
 */
class SwigluMatmulTest {
    @ParameterizedTest(name = "{0} thread(s): {1} rows, k {2}, n {3}")
    @CsvSource({"1, 2, 1, 1", "1, 9, 3, 5", "2, 13, 37, 33", "2, 145, 300, 67", "1, 7, 257, 31", "2, 3, 256, 2085",
            "1, 150, 64, 768", "2, 64, 128, 40", "2, 1, 300, 70"})
    void fusedEqualsTheSeparateOpsBitForBit(int threads, int rows, int k, int n) {
        Random r = new Random(rows * 131L + k * 7L + n);
        float[] x = gaussian(r, rows * k);
        float[] w = gaussian(r, 5 + 2 * n * k);   // w1 at offset 5 and w3 after it, inside one parameter storage
        try (Backend cpu = Backends.create("cpu", threads, null)) {
            Tensor xt = cpu.fromHost(x, rows, k);
            for (boolean registered : new boolean[] {true, false}) {
                Tensor weights = cpu.fromHost(w, w.length);
                if (registered) {
                    cpu.registerWeights(weights);
                }
                Tensor w1 = weights.view(5, n, k), w3 = weights.view(5 + n * k, n, k);
                float[][] separate = separate(cpu, xt, w1, w3, rows, n);
                for (boolean keep : new boolean[] {true, false}) {
                    Tensor gate = cpu.fromHost(gaussian(r, rows * n), rows, n);
                    Tensor up = cpu.fromHost(gaussian(r, rows * n), rows, n);
                    Tensor out = cpu.fromHost(gaussian(r, rows * n), rows, n);
                    cpu.swigluMatmul(xt, w1, w3, gate, up, out, keep);
                    String what = (registered ? "packed" : "plain") + " weights, keep " + keep;
                    assertArrayEquals(separate[2], cpu.toHost(out), what + ": out");
                    if (keep) {
                        assertArrayEquals(separate[0], cpu.toHost(gate), what + ": gate");
                        assertArrayEquals(separate[1], cpu.toHost(up), what + ": up");
                    }
                }
                if (registered) {
                    // an optimizer step or a load writes the weights: the next call must use the new values
                    cpu.upload(gaussian(r, w.length), 0, weights);
                    float[][] after = separate(cpu, xt, w1, w3, rows, n);
                    Tensor gate = cpu.zeros(rows, n), up = cpu.zeros(rows, n), out = cpu.zeros(rows, n);
                    cpu.swigluMatmul(xt, w1, w3, gate, up, out, false);
                    assertArrayEquals(after[2], cpu.toHost(out), "after a write into the weights");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} thread(s): {1} rows, k {2}, n {3}, bf16 weights")
    @CsvSource({"1, 1, 5, 3", "2, 9, 37, 33", "2, 20, 64, 70"})
    void bf16WeightsTakeTheSeparateOps(int threads, int rows, int k, int n) {
        Random r = new Random(rows + 31L * k + n);
        short[] bits = new short[2 * n * k];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = (short) (Float.floatToRawIntBits((float) r.nextGaussian()) >>> 16);
        }
        try (Backend cpu = Backends.create("cpu", threads, null)) {
            Tensor xt = cpu.fromHost(gaussian(r, rows * k), rows, k);
            java.nio.ShortBuffer direct = java.nio.ByteBuffer.allocateDirect(2 * bits.length)
                    .order(java.nio.ByteOrder.nativeOrder()).asShortBuffer().put(bits);
            Tensor w1 = cpu.wrapBf16(direct.slice(0, n * k), n, k), w3 = cpu.wrapBf16(direct.slice(n * k, n * k), n, k);
            float[][] separate = separate(cpu, xt, w1, w3, rows, n);
            Tensor gate = cpu.zeros(rows, n), up = cpu.zeros(rows, n), out = cpu.zeros(rows, n);
            cpu.swigluMatmul(xt, w1, w3, gate, up, out, true);
            assertArrayEquals(separate[2], cpu.toHost(out), "out");
            assertArrayEquals(separate[0], cpu.toHost(gate), "gate");
        }
    }

    private static float[][] separate(Backend cpu, Tensor x, Tensor w1, Tensor w3, int rows, int n) {
        Tensor gate = cpu.zeros(rows, n), up = cpu.zeros(rows, n), out = cpu.zeros(rows, n);
        cpu.matmul(x, false, w1, true, gate, false);
        cpu.matmul(x, false, w3, true, up, false);
        cpu.swiglu(gate, up, out);
        return new float[][] {cpu.toHost(gate), cpu.toHost(up), cpu.toHost(out)};
    }

    private static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }
}
