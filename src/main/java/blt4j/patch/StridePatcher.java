package blt4j.patch;

/**
 * Fixed-size (MegaByte-style, "static") patching, BLT-REFERENCE §4.5: the baseline the dynamic schemes are
 * compared against. By default it matches the reference static mode (patches of k, last one the
 * remainder); with {@code bosAlone} position 0 is its own patch and the strides start at 1, which
 * satisfies the decoder's "first patch is one byte" rule (§15.6) without the legacy BOE padding.
 */
public final class StridePatcher implements Patcher {
    private final int k;
    private final boolean bosAlone;
    private final boolean includeNextToken;
    private final int maxPatchLength;

    public StridePatcher(int k, boolean bosAlone, boolean includeNextToken, int maxPatchLength) {
        if (k <= 0) {
            throw new IllegalArgumentException("k must be > 0");
        }
        this.k = k;
        this.bosAlone = bosAlone;
        this.includeNextToken = includeNextToken;
        this.maxPatchLength = maxPatchLength;
    }

    public StridePatcher(int k) {
        this(k, false, true, 0);
    }

    public int stride() {
        return k;
    }

    @Override
    public boolean includeNextToken() {
        return includeNextToken;
    }

    @Override
    public int maxPatchLength() {
        return maxPatchLength;
    }

    @Override
    public boolean[] startFlags(int[] tokens, float[] entropies) {
        return startFlags(Patcher.sequenceLength(tokens, entropies));
    }

    public boolean[] startFlags(int n) {
        boolean[] flags = new boolean[Patcher.flagCount(n, includeNextToken)];
        for (int p = 0; p < flags.length; p++) {
            flags[p] = startsAt(p);
        }
        return flags;
    }

    /** Whether position p starts a patch (a decision from p alone, so the stream form is the same rule). */
    boolean startsAt(long p) {
        return bosAlone ? p == 0 || (p - 1) % k == 0 : p % k == 0;
    }

    public int[] lengths(int n) {
        boolean[] flags = startFlags(n);
        return PatchIds.splitLongPatches(
                PatchIds.startsToLengths(PatchIds.flagsToStarts(flags), flags.length), maxPatchLength);
    }
}
