package blt4j.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Each mask kind on a case small enough to do by hand. Head dim 1 (or 2) and q = 0 make the softmax uniform over
 * the visible keys, so with v = 1, 2, 4, 8, ... every output is the mean of the visible values and tells which
 * keys a query saw.
 */
class AttentionMaskTest {
    static final double TOL = 1e-6;
    static final int EOS = 1;

    final Backend be = new ReferenceBackend();

    static int[] lo(Ranges r) {
        int[] x = new int[r.count()];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.lo(i);
        }
        return x;
    }

    static int[] hi(Ranges r) {
        int[] x = new int[r.count()];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.hi(i);
        }
        return x;
    }

    /** The device copies hold the same bounds as the host copies. */
    static void assertRanges(Ranges r, int[] lo, int[] hi) {
        assertArrayEquals(lo, lo(r), "lo");
        assertArrayEquals(hi, hi(r), "hi");
        assertArrayEquals(lo, r.lo().toHostInts(), "lo on the backend");
        assertArrayEquals(hi, r.hi().toHostInts(), "hi on the backend");
        long total = 0;
        int maxHi = 0;
        for (int i = 0; i < lo.length; i++) {
            total += hi[i] - lo[i];
            maxHi = Math.max(maxHi, hi[i]);
        }
        assertEquals(total, r.total(), "total");
        assertEquals(maxHi, r.maxHi(), "maxHi");
    }

    /** Runs attention with one head of dim 1, q = 0, k = 0 and the given v; returns the outputs. */
    float[] uniformAttention(Ranges mask, int tq, float[] v) {
        int tk = v.length;
        Tensor q = be.zeros(tq, 1);
        Tensor k = be.zeros(tk, 1);
        Tensor tv = be.fromHost(v, tk, 1);
        Tensor out = be.zeros(tq, 1);
        Tensor lse = be.zeros(1, tq);
        be.attention(q, k, tv, out, lse, mask, 1);
        float[] l = lse.toHost();
        for (int i = 0; i < tq; i++) {
            int n = mask.hi(i) - mask.lo(i);
            if (n == 0) {
                assertEquals(Float.NEGATIVE_INFINITY, l[i], "lse of an empty range");
            } else {
                assertEquals(Math.log(n), l[i], TOL, "lse of " + n + " equal scores is ln " + n);
            }
        }
        return out.toHost();
    }

    static void assertOutputs(double[] want, float[] got) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            assertFalse(Float.isNaN(got[i]), "NaN at query " + i);
            assertEquals(want[i], got[i], TOL, "query " + i);
        }
    }

    @Test
    void causal() {
        Ranges m = AttentionMask.selfAttention(be, 3, 0, null);
        assertRanges(m, new int[] {0, 0, 0}, new int[] {1, 2, 3});
        assertOutputs(new double[] {1, 1.5, 7 / 3.0}, uniformAttention(m, 3, new float[] {1, 2, 4}));
    }

    @Test
    void causalHeadDim2TwoHeads() {
        // two heads of dim 2: head 0 gets v, head 1 gets 10·v; q = 0 so each head averages its own values
        Ranges m = AttentionMask.selfAttention(be, 3, 0, null);
        float[] v = {1, -1, 10, -10, 2, -2, 20, -20, 4, -4, 40, -40};
        Tensor q = be.zeros(3, 4);
        Tensor k = be.fromHost(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 3, 4); // irrelevant when q = 0
        Tensor out = be.zeros(3, 4);
        be.attention(q, k, be.fromHost(v, 3, 4), out, be.zeros(2, 3), m, 2);
        double a = 1;
        double b = 1.5;
        double c = 7 / 3.0;
        assertOutputs(new double[] {a, -a, 10 * a, -10 * a, b, -b, 10 * b, -10 * b, c, -c, 10 * c, -10 * c}, out.toHost());
    }

    @Test
    void slidingWindowCountsTheQueryItself() {
        // window 2: query i sees i-1 and i
        Ranges m = AttentionMask.selfAttention(be, 4, 2, null);
        assertRanges(m, new int[] {0, 0, 1, 2}, new int[] {1, 2, 3, 4});
        assertOutputs(new double[] {1, 1.5, 3, 6}, uniformAttention(m, 4, new float[] {1, 2, 4, 8}));
        // window 1: only itself
        Ranges self = AttentionMask.selfAttention(be, 4, 1, null);
        assertRanges(self, new int[] {0, 1, 2, 3}, new int[] {1, 2, 3, 4});
        assertOutputs(new double[] {1, 2, 4, 8}, uniformAttention(self, 4, new float[] {1, 2, 4, 8}));
    }

    @Test
    void documentBoundaryAfterEos() {
        // tokens 5 EOS 7 8: the document ends after position 1, so query 2 sees only key 2
        boolean[] docEnd = AttentionMask.splitAfter(new int[] {5, EOS, 7, 8}, EOS);
        assertArrayEquals(new boolean[] {false, true, false, false}, docEnd);
        Ranges m = AttentionMask.selfAttention(be, 4, 0, docEnd);
        assertRanges(m, new int[] {0, 0, 2, 2}, new int[] {1, 2, 3, 4});
        assertOutputs(new double[] {1, 1.5, 4, 6}, uniformAttention(m, 4, new float[] {1, 2, 4, 8}));
    }

    @Test
    void causalWindowAndDocumentCombined() {
        // 6 tokens, EOS at 2 (documents [0,3) and [3,6)), window 2
        boolean[] docEnd = AttentionMask.splitAfter(new int[] {4, 5, EOS, 6, 7, 8}, EOS);
        Ranges m = AttentionMask.selfAttention(be, 6, 2, docEnd);
        // query 3: the window would reach key 2, but key 2 is in the previous document
        assertRanges(m, new int[] {0, 0, 1, 3, 3, 4}, new int[] {1, 2, 3, 4, 5, 6});
        assertOutputs(new double[] {1, 1.5, 3, 8, 12, 24}, uniformAttention(m, 6, new float[] {1, 2, 4, 8, 16, 32}));
    }

    @Test
    void batchedSequencesAreIndependent() {
        // two sequences of 3; EOS after position 0 of sequence 0, and at the end of sequence 0 (must not leak)
        boolean[] docEnd = {true, false, true, false, false, false};
        Ranges m = AttentionMask.batched(be, 2, 3, 0, docEnd);
        assertRanges(m, new int[] {0, 1, 1, 3, 3, 3}, new int[] {1, 2, 3, 4, 5, 6});
        assertOutputs(new double[] {1, 2, 3, 8, 12, 56 / 3.0}, uniformAttention(m, 6, new float[] {1, 2, 4, 8, 16, 32}));
        // with a window of 2 and no documents
        Ranges w = AttentionMask.batched(be, 2, 3, 2, null);
        assertRanges(w, new int[] {0, 0, 1, 3, 3, 4}, new int[] {1, 2, 3, 4, 5, 6});
        // batched equals selfAttention shifted, per sequence
        Ranges one = AttentionMask.selfAttention(be, 3, 2, null);
        for (int i = 0; i < 3; i++) {
            assertEquals(one.lo(i) + 3, w.lo(3 + i));
            assertEquals(one.hi(i) + 3, w.hi(3 + i));
        }
    }

    @Test
    void crossAttentionWithGivenRanges() {
        // 3 queries over 4 keys: [0,2), [2,4), [1,1) (empty)
        Ranges m = AttentionMask.cross(be, new int[] {0, 2, 1}, new int[] {2, 4, 1});
        assertRanges(m, new int[] {0, 2, 1}, new int[] {2, 4, 1});
        assertOutputs(new double[] {1.5, 6, 0}, uniformAttention(m, 3, new float[] {1, 2, 4, 8}));
        // hi < lo is stored as an empty range
        Ranges clamped = AttentionMask.cross(be, new int[] {3}, new int[] {1});
        assertRanges(clamped, new int[] {3}, new int[] {3});
    }

    @Test
    void nonUniformWeights() {
        // head dim 1, q = 1: scores are the keys; keys 0 and ln 3 give weights 1/4 and 3/4
        Ranges m = AttentionMask.cross(be, new int[] {0}, new int[] {2});
        Tensor out = be.zeros(1, 1);
        Tensor lse = be.zeros(1, 1);
        be.attention(be.fromHost(new float[] {1}, 1, 1), be.fromHost(new float[] {0, (float) Math.log(3)}, 2, 1),
                be.fromHost(new float[] {4, 8}, 2, 1), out, lse, m, 1);
        assertEquals(7.0, out.toHost()[0], TOL);
        assertEquals(Math.log(4), lse.toHost()[0], TOL);
    }

    @Test
    void emptyRangeGivesZeroAndNoGradient() {
        // query 1 sees nothing; its dout is the only non-zero one, so every gradient must be exactly 0
        Ranges m = AttentionMask.cross(be, new int[] {0, 2, 0}, new int[] {3, 2, 1});
        Tensor q = be.fromHost(new float[] {0.3f, -0.2f, 0.5f, 0.1f, -0.7f, 0.4f}, 3, 2);
        Tensor k = be.fromHost(new float[] {1, 2, -1, 0.5f, 0.25f, -2}, 3, 2);
        Tensor v = be.fromHost(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
        Tensor out = be.zeros(3, 2);
        Tensor lse = be.zeros(1, 3);
        be.fill(out, Float.NaN); // the kernel must overwrite even the empty row
        be.attention(q, k, v, out, lse, m, 1);
        float[] o = out.toHost();
        assertEquals(0f, o[2]);
        assertEquals(0f, o[3]);
        for (float x : o) {
            assertFalse(Float.isNaN(x));
        }
        assertEquals(Float.NEGATIVE_INFINITY, lse.toHost()[1]);

        Tensor dout = be.fromHost(new float[] {0, 0, 1, -1, 0, 0}, 3, 2);
        Tensor dq = be.zeros(3, 2);
        Tensor dk = be.zeros(3, 2);
        Tensor dv = be.zeros(3, 2);
        be.attentionBackward(dout, q, k, v, out, lse, m, dq, dk, dv, 1);
        for (Tensor g : new Tensor[] {dq, dk, dv}) {
            for (float x : g.toHost()) {
                assertEquals(0f, x, "an empty range contributes no gradient");
            }
        }
        // and with dout on the other rows, the empty row's dq stays 0 and nothing is NaN
        be.attentionBackward(be.fromHost(new float[] {1, 1, 1, 1, 1, 1}, 3, 2), q, k, v, out, lse, m, dq, dk, dv, 1);
        float[] gq = dq.toHost();
        assertEquals(0f, gq[2]);
        assertEquals(0f, gq[3]);
        for (Tensor g : new Tensor[] {dq, dk, dv}) {
            for (float x : g.toHost()) {
                assertTrue(Float.isFinite(x));
            }
        }
    }

    @Test
    void invalidRangesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ranges.of(be, new int[] {-1}, new int[] {2}));
        assertTrue(e.getMessage().contains("[-1, 2)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Ranges.of(be, new int[] {0, 1}, new int[] {1}));
        // a mask that reaches past the keys
        Ranges m = AttentionMask.selfAttention(be, 4, 0, null);
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> be.attention(be.zeros(4, 2),
                be.zeros(3, 2), be.zeros(3, 2), be.zeros(4, 2), be.zeros(1, 4), m, 1));
        assertTrue(e2.getMessage().contains("mask reaches key 4"), e2.getMessage());
        // a mask with the wrong number of rows
        IllegalArgumentException e3 = assertThrows(IllegalArgumentException.class, () -> be.attention(be.zeros(3, 2),
                be.zeros(4, 2), be.zeros(4, 2), be.zeros(3, 2), be.zeros(1, 3), m, 1));
        assertTrue(e3.getMessage().contains("mask rows"), e3.getMessage());
    }
}
