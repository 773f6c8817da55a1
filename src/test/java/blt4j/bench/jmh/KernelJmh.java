package blt4j.bench.jmh;

import blt4j.compute.AttentionMask;
import blt4j.compute.Backend;
import blt4j.compute.CpuBackend;
import blt4j.compute.Ranges;
import blt4j.compute.ReferenceBackend;
import blt4j.compute.Tensor;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH view of the two heaviest kernels per backend (matmul and causal attention forward). Run with
 * {@code scripts/jmh.sh KernelJmh} (it builds the test classes and the classpath; arguments go to JMH).
 * The reference backend is slow (about 1 s per GFLOP): add {@code -p backend=cpu-1t,cpu-2t} to leave it out.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@State(Scope.Benchmark)
public class KernelJmh {

    @Param({"reference", "cpu-1t", "cpu-2t"})
    public String backend;

    @Param({"256", "1024"})
    public int size;

    private Backend be;
    private Tensor a, b, c;
    private Tensor q, k, v, out, lse;
    private Ranges mask;
    private static final int HEADS = 4;
    private static final int HEAD_DIM = 64;

    @Setup(Level.Trial)
    public void setUp() {
        be = switch (backend) {
            case "reference" -> new ReferenceBackend();
            default -> {
                if (backend.startsWith("cpu-") && backend.endsWith("t")) {
                    yield new CpuBackend(Integer.parseInt(backend.substring(4, backend.length() - 1)));
                }
                throw new IllegalArgumentException("unknown backend " + backend);
            }
        };
        Random rnd = new Random(7);
        a = random(rnd, size, size);
        b = random(rnd, size, size);
        c = be.zeros(size, size);
        int w = HEADS * HEAD_DIM;
        q = random(rnd, size, w);
        k = random(rnd, size, w);
        v = random(rnd, size, w);
        out = be.zeros(size, w);
        lse = be.zeros(HEADS, size);
        mask = AttentionMask.selfAttention(be, size, 0, null);
    }

    private Tensor random(Random rnd, int... shape) {
        float[] d = new float[shape[0] * shape[1]];
        for (int i = 0; i < d.length; i++) {
            d[i] = rnd.nextFloat() * 2 - 1;
        }
        return be.fromHost(d, shape);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        be.close();
    }

    /** C = A · Bᵀ (a Linear layer), size³. */
    @Benchmark
    public Tensor matmul() {
        be.matmul(a, false, b, true, c, false);
        be.synchronize();
        return c;
    }

    /** Causal self-attention forward over size positions, 4 heads of 64. */
    @Benchmark
    public Tensor attention() {
        be.attention(q, k, v, out, lse, mask, HEADS);
        be.synchronize();
        return out;
    }
}
