package blt4j.cli;

import blt4j.compute.CpuBackend;
import blt4j.compute.ReferenceBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import blt4j.compute.opencl.DeviceProfile;
import blt4j.compute.opencl.KernelSources;

/** {@code blt devices}: what this machine can run on. */
@Command(name = "devices", mixinStandardHelpOptions = true,
        description = "List backends, CPU threads and Vector API width, and OpenCL platforms and devices.")
final class DevicesCommand implements Callable<Integer> {

    @Option(names = "--write-kernels", description = "Write the combined OpenCL C source of all kernels here (for offline FPGA/GPU compilers) and print the defines a profile needs.")
    Path kernels;

    @Option(names = "--device-profile", defaultValue = "fpga-binary", description = "Profile whose defines --write-kernels prints (default: ${DEFAULT-VALUE}).")
    String deviceProfile;

    @Override
    public Integer call() throws Exception {
        if (kernels != null) {
            Files.writeString(kernels, KernelSources.combined());
            var p = DeviceProfile.load(deviceProfile);
            System.out.printf("wrote %s; compile it with: %s -DRED_WG=%d -DTILE=%d (add -DHAS_FP64 on devices with cl_khr_fp64)%n",
                    kernels, p.buildOptions(), p.reduceWorkGroup(), p.matmulTile());
            return 0;
        }
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
