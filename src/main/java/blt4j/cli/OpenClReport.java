package blt4j.cli;

import blt4j.compute.opencl.OpenClDevices;

/** The OpenCL part of {@code blt devices}. */
final class OpenClReport {
    private OpenClReport() {}

    static String text() {
        return "  opencl    :\n" + OpenClDevices.report().indent(4).stripTrailing();
    }
}
