package blt4j.compute;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API vocabulary of the cpu kernels: the preferred species, a lane sum and an exp with the same bits in
 * every JIT tier, and small dot/axpy/max/exp-shift helpers over flat arrays. Only loaded when
 * {@code jdk.incubator.vector} is present.
 */
final class CpuVectorMath {
    private CpuVectorMath() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> IS = S.withLanes(int.class);
    static final int L = S.length();
    /** Shorts as many as S has floats (half its bits), for widening bfloat16 weights. */
    static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, VectorShape.forBitSize(S.vectorBitSize() / 2));

    /** dst[do .. do+n) = the fp32 values of the bfloat16 bits src[so .. so+n) (exact: a 16-bit left shift). */
    static void widenBf16(short[] src, int so, float[] dst, int doff, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            IntVector wide = (IntVector) ShortVector.fromArray(SS, src, so + i).convertShape(VectorOperators.S2I, IS, 0);
            wide.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, doff + i);
        }
        for (; i < n; i++) {
            dst[doff + i] = Float.intBitsToFloat(src[so + i] << 16);
        }
    }

    // ------------------------------------------------------------------ deterministic primitives
    //
    // Every kernel must give the same bits whether it runs interpreted, in C1 or in C2. Two Vector API operations do
    // not: reduceLanes(ADD) on floats has an unspecified order (the C2 intrinsic sums in a different order from the
    // Java fallback), and lanewise(EXP) is an SVML call in C2 but Math.exp per lane in the fallback. So lanes are
    // summed in a fixed order here and exp is our own polynomial written with exactly rounded operations only
    // (add, mul, fma, min, max, integer shifts and bit reinterpretation), which every tier computes identically.

    // lane i ↔ lane i xor d: the butterfly steps of sumLanes (null where the vector is too short for the step)
    private static final VectorShuffle<Float> XOR8 = L >= 16 ? VectorShuffle.fromOp(S, i -> i ^ 8) : null;
    private static final VectorShuffle<Float> XOR4 = L >= 8 ? VectorShuffle.fromOp(S, i -> i ^ 4) : null;
    private static final VectorShuffle<Float> XOR2 = L >= 4 ? VectorShuffle.fromOp(S, i -> i ^ 2) : null;
    private static final VectorShuffle<Float> XOR1 = L >= 2 ? VectorShuffle.fromOp(S, i -> i ^ 1) : null;

    /**
     * Σ of the lanes in a fixed tree order (lanes paired across halves, then quarters, ...): exactly rounded lane-wise
     * adds only, so every JIT tier gives the same bits (never reduceLanes(ADD), whose order depends on the JIT), in
     * log2(L) steps instead of L − 1 dependent adds.
     */
    static float sumLanes(FloatVector v) {
        if (L > 16) {
            return sumLanesInOrder(v);
        }
        // the operator is written out in each method, not passed in: lanewise with an operator that is not a
        // constant where C2 compiles it falls back to a per-lane Java loop (sharing one butterfly between sum and max
        // made generation three times slower)
        if (L >= 16) {
            v = v.add(v.rearrange(XOR8));
        }
        if (L >= 8) {
            v = v.add(v.rearrange(XOR4));
        }
        if (L >= 4) {
            v = v.add(v.rearrange(XOR2));
        }
        if (L >= 2) {
            v = v.add(v.rearrange(XOR1));
        }
        return v.lane(0);
    }

    /** The largest lane, by the same butterfly (a max is exact in any order; this is faster than reduceLanes(MAX)). */
    static float maxLanes(FloatVector v) {
        if (L > 16) {
            return v.reduceLanes(VectorOperators.MAX);
        }
        if (L >= 16) {
            v = v.max(v.rearrange(XOR8));
        }
        if (L >= 8) {
            v = v.max(v.rearrange(XOR4));
        }
        if (L >= 4) {
            v = v.max(v.rearrange(XOR2));
        }
        if (L >= 2) {
            v = v.max(v.rearrange(XOR1));
        }
        return v.lane(0);
    }

    /** Lane 0 + lane 1 + ... (for vectors wider than the butterfly covers). */
    private static float sumLanesInOrder(FloatVector v) {
        float[] t = new float[L];
        v.intoArray(t, 0);
        float s = t[0];
        for (int i = 1; i < L; i++) {
            s += t[i];
        }
        return s;
    }

    private static final float EXP_HI = 89f;
    private static final float EXP_LO = -104f;
    private static final float LOG2E = 1.44269504088896341f;
    /** 1.5·2²³: adding it rounds to an integer, which then sits in the low mantissa bits. */
    private static final float MAGIC = 12582912f;
    private static final int MAGIC_BITS = Float.floatToRawIntBits(MAGIC);
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float E0 = 1.9875691500e-4f, E1 = 1.3981999507e-3f, E2 = 8.3334519073e-3f,
            E3 = 4.1665795894e-2f, E4 = 1.6666665459e-1f, E5 = 5.0000001201e-1f;

    /**
     * e^x per lane, within about 1 ulp of the true value (Cephes expf): n = round(x·log2 e), r = x − n·ln 2 (two
     * parts), e^r by a degree-7 polynomial, times 2^n built from exponent bits in two halves (so subnormal results
     * and overflow to +∞ come out right). NaN stays NaN; x ≥ 89 gives +∞, x ≤ −104 gives 0.
     */
    static FloatVector exp(FloatVector x) {
        x = x.min(EXP_HI).max(EXP_LO);
        FloatVector t = x.fma(LOG2E, MAGIC);
        FloatVector n = t.sub(MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(E0, E1).fma(r, FloatVector.broadcast(S, E2)).fma(r, FloatVector.broadcast(S, E3))
                .fma(r, FloatVector.broadcast(S, E4)).fma(r, FloatVector.broadcast(S, E5));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        IntVector ni = ((IntVector) t.reinterpretAsInts()).sub(MAGIC_BITS);
        IntVector e1 = ni.lanewise(VectorOperators.ASHR, 1);
        IntVector e2 = ni.sub(e1);
        FloatVector s1 = (FloatVector) e1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = (FloatVector) e2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(s1).mul(s2);
    }

    /** Below this e^x is under the smallest normal float: {@link #expSoftmax} gives 0 there. */
    private static final float SOFTMAX_LO = -87.3f;

    /**
     * e^x for the arguments of a softmax or a log-sum-exp (x − max, at most a rounding above 0): {@link #exp}'s
     * polynomial with 2^n built in one step, so results below 2^−126 (x < −87.3) are 0 rather than subnormal, a
     * difference of less than 1.2e−38 per term. No upper clamp (such arguments never exceed a rounding above 0; a NaN
     * stays NaN), and the lower one by compare and blend: Java's min and max, which order −0 before 0 and propagate
     * NaN, cost several instructions each on x86, about a tenth of an attention tile.
     */
    static FloatVector expSoftmax(FloatVector x) {
        VectorMask<Float> under = x.compare(VectorOperators.LT, SOFTMAX_LO);
        x = x.blend(SOFTMAX_LO, under);
        FloatVector t = x.fma(LOG2E, MAGIC);
        FloatVector n = t.sub(MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(E0, E1).fma(r, FloatVector.broadcast(S, E2)).fma(r, FloatVector.broadcast(S, E3))
                .fma(r, FloatVector.broadcast(S, E4)).fma(r, FloatVector.broadcast(S, E5));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        IntVector ni = ((IntVector) t.reinterpretAsInts()).sub(MAGIC_BITS - 127);
        FloatVector scale = (FloatVector) ni.lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(scale).blend(0f, under);
    }

    /** The largest of x[xo .. xo+n) (ignoring NaN), by compare and blend on two running vectors (see expSoftmax). */
    static float maxOf(float[] x, int xo, int n) {
        FloatVector v0 = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        FloatVector v1 = v0;
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            FloatVector a = FloatVector.fromArray(S, x, xo + i);
            FloatVector b = FloatVector.fromArray(S, x, xo + i + L);
            v0 = v0.blend(a, a.compare(VectorOperators.GT, v0));
            v1 = v1.blend(b, b.compare(VectorOperators.GT, v1));
        }
        if (i + L <= n) {
            FloatVector a = FloatVector.fromArray(S, x, xo + i);
            v0 = v0.blend(a, a.compare(VectorOperators.GT, v0));
            i += L;
        }
        if (i < n) {
            VectorMask<Float> tail = S.indexInRange(i, n);
            FloatVector b = FloatVector.fromArray(S, x, xo + i, tail);
            v1 = v1.blend(b, b.compare(VectorOperators.GT, v1).and(tail));
        }
        v0 = v0.blend(v1, v1.compare(VectorOperators.GT, v0));
        return maxLanes(v0);
    }

    /** The same e^x on one float, operation for operation (so scalar tails equal the vector lanes bit for bit). */
    static float exp(float x) {
        x = Math.max(Math.min(x, EXP_HI), EXP_LO);
        float t = Math.fma(x, LOG2E, MAGIC);
        float n = t - MAGIC;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, E0, E1);
        p = Math.fma(p, r, E2);
        p = Math.fma(p, r, E3);
        p = Math.fma(p, r, E4);
        p = Math.fma(p, r, E5);
        float y = Math.fma(p, r * r, r) + 1f;
        int ni = Float.floatToRawIntBits(t) - MAGIC_BITS;
        int e1 = ni >> 1;
        int e2 = ni - e1;
        return y * Float.intBitsToFloat((e1 + 127) << 23) * Float.intBitsToFloat((e2 + 127) << 23);
    }

    /** Natural log for per-row results (StrictMath: the same bits in every JIT tier and on every JVM). */
    static float log(float x) {
        return (float) StrictMath.log(x);
    }

    // ------------------------------------------------------------------ small vector helpers

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        FloatVector s0 = FloatVector.zero(S);
        FloatVector s1 = FloatVector.zero(S);
        for (; i + 2 * L <= n; i += 2 * L) {
            s0 = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), s0);
            s1 = FloatVector.fromArray(S, a, ao + i + L).fma(FloatVector.fromArray(S, b, bo + i + L), s1);
        }
        for (; i + L <= n; i += L) {
            s0 = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), s0);
        }
        float s = sumLanes(s0.add(s1));
        for (; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    /** y[yo..] += alpha · x[xo..]. */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector va = FloatVector.broadcast(S, alpha);
        for (; i + L <= n; i += L) {
            va.fma(FloatVector.fromArray(S, x, xo + i), FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] += alpha * x[xo + i];
        }
    }

    /** The largest of x[xo .. xo+n); see {@link #maxOf}. */
    static float max(float[] x, int xo, int n) {
        return maxOf(x, xo, n);
    }

    /** out[oo+i] = exp(x[xo+i] − shift); returns the sum. out may alias x. */
    static float expShift(float[] x, int xo, float[] out, int oo, int n, float shift) {
        int i = 0;
        FloatVector vs = FloatVector.broadcast(S, shift);
        FloatVector acc = FloatVector.zero(S);
        for (; i + L <= n; i += L) {
            FloatVector e = exp(FloatVector.fromArray(S, x, xo + i).sub(vs));
            e.intoArray(out, oo + i);
            acc = acc.add(e);
        }
        float sum = sumLanes(acc);
        for (; i < n; i++) {
            float e = exp(x[xo + i] - shift);
            out[oo + i] = e;
            sum += e;
        }
        return sum;
    }

    /** Σ exp(x − shift). */
    static float expShiftSum(float[] x, int xo, int n, float shift) {
        int i = 0;
        FloatVector vs = FloatVector.broadcast(S, shift);
        FloatVector acc = FloatVector.zero(S);
        for (; i + L <= n; i += L) {
            acc = acc.add(exp(FloatVector.fromArray(S, x, xo + i).sub(vs)));
        }
        float sum = sumLanes(acc);
        for (; i < n; i++) {
            sum += exp(x[xo + i] - shift);
        }
        return sum;
    }

    static void zero(float[] x, int xo, int n) {
        Arrays.fill(x, xo, xo + n, 0f);
    }
}
