package blt4j.compute.opencl;

import blt4j.compute.Backend;
import blt4j.compute.Tensor;
import org.junit.jupiter.api.Test;

/** Every op on the OpenCL backend (PoCL in CI) against the reference, plus both matmul kernel variants. */
class OpenClParityTest extends BackendParitySuite {
    private DeviceProfile.MatmulVariant variant;

    @Override
    protected Backend createBackend() {
        return OpenClTestSupport.backend();
    }

    private OpenClBackend cl() {
        return (OpenClBackend) backend;
    }

    @Override
    protected void runMatmul(Tensor a, boolean ta, Tensor b, boolean tb, Tensor c, boolean acc) {
        if (variant == null) {
            super.runMatmul(a, ta, b, tb, c, acc);
        } else {
            cl().matmulWith(variant, a, ta, b, tb, c, acc);
        }
    }

    @Test
    void matmulNaiveVariant() {
        variant = DeviceProfile.MatmulVariant.NAIVE;
        try {
            matmulSweep("naive");
        } finally {
            variant = null;
        }
    }

    @Test
    void matmulTiledVariant() {
        variant = DeviceProfile.MatmulVariant.TILED;
        try {
            matmulSweep("tiled");
        } finally {
            variant = null;
        }
    }
}
