package blt4j.cli;

import blt4j.compute.Backend;
import blt4j.backends.Backends;
import picocli.CommandLine.Option;

/** The backend flags every compute command shares. */
final class BackendOptions {
    @Option(names = {"-b", "--backend"}, defaultValue = "cpu",
            description = "Compute backend: reference, cpu or opencl (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--threads", defaultValue = "0",
            description = "Threads for the cpu backend (0 = all cores).")
    int threads;

    @Option(names = "--device-profile", description = "OpenCL device profile (a tornado-config/*.properties file or its name).")
    String profile;

    Backend create() {
        return Backends.create(backend, threads, profile);
    }
}
