package blt4j.compute.opencl;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.compute.Backend;
import blt4j.compute.BackendParityTest;
import blt4j.compute.DType;
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

    @Test
    void badIdsAreReportedAtTheNextSynchronisation() {
        Tensor table = be.zeros(10, 4);
        Tensor ids = be.fromHost(new int[] {1, 10, 2}, 3);
        Tensor out = be.zeros(3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            be.embedding(table, ids, out, false);
            be.toHost(out);
        });
        assertTrue(e.getMessage().contains("embedding id 10 outside table of 10 rows"), e.getMessage());
        Tensor logits = be.zeros(2, 5);
        Tensor targets = be.allocate(DType.I32, 2);
        be.upload(new int[] {0, 5}, targets);
        Tensor losses = be.zeros(2);
        e = assertThrows(IllegalArgumentException.class, () -> {
            be.crossEntropy(logits, targets, null, losses);
            be.synchronize();
        });
        assertTrue(e.getMessage().contains("target id 5 outside vocabulary of 5"), e.getMessage());
        be.synchronize(); // the flag is cleared once reported
    }
}
