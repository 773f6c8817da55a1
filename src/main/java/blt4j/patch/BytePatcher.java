package blt4j.patch;

import java.util.Arrays;

/**
 * Every byte its own patch (BLT-REFERENCE §4.5 {@code byte} mode): how the entropy model is trained, and the
 * degenerate case where BLT becomes a plain byte-level transformer.
 */
public final class BytePatcher implements Patcher {
    private final boolean includeNextToken;

    public BytePatcher(boolean includeNextToken) {
        this.includeNextToken = includeNextToken;
    }

    public BytePatcher() {
        this(true);
    }

    @Override
    public boolean includeNextToken() {
        return includeNextToken;
    }

    @Override
    public int maxPatchLength() {
        return 0;
    }

    @Override
    public boolean[] startFlags(int[] tokens, float[] entropies) {
        boolean[] flags = new boolean[Patcher.flagCount(Patcher.sequenceLength(tokens, entropies), includeNextToken)];
        Arrays.fill(flags, true);
        return flags;
    }
}
