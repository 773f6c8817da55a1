package blt4j.compute.opencl;

/** No usable OpenCL runtime: the JOCL native library, the ICD loader or every platform is missing. */
public final class OpenClUnavailableException extends IllegalStateException {
    /** The Debian packages that provide an OpenCL runtime on a CPU-only machine. */
    public static final String DEBIAN_PACKAGES = "ocl-icd-libopencl1 ocl-icd-opencl-dev pocl-opencl-icd";

    public OpenClUnavailableException(String why, Throwable cause) {
        super("OpenCL is not available: " + why + ". Install an OpenCL runtime, e.g. on Debian/Ubuntu: "
                + "apt-get install " + DEBIAN_PACKAGES + " (JOCL loads the unversioned libOpenCL.so; check with "
                + "'clinfo -l'), or pick another backend (--backend cpu).", cause);
    }
}
