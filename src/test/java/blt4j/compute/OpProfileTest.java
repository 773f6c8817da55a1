package blt4j.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The per-op profile ({@code --profile-ops}): calls, time and each op's own counted FLOPs, per stage. */
class OpProfileTest {

    @Test
    void eachOpGetsItsOwnFlops() {
        Backend be = new ReferenceBackend();
        Tensor a = be.zeros(7, 5), b = be.zeros(3, 5), c = be.zeros(7, 3), d = be.zeros(7, 3);
        be.matmul(a, false, b, true, c, false);   // before profiling: not in the profile
        be.setProfiling(true);
        be.setStage("s");
        be.matmul(a, false, b, true, c, false);
        be.add(c, c, d);
        be.matmul(a, false, b, true, c, true);
        be.setStage("t");
        be.add(c, d, d);
        Map<String, long[]> p = be.opTimes();
        assertEquals(3, p.size(), p.keySet().toString());
        long[] mm = p.get("s.matmul");
        assertEquals(2, mm[0]);
        assertEquals(2L * 2 * 7 * 3 * 5, mm[2], "two products of 7 × 3 × 5, 2 FLOPs per multiply-add");
        assertTrue(mm[1] > 0);
        assertEquals(1, p.get("s.add")[0]);
        assertEquals(0, p.get("s.add")[2], "an elementwise op counts no FLOPs");
        assertEquals(0, p.get("t.add")[2]);
    }

    @Test
    void resetBetweenOpsKeepsTheCountsPerOp() {
        Backend be = new ReferenceBackend();
        Tensor a = be.zeros(4, 6), b = be.zeros(6, 2), c = be.zeros(4, 2);
        be.setProfiling(true);
        be.matmul(a, false, b, false, c, false);
        be.resetFlops();
        be.matmul(a, false, b, false, c, false);
        assertEquals(2L * 2 * 4 * 2 * 6, be.opTimes().get("-.matmul")[2]);
    }
}
