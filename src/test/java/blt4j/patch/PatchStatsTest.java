package blt4j.patch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PatchStatsTest {

    @Test
    void basic() {
        PatchStats s = PatchStats.of(new int[] {1, 1, 3, 3, 1});
        assertEquals(5, s.count());
        assertEquals(9, s.sum());
        assertEquals(1.8, s.mean(), 1e-12);
        assertEquals(1.0, s.median());
        assertEquals(3, s.max());
        assertEquals(1, s.min());
        assertArrayEquals(new long[] {0, 3, 0, 2}, s.countsByLength());
        assertArrayEquals(new long[] {3, 0, 2}, s.histogram(1, 2));
        assertArrayEquals(new long[] {3, 0, 2}, s.histogramPow2());
        assertEquals(Math.sqrt(1.2), s.standardDeviation(), 1e-12);
    }

    @Test
    void evenMedianAndMerge() {
        PatchStats s = PatchStats.of(new int[] {10, 1, 3, 2});
        assertEquals(2.5, s.median());
        assertArrayEquals(new long[] {1, 1, 1, 0, 1}, s.histogramPow2());
        s.merge(PatchStats.of(new int[] {100}));
        assertEquals(3.0, s.median());
        assertEquals(100, s.max());
        assertEquals(true, Double.isNaN(new PatchStats().median()));
    }
}
