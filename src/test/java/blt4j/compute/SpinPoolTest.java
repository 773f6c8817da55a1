package blt4j.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The cpu backend's worker pool: every chunk runs once, failures come back, nested and concurrent calls still finish. */
class SpinPoolTest {

    @Test
    void everyChunkRunsOnceAndFailuresAreRethrown() {
        SpinPool pool = new SpinPool(2, "test-", () -> {});
        try {
            for (int round = 0; round < 2000; round++) {
                AtomicIntegerArray hits = new AtomicIntegerArray(3);
                pool.run(3, hits::incrementAndGet);
                assertArrayEquals(new int[] {1, 1, 1}, new int[] {hits.get(0), hits.get(1), hits.get(2)}, "round " + round);
            }
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run(3, t -> {
                if (t == 2) {
                    throw new IllegalStateException("chunk 2 failed");
                }
            }));
            assertEquals("chunk 2 failed", e.getMessage());
            AtomicInteger after = new AtomicInteger();
            pool.run(3, t -> after.incrementAndGet());
            assertEquals(3, after.get(), "the pool works after a failure");
        } finally {
            pool.close();
        }
    }

    @Test
    void nestedAndConcurrentCallsRunTheirChunks() throws Exception {
        SpinPool pool = new SpinPool(1, "test-", () -> {});
        try {
            AtomicInteger inner = new AtomicInteger();
            pool.run(2, t -> pool.run(2, u -> inner.incrementAndGet()));
            assertEquals(4, inner.get());
            AtomicInteger total = new AtomicInteger();
            Thread other = new Thread(() -> {
                for (int i = 0; i < 500; i++) {
                    pool.run(2, t -> total.incrementAndGet());
                }
            });
            other.start();
            for (int i = 0; i < 500; i++) {
                pool.run(2, t -> total.incrementAndGet());
            }
            other.join();
            assertEquals(2000, total.get());
        } finally {
            pool.close();
        }
    }
}
