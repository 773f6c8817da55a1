package blt4j.compute;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * {@link CpuBackend} against the reference on 2 threads (the machine's cores), plus nested runs on 1 thread and on
 * 3 threads with splitting forced even for tiny tensors, so uneven chunks and the two-pass attention backward are hit.
 */
class CpuBackendParityTest extends BackendParityTest {

    @Override
    protected Backend createBackend() {
        return new CpuBackend(2);
    }

    @Test
    void vectorApiInUse() {
        assertTrue(CpuBackend.vectorApiAvailable(), "tests run with --add-modules jdk.incubator.vector: " + be.describe());
        assertTrue(be.describe().contains("2 threads"), be.describe());
    }

    @Nested
    class OneThread extends BackendParityTest {
        @Override
        protected Backend createBackend() {
            return new CpuBackend(1);
        }
    }

    @Nested
    class ThreeThreadsForcedSplits extends BackendParityTest {
        @Override
        protected Backend createBackend() {
            return new CpuBackend(3, 1);
        }
    }
}
