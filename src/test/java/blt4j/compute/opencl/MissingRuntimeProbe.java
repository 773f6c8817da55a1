package blt4j.compute.opencl;

/** Run in a child JVM with no OpenCL ICDs visible: prints the exception the backend throws. */
public final class MissingRuntimeProbe {
    public static void main(String[] args) {
        try {
            new OpenClBackend("pocl-cpu").close();
            System.out.println("NO-ERROR");
        } catch (Throwable e) {
            System.out.println("EXCEPTION " + e.getClass().getName() + ": " + e.getMessage());
        }
        System.out.println("REPORT " + OpenClDevices.report().strip());
    }
}
