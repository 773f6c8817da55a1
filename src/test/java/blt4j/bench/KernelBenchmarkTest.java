package blt4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class KernelBenchmarkTest {

    @Test
    void medianConfidenceIntervalUsesOrderStatistics() {
        double[] s = new double[20];
        for (int i = 0; i < s.length; i++) {
            s[i] = 20 - i;
        }
        double[] ci = KernelBenchmark.medianCi(s);
        // n = 20: x(6)..x(15) (1-based) covers 95.9%
        assertEquals(6.0, ci[0]);
        assertEquals(15.0, ci[1]);
        assertTrue(ci[2] >= 0.95 && ci[2] < 0.97, "coverage " + ci[2]);
        double[] few = KernelBenchmark.medianCi(new double[] {3, 1, 2});
        assertEquals(1.0, few[0]);
        assertEquals(3.0, few[1]);
        assertTrue(few[2] < 0.95);
    }
}
