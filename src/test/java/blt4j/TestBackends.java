package blt4j;

import blt4j.compute.Backend;
import blt4j.backends.Backends;
import blt4j.compute.opencl.OpenClTestSupport;

/** Backends for tests: opencl goes through the OpenCL test support (fails under CI=true when missing, skips loudly otherwise). */
public final class TestBackends {
    private TestBackends() {}

    public static Backend create(String name) {
        return "opencl".equals(name) ? OpenClTestSupport.backend() : Backends.create(name, 2, null);
    }
}
