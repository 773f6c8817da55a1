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
    /** The gate and up sums of one register tile ({@link CpuGemm#swigluPrepacked}). */
    final float[] gateTile = new float[MR * NR];
    final float[] upTile = new float[MR * NR];
    float[] sbuf = new float[0];
    float[] dbuf = new float[0];

    /** The K and V panels of the head this thread's attention forward tiles are on. */
    final CpuAttentionTiles.HeadPanels headPanels = new CpuAttentionTiles.HeadPanels();

    final float[] meta = new float[16];
    /** The lanes of one vector, summed in place (the attention softmax). */
    final float[] lanes = new float[L];

    private float[] bwdPad = new float[0], bwdP = new float[0], bwdDs = new float[0], bwdTile = new float[0],
            bwdPack = new float[0];

    private float[] group = new float[0];
    private long[] weights = new long[0];

    /** Cumulative weights of a call's work items, for an even split over the threads (the calling thread's). */
    long[] weights(int n) {
        return weights.length >= n ? weights : (weights = new long[n]);
    }

    private CpuAttentionBackwardTiles.Packs bwdPacks = new CpuAttentionBackwardTiles.Packs(new float[0], new float[0],
            new float[0], new float[0], new float[0], 0);
    private float[] bwdQueries = new float[0];

    /** One head's panels of the attention backward ({@link CpuAttentionBackwardTiles#pack}), for nqs query strips. */
    CpuAttentionBackwardTiles.Packs bwdPacks(int nqs, int stripFloats, int colFloats) {
        CpuAttentionBackwardTiles.Packs p = bwdPacks;
        if (p.nqs() != nqs || p.qByStrip().length < stripFloats || p.qByCol().length < colFloats) {
            float[] qs = grown(p.qByStrip(), stripFloats), gs = grown(p.gByStrip(), stripFloats);
            float[] qc = grown(p.qByCol(), colFloats), gc = grown(p.gByCol(), colFloats), kc = grown(p.kByCol(), colFloats);
            p = bwdPacks = new CpuAttentionBackwardTiles.Packs(qs, gs, qc, gc, kc, nqs);
        }
        return p;
    }

    /** One head's per-query rows of the attention backward ({@link CpuAttentionBackwardTiles#fillQueries}). */
    float[] bwdQueries(int n) {
        return bwdQueries.length >= n ? bwdQueries : (bwdQueries = new float[n]);
    }

    private static float[] grown(float[] x, int n) {
        return x.length >= n ? x : new float[n];
    }

    /** One depth group's block of C ({@link CpuGemm#grouped}). */
    float[] group(int n) {
        return group.length >= n ? group : (group = new float[n]);
    }

    /** Buffers of the tiled attention backward ({@link CpuAttentionBackwardTiles}). */
    float[] bwdPad(int n) {
        return bwdPad.length >= n ? bwdPad : (bwdPad = new float[n]);
    }

    float[] bwdP(int n) {
        return bwdP.length >= n ? bwdP : (bwdP = new float[n]);
    }

    float[] bwdDs(int n) {
        return bwdDs.length >= n ? bwdDs : (bwdDs = new float[n]);
    }

    float[] bwdTile(int n) {
        return bwdTile.length >= n ? bwdTile : (bwdTile = new float[n]);
    }

    float[] bwdPack(int n) {
        return bwdPack.length >= n ? bwdPack : (bwdPack = new float[n]);
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
