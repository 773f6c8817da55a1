package blt4j.patch;

import java.util.Arrays;

/**
 * Entropy-based patching (BLT-REFERENCE §4.1–4.3), the scheme the released BLT models were trained with.
 * Immutable; configure with the factory methods and {@code with...} copies. All comparisons are done
 * in float32 like the reference, which compares float32 tensors with the threshold.
 */
public final class EntropyPatcher implements Patcher {

    /** Decision rule. */
    public enum Mode {
        /** p ≥ 2 starts iff H[p-1] &gt; θ (strict). Released models. */
        GLOBAL,
        /** p = 2 always starts; p ≥ 3 iff H[p-1] − H[p-2] &gt; θ. */
        MONOTONIC,
        /** p = 2 always, p = 3 never, p ≥ 4 iff H[p-1] − H[p-2] &gt; θ_add and H[p-1] &gt; θ. */
        COMBINED,
        /** No threshold: the N / patchSize − 2 largest H[1..] start patches (not incremental). */
        TOP_K
    }

    /** θ of the released blt-1b / blt-7b models (nats). */
    public static final float RELEASED_THRESHOLD = 1.335442066192627f;

    private final Mode mode;
    private final float threshold;
    private final float thresholdAdd;
    private final double patchSize;
    private final boolean includeNextToken;
    private final int maxPatchLength;

    private EntropyPatcher(Mode mode, float threshold, float thresholdAdd, double patchSize,
                           boolean includeNextToken, int maxPatchLength) {
        this.mode = mode;
        this.threshold = threshold;
        this.thresholdAdd = thresholdAdd;
        this.patchSize = patchSize;
        this.includeNextToken = includeNextToken;
        this.maxPatchLength = maxPatchLength;
    }

    /** Global threshold θ, next-token slot on, no max length. */
    public static EntropyPatcher global(float threshold) {
        return new EntropyPatcher(Mode.GLOBAL, threshold, Float.NaN, 0, true, 0);
    }

    /** Approximate monotonic constraint with threshold θ on H[p-1] − H[p-2]. */
    public static EntropyPatcher monotonic(float threshold) {
        return new EntropyPatcher(Mode.MONOTONIC, threshold, Float.NaN, 0, true, 0);
    }

    /** Reference {@code threshold_add} mode: both the difference and the global test must pass. */
    public static EntropyPatcher combined(float threshold, float thresholdAdd) {
        return new EntropyPatcher(Mode.COMBINED, threshold, thresholdAdd, 0, true, 0);
    }

    /** Top-k variant used when no threshold is given (§4.3). */
    public static EntropyPatcher topK(double patchSize) {
        if (!(patchSize > 0)) {
            throw new IllegalArgumentException("patchSize must be > 0");
        }
        return new EntropyPatcher(Mode.TOP_K, Float.NaN, Float.NaN, patchSize, true, 0);
    }

    public EntropyPatcher withIncludeNextToken(boolean include) {
        return new EntropyPatcher(mode, threshold, thresholdAdd, patchSize, include, maxPatchLength);
    }

    public EntropyPatcher withMaxPatchLength(int m) {
        return new EntropyPatcher(mode, threshold, thresholdAdd, patchSize, includeNextToken, m);
    }

    /** Same mode with another θ (used by {@link ThresholdSearch}); not valid for TOP_K. */
    public EntropyPatcher withThreshold(float t) {
        if (mode == Mode.TOP_K) {
            throw new IllegalStateException("top-k has no threshold");
        }
        return new EntropyPatcher(mode, t, thresholdAdd, patchSize, includeNextToken, maxPatchLength);
    }

    public Mode mode() {
        return mode;
    }

    public float threshold() {
        return threshold;
    }

    public float thresholdAdd() {
        return thresholdAdd;
    }

    public double patchSize() {
        return patchSize;
    }

    @Override
    public boolean includeNextToken() {
        return includeNextToken;
    }

    @Override
    public int maxPatchLength() {
        return maxPatchLength;
    }

    /** True for the threshold modes, whose decisions can be made on a stream. */
    public boolean isIncremental() {
        return mode != Mode.TOP_K;
    }

    /**
     * Decision for position p ≥ 2 in a threshold mode, from H[p-1] and H[p-2] only (the reason these
     * modes are incremental, §4.7). Shared by the array and streaming forms.
     */
    boolean startsAt(long p, float hPrev, float hPrev2) {
        switch (mode) {
            case GLOBAL:
                return hPrev > threshold;
            case MONOTONIC:
                return p == 2 || hPrev - hPrev2 > threshold;
            case COMBINED:
                // §4.2 quirk: the vectorised reference masks out position 3 unconditionally.
                if (p == 2) {
                    return true;
                }
                if (p == 3) {
                    return false;
                }
                return hPrev - hPrev2 > thresholdAdd && hPrev > threshold;
            default:
                throw new IllegalStateException("not a threshold mode: " + mode);
        }
    }

    @Override
    public boolean[] startFlags(int[] tokens, float[] entropies) {
        if (entropies == null) {
            throw new IllegalArgumentException("entropy patching needs entropies");
        }
        int n = Patcher.sequenceLength(tokens, entropies);
        return startFlags(entropies, n);
    }

    /** Start flags from entropies alone (H[0] is ignored). */
    public boolean[] startFlags(float[] entropies) {
        return startFlags(entropies, entropies.length);
    }

    /** Patch lengths from entropies alone. */
    public int[] lengths(float[] entropies) {
        return lengths(null, entropies);
    }

    private boolean[] startFlags(float[] h, int n) {
        int total = Patcher.flagCount(n, includeNextToken);
        boolean[] flags = new boolean[total];
        for (int p = 0; p < Math.min(2, total); p++) {
            flags[p] = true; // BOS alone, and position 1 always starts (§4)
        }
        if (mode == Mode.TOP_K) {
            topK(h, n, flags);
            return flags;
        }
        for (int p = 2; p < total; p++) {
            flags[p] = startsAt(p, h[p - 1], p >= 3 ? h[p - 2] : 0f);
        }
        return flags;
    }

    private void topK(float[] h, int n, boolean[] flags) {
        // Candidates are positions p = 2..N (H[p-1] for p-1 in 1..N-1), chosen regardless of the
        // next-slot setting; a chosen p = N without the slot gives an empty trailing patch that the
        // reference trims, i.e. it is dropped here.
        int k = (int) Math.floor(n / patchSize) - 2;
        int candidates = n - 1;
        k = Math.max(0, Math.min(k, candidates));
        Integer[] order = new Integer[Math.max(0, candidates)];
        for (int j = 0; j < order.length; j++) {
            order[j] = j + 1;
        }
        // Ties: lower index first (torch.topk leaves tie order unspecified).
        Arrays.sort(order, (a, b) -> {
            int c = Float.compare(h[b], h[a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        for (int j = 0; j < k; j++) {
            int p = order[j] + 1;
            if (p < flags.length) {
                flags[p] = true;
            }
        }
    }
}
