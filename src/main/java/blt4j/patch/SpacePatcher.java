package blt4j.patch;

import blt4j.tokenizer.ByteTokenizer;

/**
 * Space patching (BLT-REFERENCE §4.4): a patch starts after the first byte of every run of space-like bytes
 * and after every special id. Needs no model, so it is the cheap baseline and the streaming workhorse
 * for large corpora (see {@link SpacePatchStream}).
 */
public final class SpacePatcher implements Patcher {
    private final boolean includeNextToken;
    private final int maxPatchLength;

    public SpacePatcher(boolean includeNextToken, int maxPatchLength) {
        this.includeNextToken = includeNextToken;
        this.maxPatchLength = maxPatchLength;
    }

    /** Next-token slot on, no max length (the forward-pass convention). */
    public SpacePatcher() {
        this(true, 0);
    }

    @Override
    public boolean includeNextToken() {
        return includeNextToken;
    }

    @Override
    public int maxPatchLength() {
        return maxPatchLength;
    }

    /**
     * Space-like token: not an ASCII digit or letter and not a UTF-8 continuation byte. UTF-8 lead
     * bytes (≥ 0xC0) and special ids (&lt; 4) count as space-like (§4.4, §15.11).
     */
    public static boolean isSpaceLike(int id) {
        int b = id - ByteTokenizer.OFFSET;
        return b < '0'
                || ('9' < b && b < 'A')
                || ('Z' < b && b < 'a')
                || ('z' < b && b < 0x80)
                || b >= 0xC0;
    }

    /** Whether position p ≥ 2 starts a patch, given tokens p-1 ({@code last}) and p-2 ({@code beforeLast}). */
    public static boolean startsAfter(int last, int beforeLast) {
        // Flags use the original sequence: a run of space-likes triggers once, after its first byte.
        return last < ByteTokenizer.OFFSET || (isSpaceLike(last) && !isSpaceLike(beforeLast));
    }

    @Override
    public boolean[] startFlags(int[] tokens, float[] entropies) {
        if (tokens == null) {
            throw new IllegalArgumentException("space patching needs tokens");
        }
        return startFlags(tokens);
    }

    public boolean[] startFlags(int[] tokens) {
        int total = Patcher.flagCount(tokens.length, includeNextToken);
        boolean[] flags = new boolean[total];
        for (int p = 0; p < total; p++) {
            flags[p] = p < 2 || startsAfter(tokens[p - 1], tokens[p - 2]);
        }
        return flags;
    }

    public int[] lengths(int[] tokens) {
        return lengths(tokens, null);
    }
}
