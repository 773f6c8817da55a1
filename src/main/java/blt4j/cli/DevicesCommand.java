package blt4j.cli;

import blt4j.compute.CpuBackend;
import blt4j.compute.ReferenceBackend;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code blt devices}: what this machine can run on. */
@Command(name = "devices", mixinStandardHelpOptions = true,
        description = "List backends, CPU threads and Vector API width, and OpenCL platforms and devices.")
final class DevicesCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        System.out.printf("Java %s (%s), %d cores available%n", System.getProperty("java.version"),
                System.getProperty("java.vm.name"), Runtime.getRuntime().availableProcessors());
        try (ReferenceBackend ref = new ReferenceBackend()) {
            System.out.println("  reference : " + ref.describe());
        }
        try (CpuBackend cpu = new CpuBackend()) {
            System.out.println("  cpu       : " + cpu.describe());
        }
        System.out.println(OpenClReport.text());
        return 0;
    }
}
