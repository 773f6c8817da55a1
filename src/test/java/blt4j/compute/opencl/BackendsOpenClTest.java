package blt4j.compute.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import blt4j.compute.Backend;
import blt4j.backends.Backends;
import org.junit.jupiter.api.Test;

/** The CLI path: {@code --backend opencl} without a device profile uses the default profile. */
class BackendsOpenClTest {

    @Test
    void openclWithoutAProfileUsesTheDefault() {
        try (Backend b = Backends.create("opencl", 0, null)) {
            assertEquals("opencl", b.name());
            assertEquals(2f, b.toHost(b.fromHost(new float[] {2f}, 1))[0]);
        } catch (OpenClUnavailableException e) {
            OpenClTestSupport.unavailable(e);
        }
    }
}
