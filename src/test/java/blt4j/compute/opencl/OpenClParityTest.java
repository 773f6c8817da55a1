package blt4j.compute.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import blt4j.compute.Backend;
import blt4j.compute.BackendParityTest;
import blt4j.compute.DType;
import blt4j.compute.Ranges;
import blt4j.compute.Tensor;
import org.junit.jupiter.api.Test;

/** Every op on the OpenCL backend (PoCL in CI) against the reference, plus both matmul kernel variants. */
class OpenClParityTest extends BackendParityTest {
    private DeviceProfile.MatmulVariant variant;

    @Override
    protected Backend createBackend() {
        return OpenClTestSupport.backend();
    }

    @Override
    protected void runMatmul(Tensor a, boolean ta, Tensor b, boolean tb, Tensor c, boolean acc) {
        if (variant == null) {
            super.runMatmul(a, ta, b, tb, c, acc);
        } else {
            ((OpenClBackend) be).matmulWith(variant, a, ta, b, tb, c, acc);
        }
    }

    /** The inherited matmul tests run the profile's variant; this runs the sweep on both explicitly. */
    @Test
    void matmulVariants() {
        for (DeviceProfile.MatmulVariant v : DeviceProfile.MatmulVariant.values()) {
            variant = v;
            try {
                matmulSweep();
            } finally {
                variant = null;
            }
        }
    }

    /** Validation reads host copies: checking ids costs no device read, and a kernel-written I32 tensor is refused. */
    @Test
    void indicesAreCheckedOnHostCopiesOnly() {
        OpenClBackend cl = (OpenClBackend) be;
        Tensor table = cl.zeros(10, 4);
        Tensor out = cl.zeros(3, 4);
        Tensor ids = cl.fromHost(new int[] {1, 9, 2}, 3);
        cl.synchronize();
        cl.resetTransfers();
        cl.embedding(table, ids, out, false);
        assertRejected("embedding", "id 10", () -> cl.embedding(table, cl.fromHost(new int[] {10}, 1), out.view(0, 1, 4), false));
        cl.synchronize();
        assertEquals(0, cl.transfers().downloadCalls(), "validation must not read the device");
        Tensor argmax = cl.allocate(DType.I32, 1, 4);
        cl.segmentMax(cl.zeros(2, 4), Ranges.of(cl, new int[] {0}, new int[] {2}), cl.zeros(1, 4), argmax);
        assertRejected("embedding", "written by a kernel", () -> cl.embedding(table, argmax.reshape(4), cl.zeros(4, 4), false));
        cl.upload(new int[] {3, 3, 3, 3}, argmax); // rewritten from the host: known again
        cl.embedding(table, argmax.reshape(4), cl.zeros(4, 4), false);
    }
}
