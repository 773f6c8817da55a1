package blt4j.compute.opencl;

/** An OpenCL program failed to compile or link; the message carries the compiler's build log. */
public final class OpenClBuildException extends IllegalStateException {
    private final String buildLog;

    public OpenClBuildException(String what, String buildLog, Throwable cause) {
        super(what + "\n--- OpenCL build log ---\n" + (buildLog == null || buildLog.isBlank() ? "(empty)" : buildLog.strip())
                + "\n--- end of build log ---", cause);
        this.buildLog = buildLog;
    }

    public String buildLog() {
        return buildLog;
    }
}
