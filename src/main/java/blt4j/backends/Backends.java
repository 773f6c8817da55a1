package blt4j.backends;

import blt4j.compute.Backend;
import blt4j.compute.CpuBackend;
import blt4j.compute.ReferenceBackend;

import java.util.List;
import blt4j.compute.opencl.OpenClBackend;

/** Creates backends by name; an unavailable backend is an error, never a silent substitute. */
public final class Backends {
    private Backends() {}

    public static final List<String> NAMES = List.of("reference", "cpu", "opencl");

    /**
     * @param threads cpu threads (0 = all cores)
     * @param profile OpenCL device profile name or file (null = the default profile)
     */
    public static Backend create(String name, int threads, String profile) {
        return switch (name) {
            case "reference" -> new ReferenceBackend();
            case "cpu" -> threads > 0 ? new CpuBackend(threads) : new CpuBackend();
            case "opencl" -> openCl(profile);
            default -> throw new IllegalArgumentException("unknown backend '" + name + "' (known: " + String.join(", ", NAMES) + ")");
        };
    }

    /** Fails with a message naming the packages to install when no OpenCL platform is present. */
    private static Backend openCl(String profile) {
        return OpenClBackend.create(profile);
    }
}
