package blt4j.compute;

import static blt4j.compute.CpuVectorMath.*;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * Vector API kernels of {@link CpuBackend} that walk elements or rows: elementwise ops, AdamW, sum of squares,
 * RMSNorm, the cross-entropy and entropy rows, embedding rows, RoPE and segment max. Each works on an index range
 * (or one row) so the backend can split the work over threads.
 */
final class CpuRowKernels {
    private CpuRowKernels() {}

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

    /**
     * out rows = silu(g) ⊙ u for rows × cols of two scratch tiles g and u (row stride ld, a multiple of L), each lane
     * as {@link #swiglu} computes it, in whole vectors (the last of a short row stored under a mask); with keep, the
     * tiles' values also go to gate and up, at the same place as out.
     */
    static void swigluTile(float[] g, float[] u, int ld, float[] out, int oo, boolean keep, float[] gate, int go,
                           float[] up, int uo, int ldo, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c += L) {
                FloatVector v = FloatVector.fromArray(S, g, r * ld + c);
                FloatVector w = FloatVector.fromArray(S, u, r * ld + c);
                FloatVector h = v.mul(sigmoid(v)).mul(w);
                int at = r * ldo + c;
                if (c + L <= cols) {
                    h.intoArray(out, oo + at);
                    if (keep) {
                        v.intoArray(gate, go + at);
                        w.intoArray(up, uo + at);
                    }
                } else {
                    VectorMask<Float> m = S.indexInRange(c, cols);
                    h.intoArray(out, oo + at, m);
                    if (keep) {
                        v.intoArray(gate, go + at, m);
                        w.intoArray(up, uo + at, m);
                    }
                }
            }
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
            d.mul(FloatVector.fromArray(S, up, uo + i)).mul(dsilu).intoArray(dgate, dgo + i);
            d.mul(gv.mul(sg)).intoArray(dup, duo + i);
        }
        for (; i < to; i++) {
            float g = gate[gto + i];
            float sg = sigmoid(g);
            float d = dout[go + i];
            dgate[dgo + i] = d * up[uo + i] * sg * (1f + g * (1f - sg));
            dup[duo + i] = d * g * sg;
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

    /** Swaps the lanes of each pair: x1, x0, x3, x2, ... */
    private static final VectorShuffle<Float> SWAP_PAIRS = VectorShuffle.fromOp(S, i -> i ^ 1);
    /** Spreads the first L/2 lanes over pairs: c0, c0, c1, c1, ... */
    private static final VectorShuffle<Float> SPREAD_PAIRS = VectorShuffle.fromOp(S, i -> i / 2);
    private static final VectorMask<Float> FIRST_HALF = S.indexInRange(0, L / 2);
    /** The signs of sin in a pair: −, + for the rotation, +, − for its inverse (the backward). */
    private static final FloatVector ROTATE_SIGNS = FloatVector.fromArray(S, pairSigns(-1f), 0);
    private static final FloatVector INVERSE_SIGNS = FloatVector.fromArray(S, pairSigns(1f), 0);

    private static float[] pairSigns(float even) {
        float[] signs = new float[L];
        for (int i = 0; i < L; i++) {
            signs[i] = i % 2 == 0 ? even : -even;
        }
        return signs;
    }

    /**
     * Rotary embedding of one row, all heads: per vector of head dims, the position's cos and sin are spread over the
     * pairs, cs = [c0, c0, c1, c1, ...] and sn = [−s0, s0, −s1, s1, ...] (signs swapped for the backward), and every
     * head is x·cs + swap(x)·sn. Spreading in registers, not through a table built per row: the table took as long as
     * the rotation. out may alias x; backward adds into out.
     */
    static void ropeRow(float[] x, int xa, float[] cos, int cso, float[] sin, int sso, float[] out, int oa, int nHeads,
                        int headDim, boolean backward) {
        int d = 0;
        if (L >= 2) {
            FloatVector signs = backward ? INVERSE_SIGNS : ROTATE_SIGNS;
            for (; d + L <= headDim; d += L) {
                FloatVector cs = FloatVector.fromArray(S, cos, cso + d / 2, FIRST_HALF).rearrange(SPREAD_PAIRS);
                FloatVector sn = FloatVector.fromArray(S, sin, sso + d / 2, FIRST_HALF).rearrange(SPREAD_PAIRS).mul(signs);
                for (int h = 0; h < nHeads; h++) {
                    int xh = xa + h * headDim + d;
                    int oh = oa + h * headDim + d;
                    FloatVector xv = FloatVector.fromArray(S, x, xh);
                    FloatVector r = xv.mul(cs).add(xv.rearrange(SWAP_PAIRS).mul(sn));
                    if (backward) {
                        r = r.add(FloatVector.fromArray(S, out, oh));
                    }
                    r.intoArray(out, oh);
                }
            }
        }
        for (; d < headDim; d += 2) {
            float c = cos[cso + d / 2];
            float sn0 = backward ? sin[sso + d / 2] : -sin[sso + d / 2];
            for (int h = 0; h < nHeads; h++) {
                int xh = xa + h * headDim + d;
                int oh = oa + h * headDim + d;
                float x0 = x[xh];
                float x1 = x[xh + 1];
                float r0 = x0 * c + x1 * sn0;
                float r1 = x1 * c + x0 * -sn0;
                if (backward) {
                    out[oh] += r0;
                    out[oh + 1] += r1;
                } else {
                    out[oh] = r0;
                    out[oh + 1] = r1;
                }
            }
        }
    }

    // ------------------------------------------------------------------ segment max

    /** Columns [c0, c1) of one segment [from, to) of x [rows, d]. */
    static void segmentMaxSeg(float[] x, int xo, int from, int to, float[] out, int orow, int[] arg, int arow, int d) {
        if (to <= from) {
            Arrays.fill(out, orow, orow + d, 0f);
            Arrays.fill(arg, arow, arow + d, -1);
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
}
