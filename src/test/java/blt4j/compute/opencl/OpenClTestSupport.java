package blt4j.compute.opencl;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

/**
 * Creates OpenCL backends for tests. A missing OpenCL runtime fails the test under {@code CI=true} and skips it
 * (loudly, on stderr) elsewhere. Tests use the {@code pocl-cpu} profile unless {@code -Dblt4j.opencl.test.profile}
 * names another; the disk cache is off so each JVM measures a real build (the in-memory cache still builds once).
 */
public final class OpenClTestSupport {
    private OpenClTestSupport() {}

    public static String profileName() {
        return System.getProperty("blt4j.opencl.test.profile", "pocl-cpu");
    }

    public static DeviceProfile profile() {
        return DeviceProfile.load(profileName()).with("cache.disk", "false");
    }

    /** A backend on the test profile, or a skip/fail when OpenCL is unavailable. */
    public static OpenClBackend backend() {
        return backend(profile());
    }

    public static OpenClBackend backend(DeviceProfile profile) {
        try {
            return new OpenClBackend(profile);
        } catch (OpenClUnavailableException e) {
            unavailable(e);
            throw e; // not reached
        }
    }

    /** Fails under CI=true, otherwise aborts the test with a loud message. */
    public static void unavailable(OpenClUnavailableException e) {
        String msg = "OpenCL tests need an OpenCL runtime: " + e.getMessage();
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail(msg + " (under CI=true this is a failure, not a skip)", e);
        }
        System.err.println("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        System.err.println("!!! SKIPPING OpenCL tests: " + msg);
        System.err.println("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        Assumptions.abort(msg);
    }
}
