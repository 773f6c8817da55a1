package blt4j.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code blt demo}: the main job, end to end on the cpu backend. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the main job: list devices and benchmark the kernels (grows into train-and-use a small BLT).")
final class DemoCommand implements Callable<Integer> {

    @Override
    public Integer call() throws Exception {
        new DevicesCommand().call();
        return 0;
    }
}
