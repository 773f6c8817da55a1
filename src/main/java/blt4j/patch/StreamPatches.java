package blt4j.patch;

import java.util.BitSet;

/** A stream's patch starts under one scheme, cut into training or evaluation rows on demand. */
public final class StreamPatches {
    private final PatchingScheme scheme;
    private final BitSet starts;
    private final int length;

    public StreamPatches(PatchingScheme scheme, BitSet starts, int length) {
        this.scheme = scheme;
        this.starts = starts;
        this.length = length;
    }

    public PatchingScheme scheme() {
        return scheme;
    }

    /** Patch lengths of the row [BOS] + stream[start, start + n − 1) (see {@link PatchingScheme#rowLengths}). */
    public int[] rowLengths(int start, int n) {
        return scheme.rowLengths(starts, length, start, n);
    }

    /** Mean stream-level patch size (bytes per patch). */
    public double meanPatchSize() {
        return (double) length / Math.max(1, starts.cardinality());
    }
}
