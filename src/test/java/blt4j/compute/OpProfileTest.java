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

    @Test
    void byShapeSplitsTheProductsAndKeepsTheirFlops() {
        Backend be = new ReferenceBackend();
        Tensor a = be.zeros(7, 5), b = be.zeros(3, 5), c = be.zeros(7, 3), bt = be.zeros(5, 3);
        Tensor a3 = be.zeros(2, 7, 5), b3 = be.zeros(2, 5, 3), c3 = be.zeros(2, 7, 3);
        be.setProfiling(true, true);
        be.matmul(a, false, b, true, c, false);
        be.matmul(a, false, b, true, c, false);
        be.matmul(a, false, bt, false, c, true);
        be.matmul(a3, false, b3, false, c3, false);
        be.add(c, c, c);
        Map<String, long[]> p = be.opTimes();
        assertEquals(java.util.Set.of("-.matmul 7x3x5 n,t", "-.matmul 7x3x5 n,n +=", "-.matmul b2 7x3x5 n,n", "-.add"),
                p.keySet());
        assertEquals(2, p.get("-.matmul 7x3x5 n,t")[0]);
        assertEquals(2L * 2 * 7 * 3 * 5, p.get("-.matmul 7x3x5 n,t")[2]);
        assertEquals(2L * 2 * 7 * 3 * 5, p.get("-.matmul b2 7x3x5 n,n")[2], "a batch of two counts both");
        be.setProfiling(true);
        be.matmul(a, false, b, true, c, false);
        assertEquals(java.util.Set.of("-.matmul"), be.opTimes().keySet(), "plain profiling keeps one matmul row");
    }
}
