package blt4j.cli;

import blt4j.compute.Backend;
import blt4j.backends.Backends;
import picocli.CommandLine.Option;

/** The backend flags every compute command shares. */
final class BackendOptions {
    String backend = "cpu";
    int threads;

    /** Checked while the command line is parsed, so an unknown backend fails before any command runs. */
    @Option(names = {"-b", "--backend"}, defaultValue = "cpu",
            description = "Compute backend: reference, cpu or opencl (default: ${DEFAULT-VALUE}).")
    void setBackend(String name) {
        if (!Backends.NAMES.contains(name)) {
            throw new FlagException("unknown backend '" + name + "' (known: " + String.join(", ", Backends.NAMES) + ")");
        }
        backend = name;
    }

    @Option(names = "--threads", defaultValue = "0",
            description = "Threads for the cpu backend (0 = all cores).")
    void setThreads(int n) {
        if (n < 0 || n > 1024) {
            throw new FlagException("--threads must be 0 (all cores) to 1024, got " + n);
        }
        threads = n;
    }

    @Option(names = "--device-profile", description = "OpenCL device profile (a tornado-config/*.properties file or its name).")
    String profile;

    Backend create() {
        return Backends.create(backend, threads, profile);
    }
}
