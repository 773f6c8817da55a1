package blt4j.cli;

/** The OpenCL part of {@code blt devices}. */
final class OpenClReport {
    private OpenClReport() {}

    static String text() {
        return "  opencl    :\n" + blt4j.compute.opencl.OpenClDevices.report().indent(4).stripTrailing();
    }
}
