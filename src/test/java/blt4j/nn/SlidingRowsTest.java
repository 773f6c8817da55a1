package blt4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import blt4j.backends.Backends;
import blt4j.compute.Backend;
import org.junit.jupiter.api.Test;

/** A sliding buffer keeps the rows asked for, in a fixed buffer while they fit, growing only when they do not. */
class SlidingRowsTest {
    private static final int WIDTH = 3;

    private static float[] row(int position) {
        return new float[] {position, position + 0.5f, -position};
    }

    private static void append(Backend b, SlidingRows rows, int position) {
        b.upload(row(position), 0, rows.append(1));
    }

    @Test
    void aWindowSlidesThroughAFixedBuffer() {
        try (Backend b = Backends.create("reference", 1, null)) {
            int window = 5;
            SlidingRows rows = new SlidingRows(b, 2 * window + 1, WIDTH);
            for (int p = 0; p < 1000; p++) {
                rows.reserve(1, p - window + 1);
                append(b, rows, p);
                for (int q = Math.max(0, p - window + 1); q <= p; q++) {
                    assertArrayEquals(row(q), rows.slice(q, q + 1).toHost(), "position " + q + " after " + p);
                }
            }
            assertEquals(2 * window + 1, rows.capacity(), "the buffer grew although the window fits");
            assertEquals(1000, rows.length());
            assertThrows(IllegalArgumentException.class, () -> rows.slice(0, 1), "a dropped row must not be readable");
        }
    }

    @Test
    void rowsThatMustStayMakeItGrowAndTruncateRollsBack() {
        try (Backend b = Backends.create("reference", 1, null)) {
            SlidingRows rows = new SlidingRows(b, 4, WIDTH);
            for (int p = 0; p < 37; p++) {
                rows.reserve(1, 3); // positions from 3 on must stay
                append(b, rows, p);
            }
            assertEquals(3, rows.offset());
            for (int q = 3; q < 37; q++) {
                assertArrayEquals(row(q), rows.slice(q, q + 1).toHost());
            }
            rows.truncate(20);
            rows.reserve(2, 3);
            append(b, rows, 100);
            assertArrayEquals(row(100), rows.slice(20, 21).toHost());
            assertThrows(IllegalArgumentException.class, () -> rows.truncate(2), "cannot roll back past the rows kept");
        }
    }
}
