package blt4j.cli;

/** The OpenCL part of {@code blt devices}. */
final class OpenClReport {
    private OpenClReport() {}

    static String text() {
        return "  opencl    : not part of this build";
    }
}
