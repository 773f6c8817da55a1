package blt4j.bench;

import java.nio.file.Path;
import java.util.List;

/**
 * Developer entry point until the CLI wires {@link KernelBenchmark} in:
 * {@code java --add-modules jdk.incubator.vector -cp target/test-classes:target/classes:$(cat cp.txt)
 * blt4j.bench.RunKernelBenchmark [reps] [quick]}.
 */
public final class RunKernelBenchmark {
    private RunKernelBenchmark() {}

    public static void main(String[] args) {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        boolean quick = args.length > 1 && Boolean.parseBoolean(args[1]);
        new KernelBenchmark(reps, quick, Path.of("results"), System.out).run(List.of());
    }
}
