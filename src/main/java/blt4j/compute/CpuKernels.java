package blt4j.compute;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels of {@link CpuBackend}: static methods over flat arrays, each one small and called many times
 * (so the JIT compiles it fully instead of leaving one huge loop interpreted). Every method works on an index range
 * so the backend can split the work over threads. Only loaded when {@code jdk.incubator.vector} is present.
 */
final class CpuKernels {
    private CpuKernels() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> IS = S.withLanes(int.class);
    static final int L = S.length();

    // ------------------------------------------------------------------ deterministic primitives
    //
    // Every kernel must give the same bits whether it runs interpreted, in C1 or in C2. Two Vector API operations do
    // not: reduceLanes(ADD) on floats has an unspecified order (the C2 intrinsic sums in a different order from the
    // Java fallback), and lanewise(EXP) is an SVML call in C2 but Math.exp per lane in the fallback. So lanes are
    // summed in a fixed order here and exp is our own polynomial written with exactly rounded operations only
    // (add, mul, fma, min, max, integer shifts and bit reinterpretation), which every tier computes identically.

    /** Σ of the lanes in a fixed order: lane 0 + lane 1 + ... (never reduceLanes(ADD), whose order depends on the JIT). */
    static float sumLanes(FloatVector v) {
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

    static float max(float[] x, int xo, int n) {
        int i = 0;
        float m = Float.NEGATIVE_INFINITY;
        if (n >= L) {
            FloatVector vm = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; i + L <= n; i += L) {
                vm = vm.max(FloatVector.fromArray(S, x, xo + i));
            }
            m = vm.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) {
            m = Math.max(m, x[xo + i]);
        }
        return m;
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

    static void scaleInPlace(float[] x, int xo, int n, float s) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(S, x, xo + i).mul(s).intoArray(x, xo + i);
        }
        for (; i < n; i++) {
            x[xo + i] *= s;
        }
    }

    static void zero(float[] x, int xo, int n) {
        java.util.Arrays.fill(x, xo, xo + n, 0f);
    }

    // ------------------------------------------------------------------ elementwise

    static void add(float[] a, int ao, float[] b, int bo, float[] out, int oo, int from, int to) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector.fromArray(S, a, ao + i).add(FloatVector.fromArray(S, b, bo + i)).intoArray(out, oo + i);
        }
        for (; i < to; i++) {
            out[oo + i] = a[ao + i] + b[bo + i];
        }
    }

    static void axpyRange(float alpha, float[] x, int xo, float[] y, int yo, int from, int to) {
        axpy(alpha, x, xo + from, y, yo + from, to - from);
    }

    static void scale(float[] x, int xo, float s, float[] out, int oo, int from, int to) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector.fromArray(S, x, xo + i).mul(s).intoArray(out, oo + i);
        }
        for (; i < to; i++) {
            out[oo + i] = s * x[xo + i];
        }
    }

    private static final FloatVector ONE = FloatVector.broadcast(S, 1f);

    private static FloatVector sigmoid(FloatVector x) {
        // 1 / (1 + exp(-x)); exp overflow gives +inf and a clean 0
        return ONE.div(exp(x.neg()).add(1f));
    }

    private static float sigmoid(float x) {
        return 1f / (1f + exp(-x));
    }

    static void swiglu(float[] gate, int gto, float[] up, int uo, float[] out, int oo, int from, int to) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector v = FloatVector.fromArray(S, gate, gto + i);
            v.mul(sigmoid(v)).mul(FloatVector.fromArray(S, up, uo + i)).intoArray(out, oo + i);
        }
        for (; i < to; i++) {
            float v = gate[gto + i];
            out[oo + i] = v * sigmoid(v) * up[uo + i];
        }
    }

    static void swigluBackward(float[] dout, int go, float[] gate, int gto, float[] up, int uo,
                               float[] dgate, int dgo, float[] dup, int duo, int from, int to) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector gv = FloatVector.fromArray(S, gate, gto + i);
            FloatVector sg = sigmoid(gv);
            FloatVector d = FloatVector.fromArray(S, dout, go + i);
            FloatVector dsilu = sg.mul(gv.mul(sg.neg().add(1f)).add(1f));
            d.mul(FloatVector.fromArray(S, up, uo + i)).fma(dsilu, FloatVector.fromArray(S, dgate, dgo + i)).intoArray(dgate, dgo + i);
            d.fma(gv.mul(sg), FloatVector.fromArray(S, dup, duo + i)).intoArray(dup, duo + i);
        }
        for (; i < to; i++) {
            float g = gate[gto + i];
            float sg = sigmoid(g);
            float d = dout[go + i];
            dgate[dgo + i] += d * up[uo + i] * sg * (1f + g * (1f - sg));
            dup[duo + i] += d * g * sg;
        }
    }

    static void adamw(float[] p, int po, float[] g, int go, float[] m, int mo, float[] v, int vo, int from, int to,
                      float lr, float beta1, float beta2, float eps, float wd, float bc1, float bc2) {
        int i = from;
        float decay = 1f - lr * wd;
        float step = lr / bc1;
        float invBc2 = 1f / bc2;
        for (; i + L <= to; i += L) {
            FloatVector grad = FloatVector.fromArray(S, g, go + i);
            FloatVector mi = FloatVector.fromArray(S, m, mo + i).mul(beta1).add(grad.mul(1f - beta1));
            FloatVector vi = FloatVector.fromArray(S, v, vo + i).mul(beta2).add(grad.mul(1f - beta2).mul(grad));
            mi.intoArray(m, mo + i);
            vi.intoArray(v, vo + i);
            FloatVector denom = vi.mul(invBc2).sqrt().add(eps);
            FloatVector.fromArray(S, p, po + i).mul(decay).sub(mi.mul(step).div(denom)).intoArray(p, po + i);
        }
        for (; i < to; i++) {
            float grad = g[go + i];
            float param = p[po + i] * decay;
            float mi = beta1 * m[mo + i] + (1f - beta1) * grad;
            float vi = beta2 * v[vo + i] + (1f - beta2) * grad * grad;
            m[mo + i] = mi;
            v[vo + i] = vi;
            p[po + i] = param - step * mi / ((float) Math.sqrt(vi / bc2) + eps);
        }
    }

    /** Σ x² over [from, to), float lanes reduced into a double. */
    static double sumOfSquares(float[] x, int xo, int from, int to) {
        int i = from;
        FloatVector acc = FloatVector.zero(S);
        for (; i + L <= to; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            acc = v.fma(v, acc);
        }
        double s = sumLanes(acc);
        for (; i < to; i++) {
            s += (double) x[xo + i] * x[xo + i];
        }
        return s;
    }

    // ------------------------------------------------------------------ row-wise ops

    static void rmsNormRow(float[] x, int xrow, float[] w, int wo, float[] out, int orow, float[] rstd, int ri, int d, float eps) {
        float ss = dot(x, xrow, x, xrow, d);
        float s = (float) (1.0 / Math.sqrt(ss / d + eps));
        rstd[ri] = s;
        int c = 0;
        for (; c + L <= d; c += L) {
            FloatVector.fromArray(S, x, xrow + c).mul(s).mul(FloatVector.fromArray(S, w, wo + c)).intoArray(out, orow + c);
        }
        for (; c < d; c++) {
            out[orow + c] = x[xrow + c] * s * w[wo + c];
        }
    }

    static void rmsNormBackwardRow(float[] g, int grow, float[] x, int xrow, float[] w, int wo, float s,
                                   float[] dx, int dxrow, int d) {
        int c = 0;
        FloatVector acc = FloatVector.zero(S);
        for (; c + L <= d; c += L) {
            acc = FloatVector.fromArray(S, g, grow + c).mul(FloatVector.fromArray(S, w, wo + c))
                    .fma(FloatVector.fromArray(S, x, xrow + c), acc);
        }
        float dot = sumLanes(acc);
        for (; c < d; c++) {
            dot += g[grow + c] * w[wo + c] * x[xrow + c];
        }
        float coef = dot * s * s * s / d;
        c = 0;
        for (; c + L <= d; c += L) {
            FloatVector gw = FloatVector.fromArray(S, g, grow + c).mul(FloatVector.fromArray(S, w, wo + c)).mul(s);
            FloatVector r = gw.sub(FloatVector.fromArray(S, x, xrow + c).mul(coef));
            FloatVector.fromArray(S, dx, dxrow + c).add(r).intoArray(dx, dxrow + c);
        }
        for (; c < d; c++) {
            dx[dxrow + c] += g[grow + c] * w[wo + c] * s - x[xrow + c] * coef;
        }
    }

    /** dw[c] += Σ_r g[r,c]·x[r,c]·rstd[r] for columns [c0, c1). */
    static void rmsNormDw(float[] g, int go, float[] x, int xo, float[] rstd, int ro, float[] dw, int dwo,
                          int rows, int d, int c0, int c1) {
        int c = c0;
        for (; c + L <= c1; c += L) {
            FloatVector acc = FloatVector.zero(S);
            for (int r = 0; r < rows; r++) {
                acc = FloatVector.fromArray(S, g, go + r * d + c).mul(FloatVector.fromArray(S, x, xo + r * d + c))
                        .fma(FloatVector.broadcast(S, rstd[ro + r]), acc);
            }
            FloatVector.fromArray(S, dw, dwo + c).add(acc).intoArray(dw, dwo + c);
        }
        for (; c < c1; c++) {
            float sum = 0f;
            for (int r = 0; r < rows; r++) {
                sum += g[go + r * d + c] * x[xo + r * d + c] * rstd[ro + r];
            }
            dw[dwo + c] += sum;
        }
    }

    static float logSumExp(float[] x, int xrow, int cols) {
        float m = max(x, xrow, cols);
        return m + log(expShiftSum(x, xrow, cols, m));
    }

    /** dl[c] += f·exp(x[c] − lse). */
    static void ceBackwardRow(float[] x, int xrow, float lse, float f, float[] dl, int dlrow, int cols) {
        int c = 0;
        FloatVector vl = FloatVector.broadcast(S, lse);
        for (; c + L <= cols; c += L) {
            FloatVector p = exp(FloatVector.fromArray(S, x, xrow + c).sub(vl));
            p.fma(FloatVector.broadcast(S, f), FloatVector.fromArray(S, dl, dlrow + c)).intoArray(dl, dlrow + c);
        }
        for (; c < cols; c++) {
            dl[dlrow + c] += f * exp(x[xrow + c] - lse);
        }
    }

    static float entropyRow(float[] x, int xrow, int cols) {
        float m = max(x, xrow, cols);
        int c = 0;
        FloatVector vm = FloatVector.broadcast(S, m);
        FloatVector z = FloatVector.zero(S);
        FloatVector ws = FloatVector.zero(S);
        for (; c + L <= cols; c += L) {
            FloatVector sh = FloatVector.fromArray(S, x, xrow + c).sub(vm);
            FloatVector e = exp(sh);
            z = z.add(e);
            ws = e.fma(sh, ws);
        }
        float zs = sumLanes(z);
        float wsum = sumLanes(ws);
        for (; c < cols; c++) {
            float sh = x[xrow + c] - m;
            float e = exp(sh);
            zs += e;
            wsum += e * sh;
        }
        return log(zs) - wsum / zs;
    }

    /** out[orow..] = src[srow..] (or +=), d elements. */
    static void copyRow(float[] src, int srow, float[] out, int orow, int d, boolean acc) {
        if (!acc) {
            System.arraycopy(src, srow, out, orow, d);
            return;
        }
        int c = 0;
        for (; c + L <= d; c += L) {
            FloatVector.fromArray(S, src, srow + c).add(FloatVector.fromArray(S, out, orow + c)).intoArray(out, orow + c);
        }
        for (; c < d; c++) {
            out[orow + c] += src[srow + c];
        }
    }

    // ------------------------------------------------------------------ RoPE

    private static final int[] SWAP = new int[L];
    static {
        for (int i = 0; i < L; i++) {
            SWAP[i] = i ^ 1;
        }
    }
    private static final VectorShuffle<Float> SWAP_SHUFFLE = VectorShuffle.fromArray(S, SWAP, 0);

    /**
     * Rotary embedding of one row, all heads: the position's (cos, sin) pairs are spread once into cs = [c0, c0, c1,
     * c1, ...] and sn = [−s0, s0, −s1, s1, ...] (sn negated for the backward), then every head is x·cs + swap(x)·sn
     * with plain vector loads (no gathers). out may alias x; backward adds into out.
     */
    static void ropeRow(float[] x, int xa, float[] cos, int cso, float[] sin, int sso, float[] out, int oa, int nHeads,
                        int headDim, boolean backward, float[] cs, float[] sn) {
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            float c = cos[cso + i];
            float s = sin[sso + i];
            cs[2 * i] = c;
            cs[2 * i + 1] = c;
            sn[2 * i] = backward ? s : -s;
            sn[2 * i + 1] = backward ? -s : s;
        }
        for (int h = 0; h < nHeads; h++) {
            int xh = xa + h * headDim;
            int oh = oa + h * headDim;
            int d = 0;
            if (L >= 2) {
                for (; d + L <= headDim; d += L) {
                    FloatVector xv = FloatVector.fromArray(S, x, xh + d);
                    FloatVector r = xv.mul(FloatVector.fromArray(S, cs, d))
                            .add(xv.rearrange(SWAP_SHUFFLE).mul(FloatVector.fromArray(S, sn, d)));
                    if (backward) {
                        r = r.add(FloatVector.fromArray(S, out, oh + d));
                    }
                    r.intoArray(out, oh + d);
                }
            }
            for (; d < headDim; d += 2) {
                float x0 = x[xh + d];
                float x1 = x[xh + d + 1];
                float r0 = x0 * cs[d] + x1 * sn[d];
                float r1 = x1 * cs[d + 1] + x0 * sn[d + 1];
                if (backward) {
                    out[oh + d] += r0;
                    out[oh + d + 1] += r1;
                } else {
                    out[oh + d] = r0;
                    out[oh + d + 1] = r1;
                }
            }
        }
    }

    // ------------------------------------------------------------------ segment max

    /** Columns [c0, c1) of one segment [from, to) of x [rows, d]. */
    static void segmentMaxSeg(float[] x, int xo, int from, int to, float[] out, int orow, int[] arg, int arow, int d) {
        if (to <= from) {
            java.util.Arrays.fill(out, orow, orow + d, 0f);
            java.util.Arrays.fill(arg, arow, arow + d, -1);
            return;
        }
        int c = 0;
        for (; c + L <= d; c += L) {
            FloatVector best = FloatVector.fromArray(S, x, xo + from * d + c);
            IntVector bi = IntVector.broadcast(IS, from);
            for (int r = from + 1; r < to; r++) {
                FloatVector v = FloatVector.fromArray(S, x, xo + r * d + c);
                VectorMask<Float> gt = v.compare(VectorOperators.GT, best);
                best = best.blend(v, gt);
                bi = bi.blend(IntVector.broadcast(IS, r), gt.cast(IS));
            }
            best.intoArray(out, orow + c);
            bi.intoArray(arg, arow + c);
        }
        for (; c < d; c++) {
            float b = x[xo + from * d + c];
            int a = from;
            for (int r = from + 1; r < to; r++) {
                float v = x[xo + r * d + c];
                if (v > b) {
                    b = v;
                    a = r;
                }
            }
            out[orow + c] = b;
            arg[arow + c] = a;
        }
    }

    // ------------------------------------------------------------------ attention

    /** Forward of one (head, query); returns the log-sum-exp (−∞ when the range is empty, output 0). */
    static float attentionRow(float[] q, int qrow, float[] k, int kbase, float[] v, int vbase, float[] out, int orow,
                              int width, int headDim, int from, int to, float scale, float[] sbuf) {
        zero(out, orow, headDim);
        if (to <= from) {
            return Float.NEGATIVE_INFINITY;
        }
        int n = to - from;
        for (int j = 0; j < n; j++) {
            sbuf[j] = dot(q, qrow, k, kbase + (from + j) * width, headDim) * scale;
        }
        float m = max(sbuf, 0, n);
        float sum = expShift(sbuf, 0, sbuf, 0, n, m);
        for (int j = 0; j < n; j++) {
            axpy(sbuf[j], v, vbase + (from + j) * width, out, orow, headDim);
        }
        scaleInPlace(out, orow, headDim, 1f / sum);
        return m + log(sum);
    }

    /** Keys per packed block of K: four vectors, so one query's scores for a block stay in registers. */
    static final int KB = 4 * L;

    /** Packs head h's keys into blocks kt[((h·nkb + jb)·D + d)·KB + jj] = k[(jb·KB + jj)·width + h·D + d], zero-padded. */
    static void packKeys(float[] k, int ko, int width, int headDim, int tk, int h, int jb, int nkb, float[] kt) {
        packBlock(k, ko, width, headDim, tk, h, jb, nkb, KB, kt);
    }

    /** s[so .. so+KB) = scale · q·k for the KB keys of one packed block (no horizontal reductions). */
    static void scoreBlock(float[] q, int qrow, float[] kt, int kb, int headDim, float scale, float[] s, int so) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        for (int d = 0; d < headDim; d++) {
            FloatVector qd = FloatVector.broadcast(S, q[qrow + d]);
            int at = kb + d * KB;
            a0 = FloatVector.fromArray(S, kt, at).fma(qd, a0);
            a1 = FloatVector.fromArray(S, kt, at + L).fma(qd, a1);
            a2 = FloatVector.fromArray(S, kt, at + 2 * L).fma(qd, a2);
            a3 = FloatVector.fromArray(S, kt, at + 3 * L).fma(qd, a3);
        }
        a0.mul(scale).intoArray(s, so);
        a1.mul(scale).intoArray(s, so + L);
        a2.mul(scale).intoArray(s, so + 2 * L);
        a3.mul(scale).intoArray(s, so + 3 * L);
    }

    /** out[orow + d] = f · Σ_j p[po + j] · v[vrow + j·width + d], accumulators kept in registers over all keys. */
    static void weightedSum(float[] p, int po, int n, float[] v, int vrow, int width, float[] out, int orow, int headDim, float f,
                            boolean acc) {
        int c = 0;
        for (; c + 4 * L <= headDim; c += 4 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
            for (int j = 0; j < n; j++) {
                FloatVector pj = FloatVector.broadcast(S, p[po + j]);
                int at = vrow + j * width + c;
                a0 = FloatVector.fromArray(S, v, at).fma(pj, a0);
                a1 = FloatVector.fromArray(S, v, at + L).fma(pj, a1);
                a2 = FloatVector.fromArray(S, v, at + 2 * L).fma(pj, a2);
                a3 = FloatVector.fromArray(S, v, at + 3 * L).fma(pj, a3);
            }
            put(a0.mul(f), out, orow + c, acc);
            put(a1.mul(f), out, orow + c + L, acc);
            put(a2.mul(f), out, orow + c + 2 * L, acc);
            put(a3.mul(f), out, orow + c + 3 * L, acc);
        }
        for (; c + L <= headDim; c += L) {
            FloatVector a0 = FloatVector.zero(S);
            for (int j = 0; j < n; j++) {
                a0 = FloatVector.fromArray(S, v, vrow + j * width + c).fma(FloatVector.broadcast(S, p[po + j]), a0);
            }
            put(a0.mul(f), out, orow + c, acc);
        }
        for (; c < headDim; c++) {
            float sum = 0f;
            for (int j = 0; j < n; j++) {
                sum += p[po + j] * v[vrow + j * width + c];
            }
            out[orow + c] = acc ? out[orow + c] + sum * f : sum * f;
        }
    }

    private static void put(FloatVector x, float[] out, int at, boolean acc) {
        (acc ? x.add(FloatVector.fromArray(S, out, at)) : x).intoArray(out, at);
    }

    /**
     * Forward of two queries of one head on packed keys, sharing every load of K and V: scores over the union of the
     * two ranges (whole packed blocks where the union covers them, single vectors of keys at its edges), a softmax per
     * query over its own range (zeros elsewhere in the union), one weighted sum for both. Both ranges must be
     * non-empty. Writes the two log-sum-exps to lse[l0], lse[l1].
     */
    static void attentionPairPacked(float[] q, int qrow0, int qrow1, float[] kt, int kbase, int headDim, float[] v, int vbase,
                                    float[] out, int orow0, int orow1, int width, int a0, int b0, int a1, int b1, float scale,
                                    float[] lse, int l0, int l1, float[] s0, float[] s1) {
        int lo = Math.min(a0, a1), hi = Math.max(b0, b1);
        int base = (lo / L) * L;
        int end = (hi + L - 1) / L * L;
        for (int j = base; j < end; ) {
            int blk = kbase + (j / KB) * headDim * KB;
            if (j % KB == 0 && j + KB <= end) {
                scoreBlock2(q, qrow0, qrow1, kt, blk, headDim, scale, s0, s1, j - base);
                j += KB;
            } else {
                scoreVec2(q, qrow0, qrow1, kt, blk + (j % KB), headDim, scale, s0, s1, j - base);
                j += L;
            }
        }
        int n = hi - lo;
        int off = lo - base;
        float m0 = max(s0, off + a0 - lo, b0 - a0);
        float m1 = max(s1, off + a1 - lo, b1 - a1);
        float sum0 = expShift(s0, off + a0 - lo, s0, off + a0 - lo, b0 - a0, m0);
        float sum1 = expShift(s1, off + a1 - lo, s1, off + a1 - lo, b1 - a1, m1);
        zero(s0, off, a0 - lo);
        zero(s0, off + b0 - lo, hi - b0);
        zero(s1, off, a1 - lo);
        zero(s1, off + b1 - lo, hi - b1);
        weightedSum2(s0, s1, off, n, v, vbase + lo * width, width, out, orow0, orow1, headDim, 1f / sum0, 1f / sum1);
        lse[l0] = m0 + log(sum0);
        lse[l1] = m1 + log(sum1);
    }

    /** scoreBlock for two queries at once (8 accumulators, each K load used twice). */
    static void scoreBlock2(float[] q, int qa, int qb, float[] kt, int kb, int headDim, float scale, float[] s, float[] t, int so) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S), c2 = FloatVector.zero(S), c3 = FloatVector.zero(S);
        for (int d = 0; d < headDim; d++) {
            FloatVector qd = FloatVector.broadcast(S, q[qa + d]);
            FloatVector pd = FloatVector.broadcast(S, q[qb + d]);
            int at = kb + d * KB;
            FloatVector k0 = FloatVector.fromArray(S, kt, at);
            a0 = k0.fma(qd, a0);
            c0 = k0.fma(pd, c0);
            FloatVector k1 = FloatVector.fromArray(S, kt, at + L);
            a1 = k1.fma(qd, a1);
            c1 = k1.fma(pd, c1);
            FloatVector k2 = FloatVector.fromArray(S, kt, at + 2 * L);
            a2 = k2.fma(qd, a2);
            c2 = k2.fma(pd, c2);
            FloatVector k3 = FloatVector.fromArray(S, kt, at + 3 * L);
            a3 = k3.fma(qd, a3);
            c3 = k3.fma(pd, c3);
        }
        a0.mul(scale).intoArray(s, so);
        a1.mul(scale).intoArray(s, so + L);
        a2.mul(scale).intoArray(s, so + 2 * L);
        a3.mul(scale).intoArray(s, so + 3 * L);
        c0.mul(scale).intoArray(t, so);
        c1.mul(scale).intoArray(t, so + L);
        c2.mul(scale).intoArray(t, so + 2 * L);
        c3.mul(scale).intoArray(t, so + 3 * L);
    }

    /** One vector of L keys (at kv inside a packed block, row stride KB) against two queries. */
    static void scoreVec2(float[] q, int qa, int qb, float[] kt, int kv, int headDim, float scale, float[] s, float[] t, int so) {
        FloatVector a0 = FloatVector.zero(S), c0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S), c1 = FloatVector.zero(S);
        int d = 0;
        for (; d + 2 <= headDim; d += 2) {
            FloatVector k0 = FloatVector.fromArray(S, kt, kv + d * KB);
            FloatVector k1 = FloatVector.fromArray(S, kt, kv + (d + 1) * KB);
            a0 = k0.fma(FloatVector.broadcast(S, q[qa + d]), a0);
            c0 = k0.fma(FloatVector.broadcast(S, q[qb + d]), c0);
            a1 = k1.fma(FloatVector.broadcast(S, q[qa + d + 1]), a1);
            c1 = k1.fma(FloatVector.broadcast(S, q[qb + d + 1]), c1);
        }
        if (d < headDim) {
            FloatVector k0 = FloatVector.fromArray(S, kt, kv + d * KB);
            a0 = k0.fma(FloatVector.broadcast(S, q[qa + d]), a0);
            c0 = k0.fma(FloatVector.broadcast(S, q[qb + d]), c0);
        }
        a0.add(a1).mul(scale).intoArray(s, so);
        c0.add(c1).mul(scale).intoArray(t, so);
    }

    /** weightedSum for two probability rows over the same keys (each V load used twice); out rows overwritten. */
    static void weightedSum2(float[] p, float[] r, int po, int n, float[] v, int vrow, int width, float[] out, int oa, int ob,
                             int headDim, float fa, float fb) {
        int c = 0;
        for (; c + 2 * L <= headDim; c += 2 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
            FloatVector b0 = FloatVector.zero(S), b1 = FloatVector.zero(S);
            for (int j = 0; j < n; j++) {
                FloatVector pj = FloatVector.broadcast(S, p[po + j]);
                FloatVector rj = FloatVector.broadcast(S, r[po + j]);
                int at = vrow + j * width + c;
                FloatVector v0 = FloatVector.fromArray(S, v, at);
                FloatVector v1 = FloatVector.fromArray(S, v, at + L);
                a0 = v0.fma(pj, a0);
                a1 = v1.fma(pj, a1);
                b0 = v0.fma(rj, b0);
                b1 = v1.fma(rj, b1);
            }
            a0.mul(fa).intoArray(out, oa + c);
            a1.mul(fa).intoArray(out, oa + c + L);
            b0.mul(fb).intoArray(out, ob + c);
            b1.mul(fb).intoArray(out, ob + c + L);
        }
        for (; c + L <= headDim; c += L) {
            FloatVector a0 = FloatVector.zero(S), b0 = FloatVector.zero(S);
            for (int j = 0; j < n; j++) {
                FloatVector v0 = FloatVector.fromArray(S, v, vrow + j * width + c);
                a0 = v0.fma(FloatVector.broadcast(S, p[po + j]), a0);
                b0 = v0.fma(FloatVector.broadcast(S, r[po + j]), b0);
            }
            a0.mul(fa).intoArray(out, oa + c);
            b0.mul(fb).intoArray(out, ob + c);
        }
        for (; c < headDim; c++) {
            float sa = 0f, sb = 0f;
            for (int j = 0; j < n; j++) {
                float x = v[vrow + j * width + c];
                sa += p[po + j] * x;
                sb += r[po + j] * x;
            }
            out[oa + c] = sa * fa;
            out[ob + c] = sb * fb;
        }
    }

    /**
     * Forward of one (head, query) on packed keys: scores block by block, softmax, weighted sum of values.
     * kbase is the head's first packed block; vbase the head's column offset in v. Returns the log-sum-exp.
     */
    static float attentionRowPacked(float[] q, int qrow, float[] kt, int kbase, int headDim, float[] v, int vbase,
                                    float[] out, int orow, int width, int from, int to, float scale, float[] sbuf) {
        if (to <= from) {
            zero(out, orow, headDim);
            return Float.NEGATIVE_INFINITY;
        }
        int b0 = from / KB;
        int b1 = (to - 1) / KB;
        for (int jb = b0; jb <= b1; jb++) {
            scoreBlock(q, qrow, kt, kbase + jb * headDim * KB, headDim, scale, sbuf, (jb - b0) * KB);
        }
        int so = from - b0 * KB;
        int n = to - from;
        float m = max(sbuf, so, n);
        float sum = expShift(sbuf, so, sbuf, so, n, m);
        weightedSum(sbuf, so, n, v, vbase + from * width, width, out, orow, headDim, 1f / sum, false);
        return m + log(sum);
    }

    // ------------------------------------------------------------------ attention backward, by key blocks

    /** Packs head h's keys into blocks of blk: kt[((h·nkb + jb)·D + d)·blk + jj] = k[(jb·blk + jj)·width + h·D + d], zero-padded. */
    static void packBlock(float[] k, int ko, int width, int headDim, int tk, int h, int jb, int nkb, int blk, float[] kt) {
        int base = (h * nkb + jb) * headDim * blk;
        int j0 = jb * blk;
        int cnt = Math.min(blk, tk - j0);
        for (int jj = 0; jj < cnt; jj++) {
            int src = ko + (j0 + jj) * width + h * headDim;
            for (int d = 0; d < headDim; d++) {
                kt[base + d * blk + jj] = k[src + d];
            }
        }
        for (int jj = cnt; jj < blk; jj++) {
            for (int d = 0; d < headDim; d++) {
                kt[base + d * blk + jj] = 0f;
            }
        }
    }

    private static final FloatVector IOTA_F;
    static {
        float[] io = new float[L];
        for (int i = 0; i < L; i++) {
            io[i] = i;
        }
        IOTA_F = FloatVector.fromArray(S, io, 0);
    }

    /**
     * The backward of one head over one block of L keys [j0, j0 + L) (packed K and V at blk, keys in lanes): every
     * query in [qa, qb) whose range meets the block, four at a time. dK and dV of the block are accumulated transposed
     * in scratch (D × L) and added into dk, dv once at the end; dQ rows are added into dqDst (dq itself, or a private
     * buffer when another thread may work on the same head). Row offsets: q[qo + i·width + hoff], likewise g, dqDst.
     */
    static void attentionBackwardKeyBlock(float[] g, int go, float[] q, int qo, float[] k, int ko, float[] kt, float[] vt,
                                          int blk, int[] lo, int klo, int[] hi, int kho, float[] lse, int lseo,
                                          float[] dsum, int dso, float[] dqDst, int dqo, float[] dk, int dko,
                                          float[] dv, int dvo, int width, int hoff, int headDim, int tk, int j0,
                                          int qa, int qb, float scale, Scratch sc) {
        int j1 = Math.min(tk, j0 + L);
        int[] list = sc.ilist(qb - qa);
        int n = 0;
        for (int i = qa; i < qb; i++) {
            int a = lo[klo + i], b = hi[kho + i];
            if (a < j1 && b > j0 && b > a) {
                list[n++] = i;
            }
        }
        if (n == 0) {
            return;
        }
        int dl = headDim * L;
        float[] acc = sc.kvAcc(2 * dl);
        zero(acc, 0, 2 * dl);
        float[] meta = sc.meta;
        float[] ds = sc.ds;
        float j0f = j0;
        for (int t = 0; t < n; t += 4) {
            int nq = Math.min(4, n - t);
            int r0 = 0, r1 = 0, r2 = 0, r3 = 0;
            int ja = L, jb = 0;
            for (int u = 0; u < 4; u++) {
                int i = list[t + Math.min(u, nq - 1)];
                int r = i * width + hoff;
                if (u < nq) {
                    int a = lo[klo + i], b = hi[kho + i];
                    meta[u] = a;
                    meta[4 + u] = b;
                    meta[8 + u] = lse[lseo + i];
                    meta[12 + u] = dsum[dso + i];
                    ja = Math.min(ja, Math.max(a, j0) - j0);
                    jb = Math.max(jb, Math.min(b, j1) - j0);
                } else {
                    meta[u] = 0f; // padding: empty range, contributes exact zeros
                    meta[4 + u] = 0f;
                    meta[8 + u] = 0f;
                    meta[12 + u] = 0f;
                }
                switch (u) {
                    case 0 -> r0 = r;
                    case 1 -> r1 = r;
                    case 2 -> r2 = r;
                    default -> r3 = r;
                }
            }
            bwdGroup(q, qo, g, go, kt, vt, blk, headDim, scale, r0, r1, r2, r3, meta, j0f, acc, dl, ds);
            int krow = ko + j0 * width + hoff;
            if (nq == 4) {
                dqGroup4(ds, k, krow, width, ja, jb, dqDst, dqo + r0, dqo + r1, dqo + r2, dqo + r3, headDim);
            } else {
                for (int u = 0; u < nq; u++) {
                    int r = u == 0 ? r0 : u == 1 ? r1 : r2;
                    dqOne(ds, u * L, k, krow, width, ja, jb, dqDst, dqo + r, headDim);
                }
            }
        }
        int cnt = j1 - j0;
        for (int jj = 0; jj < cnt; jj++) {
            int row = (j0 + jj) * width + hoff;
            int kr = dko + row;
            int vr = dvo + row;
            for (int d = 0; d < headDim; d++) {
                dk[kr + d] += acc[d * L + jj];
                dv[vr + d] += acc[dl + d * L + jj];
            }
        }
    }

    /**
     * Four queries (rows r0..r3) against one block of L keys: scores and dO·Vᵀ in registers, probabilities from lse
     * (zero outside each query's range), dS = P ⊙ (dP − D)·scale; dKᵀ += dSᵀ-weighted q rows and dVᵀ += P-weighted dO
     * rows into acc (dK at 0, dV at dl, both D × L); dS rows left in ds for the dQ update.
     */
    private static void bwdGroup(float[] q, int qo, float[] g, int go, float[] kt, float[] vt, int blk, int headDim,
                                 float scale, int r0, int r1, int r2, int r3, float[] meta, float j0f,
                                 float[] acc, int dl, float[] ds) {
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S), s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
        FloatVector t0 = FloatVector.zero(S), t1 = FloatVector.zero(S), t2 = FloatVector.zero(S), t3 = FloatVector.zero(S);
        int q0 = qo + r0, q1 = qo + r1, q2 = qo + r2, q3 = qo + r3;
        int g0 = go + r0, g1 = go + r1, g2 = go + r2, g3 = go + r3;
        for (int d = 0; d < headDim; d++) {
            FloatVector kd = FloatVector.fromArray(S, kt, blk + d * L);
            s0 = kd.fma(FloatVector.broadcast(S, q[q0 + d]), s0);
            s1 = kd.fma(FloatVector.broadcast(S, q[q1 + d]), s1);
            s2 = kd.fma(FloatVector.broadcast(S, q[q2 + d]), s2);
            s3 = kd.fma(FloatVector.broadcast(S, q[q3 + d]), s3);
            FloatVector vd = FloatVector.fromArray(S, vt, blk + d * L);
            t0 = vd.fma(FloatVector.broadcast(S, g[g0 + d]), t0);
            t1 = vd.fma(FloatVector.broadcast(S, g[g1 + d]), t1);
            t2 = vd.fma(FloatVector.broadcast(S, g[g2 + d]), t2);
            t3 = vd.fma(FloatVector.broadcast(S, g[g3 + d]), t3);
        }
        FloatVector kidx = IOTA_F.add(j0f);
        FloatVector p0 = probs(s0, kidx, meta[0], meta[4], meta[8], scale);
        FloatVector p1 = probs(s1, kidx, meta[1], meta[5], meta[9], scale);
        FloatVector p2 = probs(s2, kidx, meta[2], meta[6], meta[10], scale);
        FloatVector p3 = probs(s3, kidx, meta[3], meta[7], meta[11], scale);
        FloatVector d0 = p0.mul(t0.sub(meta[12])).mul(scale);
        FloatVector d1 = p1.mul(t1.sub(meta[13])).mul(scale);
        FloatVector d2 = p2.mul(t2.sub(meta[14])).mul(scale);
        FloatVector d3 = p3.mul(t3.sub(meta[15])).mul(scale);
        for (int d = 0; d < headDim; d++) {
            int at = d * L;
            FloatVector ak = FloatVector.fromArray(S, acc, at);
            ak = d0.fma(FloatVector.broadcast(S, q[q0 + d]), ak);
            ak = d1.fma(FloatVector.broadcast(S, q[q1 + d]), ak);
            ak = d2.fma(FloatVector.broadcast(S, q[q2 + d]), ak);
            ak = d3.fma(FloatVector.broadcast(S, q[q3 + d]), ak);
            ak.intoArray(acc, at);
            FloatVector av = FloatVector.fromArray(S, acc, dl + at);
            av = p0.fma(FloatVector.broadcast(S, g[g0 + d]), av);
            av = p1.fma(FloatVector.broadcast(S, g[g1 + d]), av);
            av = p2.fma(FloatVector.broadcast(S, g[g2 + d]), av);
            av = p3.fma(FloatVector.broadcast(S, g[g3 + d]), av);
            av.intoArray(acc, dl + at);
        }
        d0.intoArray(ds, 0);
        d1.intoArray(ds, L);
        d2.intoArray(ds, 2 * L);
        d3.intoArray(ds, 3 * L);
    }

    /** exp(s·scale − lse) on the lanes whose key index lies in [lo, hi), 0 elsewhere. */
    private static FloatVector probs(FloatVector s, FloatVector kidx, float lo, float hi, float lse, float scale) {
        VectorMask<Float> in = kidx.compare(VectorOperators.GE, lo).and(kidx.compare(VectorOperators.LT, hi));
        return FloatVector.zero(S).blend(exp(s.mul(scale).sub(lse)), in);
    }

    /** dq rows a0..a3 += Σ_j ds[u·L + j] · k[krow + j·width ..] over keys j in [ja, jb) of the block. */
    private static void dqGroup4(float[] ds, float[] k, int krow, int width, int ja, int jb, float[] dq,
                                 int a0, int a1, int a2, int a3, int headDim) {
        int c = 0;
        for (; c + L <= headDim; c += L) {
            FloatVector x0 = FloatVector.fromArray(S, dq, a0 + c);
            FloatVector x1 = FloatVector.fromArray(S, dq, a1 + c);
            FloatVector x2 = FloatVector.fromArray(S, dq, a2 + c);
            FloatVector x3 = FloatVector.fromArray(S, dq, a3 + c);
            for (int j = ja; j < jb; j++) {
                FloatVector kv = FloatVector.fromArray(S, k, krow + j * width + c);
                x0 = kv.fma(FloatVector.broadcast(S, ds[j]), x0);
                x1 = kv.fma(FloatVector.broadcast(S, ds[L + j]), x1);
                x2 = kv.fma(FloatVector.broadcast(S, ds[2 * L + j]), x2);
                x3 = kv.fma(FloatVector.broadcast(S, ds[3 * L + j]), x3);
            }
            x0.intoArray(dq, a0 + c);
            x1.intoArray(dq, a1 + c);
            x2.intoArray(dq, a2 + c);
            x3.intoArray(dq, a3 + c);
        }
        for (; c < headDim; c++) {
            float x0 = dq[a0 + c], x1 = dq[a1 + c], x2 = dq[a2 + c], x3 = dq[a3 + c];
            for (int j = ja; j < jb; j++) {
                float kv = k[krow + j * width + c];
                x0 = Math.fma(kv, ds[j], x0);
                x1 = Math.fma(kv, ds[L + j], x1);
                x2 = Math.fma(kv, ds[2 * L + j], x2);
                x3 = Math.fma(kv, ds[3 * L + j], x3);
            }
            dq[a0 + c] = x0;
            dq[a1 + c] = x1;
            dq[a2 + c] = x2;
            dq[a3 + c] = x3;
        }
    }

    /** One dq row += Σ_j ds[dso + j] · k row j, keys j in [ja, jb) of the block. */
    private static void dqOne(float[] ds, int dso, float[] k, int krow, int width, int ja, int jb, float[] dq, int a,
                              int headDim) {
        int c = 0;
        for (; c + L <= headDim; c += L) {
            FloatVector x = FloatVector.fromArray(S, dq, a + c);
            for (int j = ja; j < jb; j++) {
                x = FloatVector.fromArray(S, k, krow + j * width + c).fma(FloatVector.broadcast(S, ds[dso + j]), x);
            }
            x.intoArray(dq, a + c);
        }
        for (; c < headDim; c++) {
            float x = dq[a + c];
            for (int j = ja; j < jb; j++) {
                x = Math.fma(k[krow + j * width + c], ds[dso + j], x);
            }
            dq[a + c] = x;
        }
    }

    // ------------------------------------------------------------------ matrix-vector

    /** out[j] (+)= dot(W[j·k ..], x) for j in [j0, j1). */
    static void gemvDot(float[] w, int wo, float[] x, int xo, float[] out, int oo, int k, int j0, int j1, boolean acc) {
        for (int j = j0; j < j1; j++) {
            float s = dot4(w, wo + j * k, x, xo, k);
            out[oo + j] = acc ? out[oo + j] + s : s;
        }
    }

    private static float dot4(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        FloatVector s0 = FloatVector.zero(S);
        FloatVector s1 = FloatVector.zero(S);
        FloatVector s2 = FloatVector.zero(S);
        FloatVector s3 = FloatVector.zero(S);
        for (; i + 4 * L <= n; i += 4 * L) {
            s0 = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), s0);
            s1 = FloatVector.fromArray(S, a, ao + i + L).fma(FloatVector.fromArray(S, b, bo + i + L), s1);
            s2 = FloatVector.fromArray(S, a, ao + i + 2 * L).fma(FloatVector.fromArray(S, b, bo + i + 2 * L), s2);
            s3 = FloatVector.fromArray(S, a, ao + i + 3 * L).fma(FloatVector.fromArray(S, b, bo + i + 3 * L), s3);
        }
        for (; i + L <= n; i += L) {
            s0 = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), s0);
        }
        float s = sumLanes(s0.add(s1).add(s2.add(s3)));
        for (; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    /** out[j] (+)= Σ_p x[p]·W[p·ld + j] for j in [j0, j1): streams rows of W, out slice stays in L1. */
    static void gemvAxpy(float[] w, int wo, int ld, float[] x, int xo, float[] out, int oo, int k, int j0, int j1, boolean acc) {
        if (!acc) {
            zero(out, oo + j0, j1 - j0);
        }
        for (int p = 0; p < k; p++) {
            axpy(x[xo + p], w, wo + p * ld + j0, out, oo + j0, j1 - j0);
        }
    }

    // ------------------------------------------------------------------ matrix-matrix (packed, register-blocked)

    static final int MR = 4;
    static final int NR = 2 * L;
    static final int KC = Integer.getInteger("blt4j.kc", 256);
    static final int MC = Integer.getInteger("blt4j.mc", 144);
    static final int NC = 2048;

    /** Per-thread packing buffers, grown on demand and kept (no garbage per call). */
    static final class Scratch {
        float[] ap = new float[0];
        float[] bp = new float[0];
        final float[] tile = new float[MR * NR];
        float[] sbuf = new float[0];
        float[] dbuf = new float[0];

        int[] ilist = new int[0];
        float[] kvAcc = new float[0];
        final float[] meta = new float[16];
        final float[] ds = new float[4 * L];

        int[] ilist(int n) {
            if (ilist.length < n) {
                ilist = new int[Math.max(n, 256)];
            }
            return ilist;
        }

        float[] kvAcc(int n) {
            if (kvAcc.length < n) {
                kvAcc = new float[n];
            }
            return kvAcc;
        }

        float[] dbuf(int n) {
            if (dbuf.length < n) {
                dbuf = new float[Math.max(n, 256)];
            }
            return dbuf;
        }

        float[] sbuf(int n) {
            if (sbuf.length < n) {
                sbuf = new float[Math.max(n, 256)];
            }
            return sbuf;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    static Scratch scratch() {
        return SCRATCH.get();
    }

    /**
     * The block rows [i0, i1) × cols [j0, j1) of C (+)= op(A)·op(B), one thread. op(A)[i,p] is a[ao + p·m + i] when
     * transposed, a[ao + i·k + p] otherwise; op(B)[p,j] is b[bo + j·k + p] when transposed, b[bo + p·n + j] otherwise.
     */
    static void gemmBlock(float[] a, int ao, boolean ta, float[] b, int bo, boolean tb, float[] c, int co, boolean acc,
                          int m, int n, int k, int i0, int i1, int j0, int j1) {
        if (i1 <= i0 || j1 <= j0) {
            return;
        }
        if (k == 0) {
            if (!acc) {
                for (int i = i0; i < i1; i++) {
                    zero(c, co + i * n + j0, j1 - j0);
                }
            }
            return;
        }
        Scratch sc = scratch();
        int ncMax = Math.min(NC, j1 - j0);
        int kcMax = Math.min(KC, k);
        int mcMax = Math.min(MC, i1 - i0);
        int bNeed = kcMax * roundUp(ncMax, NR);
        int aNeed = kcMax * roundUp(mcMax, MR);
        if (sc.bp.length < bNeed) {
            sc.bp = new float[bNeed];
        }
        if (sc.ap.length < aNeed) {
            sc.ap = new float[aNeed];
        }
        float[] bp = sc.bp;
        float[] ap = sc.ap;
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                packB(b, bo, tb, n, k, pc, kc, jc, nc, bp);
                boolean overwrite = !acc && pc == 0;
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    packA(a, ao, ta, m, k, ic, mc, pc, kc, ap);
                    macro(ap, bp, c, co + ic * n + jc, n, mc, nc, kc, overwrite, sc.tile);
                }
            }
        }
    }

    private static int roundUp(int x, int r) {
        return (x + r - 1) / r * r;
    }

    static void macro(float[] ap, float[] bp, float[] c, int cbase, int ldc, int mc, int nc, int kc,
                              boolean overwrite, float[] tile) {
        macro(ap, bp, c, cbase, ldc, mc, nc, kc, overwrite, tile, 0, (nc + NR - 1) / NR);
    }

    /** Column strips [js0, js1) of the packed B panel against all rows of the packed A block. */
    static void macro(float[] ap, float[] bp, float[] c, int cbase, int ldc, int mc, int nc, int kc,
                              boolean overwrite, float[] tile, int js0, int js1) {
        for (int jr = js0 * NR; jr < Math.min(nc, js1 * NR); jr += NR) {
            int cols = Math.min(NR, nc - jr);
            int boff = (jr / NR) * kc * NR;
            for (int ir = 0; ir < mc; ir += MR) {
                int rows = Math.min(MR, mc - ir);
                int aoff = (ir / MR) * kc * MR;
                if (rows == MR && cols == NR) {
                    micro(ap, aoff, bp, boff, kc, c, cbase + ir * ldc + jr, ldc, overwrite);
                } else {
                    microEdge(ap, aoff, bp, boff, kc, c, cbase + ir * ldc + jr, ldc, rows, cols, overwrite, tile);
                }
            }
        }
    }

    /**
     * The multi-threaded pieces: one thread packs strips [s0, s1) of a shared B panel; later each thread multiplies
     * rows [i0, i1) (packing its own A blocks) against column strips [js0, js1) of that panel.
     */
    static void packBStrips(float[] b, int bo, boolean tb, int n, int k, int pc, int kc, int jc, int nc, float[] bp, int s0, int s1) {
        for (int st = s0; st < s1; st++) {
            int js = st * NR;
            int cols = Math.min(NR, nc - js);
            int dst = st * kc * NR;
            if (!tb) {
                packBRows(b, bo + pc * n + jc + js, n, kc, cols, bp, dst);
            } else {
                packBCols(b, bo + (jc + js) * k + pc, k, kc, cols, bp, dst);
            }
        }
    }

    static void gemmPanel(float[] a, int ao, boolean ta, float[] bp, float[] c, int co, int m, int n, int k,
                          int pc, int kc, int jc, int nc, int i0, int i1, int js0, int js1, boolean overwrite) {
        if (i1 <= i0 || js1 <= js0) {
            return;
        }
        Scratch sc = scratch();
        int aNeed = kc * roundUp(Math.min(MC, i1 - i0), MR);
        if (sc.ap.length < aNeed) {
            sc.ap = new float[aNeed];
        }
        float[] ap = sc.ap;
        for (int ic = i0; ic < i1; ic += MC) {
            int mc = Math.min(MC, i1 - ic);
            packA(a, ao, ta, m, k, ic, mc, pc, kc, ap);
            macro(ap, bp, c, co + ic * n + jc, n, mc, nc, kc, overwrite, sc.tile, js0, js1);
        }
    }

    /** bp[strip][p][0..NR): op(B) rows pc..pc+kc, columns jc..jc+nc, zero-padded to whole strips. */
    static void packB(float[] b, int bo, boolean tb, int n, int k, int pc, int kc, int jc, int nc, float[] bp) {
        for (int js = 0; js < nc; js += NR) {
            int cols = Math.min(NR, nc - js);
            int dst = (js / NR) * kc * NR;
            if (!tb) {
                packBRows(b, bo + pc * n + jc + js, n, kc, cols, bp, dst);
            } else {
                packBCols(b, bo + (jc + js) * k + pc, k, kc, cols, bp, dst);
            }
        }
    }

    private static void packBRows(float[] b, int src, int ld, int kc, int cols, float[] bp, int dst) {
        if (cols == NR) {
            for (int p = 0; p < kc; p++) {
                FloatVector.fromArray(S, b, src + p * ld).intoArray(bp, dst + p * NR);
                FloatVector.fromArray(S, b, src + p * ld + L).intoArray(bp, dst + p * NR + L);
            }
        } else {
            for (int p = 0; p < kc; p++) {
                int d = dst + p * NR;
                int s = src + p * ld;
                for (int jj = 0; jj < cols; jj++) {
                    bp[d + jj] = b[s + jj];
                }
                for (int jj = cols; jj < NR; jj++) {
                    bp[d + jj] = 0f;
                }
            }
        }
    }

    private static void packBCols(float[] b, int src, int ld, int kc, int cols, float[] bp, int dst) {
        for (int jj = 0; jj < cols; jj++) {
            int s = src + jj * ld;
            for (int p = 0; p < kc; p++) {
                bp[dst + p * NR + jj] = b[s + p];
            }
        }
        for (int jj = cols; jj < NR; jj++) {
            for (int p = 0; p < kc; p++) {
                bp[dst + p * NR + jj] = 0f;
            }
        }
    }

    /** ap[strip][p][0..MR): op(A) rows ic..ic+mc, columns pc..pc+kc, zero-padded. */
    static void packA(float[] a, int ao, boolean ta, int m, int k, int ic, int mc, int pc, int kc, float[] ap) {
        for (int is = 0; is < mc; is += MR) {
            int rows = Math.min(MR, mc - is);
            int dst = (is / MR) * kc * MR;
            if (!ta) {
                packARows(a, ao + (ic + is) * k + pc, k, kc, rows, ap, dst);
            } else {
                packACols(a, ao + pc * m + ic + is, m, kc, rows, ap, dst);
            }
        }
    }

    private static void packARows(float[] a, int src, int ld, int kc, int rows, float[] ap, int dst) {
        for (int ii = 0; ii < rows; ii++) {
            int s = src + ii * ld;
            for (int p = 0; p < kc; p++) {
                ap[dst + p * MR + ii] = a[s + p];
            }
        }
        for (int ii = rows; ii < MR; ii++) {
            for (int p = 0; p < kc; p++) {
                ap[dst + p * MR + ii] = 0f;
            }
        }
    }

    private static void packACols(float[] a, int src, int ld, int kc, int rows, float[] ap, int dst) {
        for (int p = 0; p < kc; p++) {
            int s = src + p * ld;
            int d = dst + p * MR;
            for (int ii = 0; ii < rows; ii++) {
                ap[d + ii] = a[s + ii];
            }
            for (int ii = rows; ii < MR; ii++) {
                ap[d + ii] = 0f;
            }
        }
    }

    /**
     * The 4 × 2L register tile: 8 accumulators, B loaded once per k, A broadcast. (6 × 2L and 4 × 3L tiles need 12
     * accumulators and C2 then spills on AVX2; 4 × 2L measured fastest on JDK 17 and 25.)
     */
    private static void micro(float[] ap, int aoff, float[] bp, int boff, int kc, float[] c, int cb, int ldc, boolean overwrite) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int ai = aoff + p * MR;
            int bi = boff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector a0 = FloatVector.broadcast(S, ap[ai]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
        }
        // stores written out (not via a helper): the larger body keeps C2 from inlining this kernel into its caller,
        // which costs about 30% (register pressure); measured on JDK 25
        int r1 = cb + ldc;
        int r2 = cb + 2 * ldc;
        int r3 = cb + 3 * ldc;
        if (!overwrite) {
            c00 = c00.add(FloatVector.fromArray(S, c, cb));
            c01 = c01.add(FloatVector.fromArray(S, c, cb + L));
            c10 = c10.add(FloatVector.fromArray(S, c, r1));
            c11 = c11.add(FloatVector.fromArray(S, c, r1 + L));
            c20 = c20.add(FloatVector.fromArray(S, c, r2));
            c21 = c21.add(FloatVector.fromArray(S, c, r2 + L));
            c30 = c30.add(FloatVector.fromArray(S, c, r3));
            c31 = c31.add(FloatVector.fromArray(S, c, r3 + L));
        }
        c00.intoArray(c, cb);
        c01.intoArray(c, cb + L);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + L);
    }

    private static void store(float[] c, int at, FloatVector v0, FloatVector v1, boolean overwrite) {
        if (!overwrite) {
            v0 = v0.add(FloatVector.fromArray(S, c, at));
            v1 = v1.add(FloatVector.fromArray(S, c, at + L));
        }
        v0.intoArray(c, at);
        v1.intoArray(c, at + L);
    }

    /** A partial tile: full register tile into a scratch tile, then the valid part into C. */
    private static void microEdge(float[] ap, int aoff, float[] bp, int boff, int kc, float[] c, int cb, int ldc,
                                  int rows, int cols, boolean overwrite, float[] tile) {
        micro(ap, aoff, bp, boff, kc, tile, 0, NR, true);
        for (int r = 0; r < rows; r++) {
            int crow = cb + r * ldc;
            for (int jj = 0; jj < cols; jj++) {
                float v = tile[r * NR + jj];
                c[crow + jj] = overwrite ? v : c[crow + jj] + v;
            }
        }
    }
}
