package blt4j.compute;

import static blt4j.compute.CpuGemm.MR;
import static blt4j.compute.CpuGemm.NR;
import static blt4j.compute.CpuVectorMath.L;

/** Per-thread buffers of the cpu kernels (gemm packing, attention scores), grown on demand and kept: no garbage per call. */
final class CpuScratch {
    private static final ThreadLocal<CpuScratch> SCRATCH = ThreadLocal.withInitial(CpuScratch::new);

    /** This thread's buffers. */
    static CpuScratch get() {
        return SCRATCH.get();
    }

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
