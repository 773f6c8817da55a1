package blt4j.patch;

import blt4j.model.EntropyModel;
import blt4j.model.PatchingConfig;
import java.util.BitSet;

/**
 * The one patching stage (the reference's {@code Patcher.patch}): a model's {@link PatchingConfig} selects the
 * rule (global, monotonic or combined entropy thresholds, top-k, space, static stride, byte) and
 * {@code max_patch_length}; the entropy model, when the rule needs one, scores the bytes. Every command patches
 * through this type, in three forms: whole sequences ({@link #lengths}), the streaming decision used by generation
 * ({@link #stream}) and stream-level starts for a training corpus ({@link #streamStarts}).
 */
public final class PatchingScheme {
    private final PatchingConfig config;
    private final Patcher withSlot;
    private final Patcher withoutSlot;
    private final EntropyModel entropyModel;

    private PatchingScheme(PatchingConfig config, EntropyModel entropyModel, boolean givenEntropies) {
        this.config = config;
        this.withSlot = patcher(config, true);
        this.withoutSlot = patcher(config, false);
        if (config.needsEntropies() && entropyModel == null && !givenEntropies) {
            throw new IllegalArgumentException("patching '" + config.describe() + "' needs an entropy model");
        }
        this.entropyModel = config.needsEntropies() ? entropyModel : null;
    }

    /** @param entropyModel scores bytes for entropy patching; may be null for the other modes */
    public static PatchingScheme of(PatchingConfig config, EntropyModel entropyModel) {
        return new PatchingScheme(config, entropyModel, false);
    }

    /**
     * A scheme that is always handed its entropies ({@link #lengths(int[], float[])}, {@link #stream} fed by the
     * caller, {@link #streamStarts}); it cannot score bytes itself.
     */
    public static PatchingScheme of(PatchingConfig config, EntropyModel entropyModel, boolean givenEntropies) {
        return new PatchingScheme(config, entropyModel, givenEntropies);
    }

    /** The rule of a config as a {@link Patcher}, with or without the next-byte slot (BLT-REFERENCE §4.6). */
    public static Patcher patcher(PatchingConfig c, boolean includeNextToken) {
        int max = c.maxPatchLength() == null ? 0 : c.maxPatchLength();
        switch (c.mode()) {
            case "entropy": {
                EntropyPatcher p;
                if (c.threshold() == null) {
                    p = EntropyPatcher.topK(c.patchSize());
                } else if (c.monotonicity()) {
                    p = EntropyPatcher.monotonic(c.threshold().floatValue());
                } else if (c.thresholdAdd() != null) {
                    p = EntropyPatcher.combined(c.threshold().floatValue(), c.thresholdAdd().floatValue());
                } else {
                    p = EntropyPatcher.global(c.threshold().floatValue());
                }
                return p.withIncludeNextToken(includeNextToken).withMaxPatchLength(max);
            }
            case "space":
                return new SpacePatcher(includeNextToken, max);
            case "static":
                // BOS alone, then strides: the model's first patch must be one byte (BLT-REFERENCE §15.6)
                return new StridePatcher((int) c.patchSize(), true, includeNextToken, max);
            case "byte":
                return new BytePatcher(includeNextToken);
            default:
                throw new IllegalArgumentException("patching_mode '" + c.mode() + "' is not supported");
        }
    }

    public PatchingConfig config() {
        return config;
    }

    /** The entropy model that scores bytes for this scheme; null when the rule needs none. */
    public EntropyModel entropyModel() {
        return entropyModel;
    }

    public boolean needsEntropies() {
        return config.needsEntropies();
    }

    /** The scheme's patcher (max length applied), with or without the next-byte slot. */
    public Patcher patcher(boolean includeNextToken) {
        return includeNextToken ? withSlot : withoutSlot;
    }

    /** True when each decision uses only earlier tokens, so generation can patch on the fly (BLT-REFERENCE §4.7). */
    public boolean isIncremental() {
        return !(withSlot instanceof EntropyPatcher) || ((EntropyPatcher) withSlot).isIncremental();
    }

    /** Next-byte entropies of a whole token sequence (null when the rule needs none). */
    public float[] entropies(int[] tokens) {
        if (entropyModel == null && config.needsEntropies()) {
            throw new IllegalStateException("this scheme was built without an entropy model: pass the entropies");
        }
        return entropyModel == null ? null : new EntropyScorer(entropyModel).score(tokens);
    }

    /** Patch lengths of one sequence with the next-byte slot (sum N+1), scoring it when the rule needs entropies. */
    public int[] lengths(int[] tokens) {
        return lengths(tokens, entropies(tokens));
    }

    /** Patch lengths with the next-byte slot from given entropies (ignored by rules that need none). */
    public int[] lengths(int[] tokens, float[] entropies) {
        return withSlot.lengths(tokens, entropies);
    }

    /**
     * Stream-level starts of a whole corpus stream (bit t: token t starts a patch), by the rule without max-length
     * splitting; training rows add their forced starts and split long patches ({@link #rowLengths}).
     */
    public BitSet streamStarts(int[] ids, float[] entropies) {
        boolean[] flags = withoutSlotUnlimited().startFlags(ids, entropies);
        BitSet s = new BitSet(flags.length);
        for (int t = 0; t < flags.length; t++) {
            if (flags[t]) {
                s.set(t);
            }
        }
        return s;
    }

    private Patcher withoutSlotUnlimited() {
        PatchingConfig c = config;
        return patcher(new PatchingConfig(c.mode(), c.threshold(), c.thresholdAdd(), c.monotonicity(), null, c.patchSize()), false);
    }

    /**
     * Patch lengths of a training row [BOS] + stream[start, start + n − 1): the BOS alone, a forced start at
     * position 1 (the first patch must be one byte, BLT-REFERENCE §9.2), the stream's own starts after that, the
     * next-byte slot, then max-length splitting.
     */
    public int[] rowLengths(BitSet streamStarts, int streamLength, int start, int n) {
        int[] starts = new int[n + 2];
        int count = 0;
        starts[count++] = 0;
        starts[count++] = 1;
        for (int p = 2; p < n; p++) {
            int t = start + p - 1;
            if (t < streamLength && streamStarts.get(t)) {
                starts[count++] = p;
            }
        }
        int[] lengths = new int[count];
        for (int i = 0; i < count; i++) {
            lengths[i] = (i + 1 < count ? starts[i + 1] : n + 1) - starts[i]; // the last one holds the next-byte slot
        }
        return PatchIds.splitLongPatches(lengths, config.maxPatchLength() == null ? 0 : config.maxPatchLength());
    }

    /** The streaming decision for generation; refuses rules that need the whole sequence (top-k). */
    public PatchStream stream() {
        if (!isIncremental()) {
            throw new IllegalStateException("patching '" + config.describe() + "' needs the whole sequence; "
                    + "it cannot decide patches while generating");
        }
        return new PatchStream(withSlot, config.maxPatchLength() == null ? 0 : config.maxPatchLength());
    }
}
