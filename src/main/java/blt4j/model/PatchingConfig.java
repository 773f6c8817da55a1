package blt4j.model;

/**
 * A model's patching settings with the reference's meaning (BLT-REFERENCE §4, {@code PatcherArgs}): the mode
 * ({@code entropy}, {@code space}, {@code static}, {@code byte}); for entropy patching a threshold (null: top-k with
 * {@code patchSize}), an optional {@code thresholdAdd} (the combined rule) and {@code monotonicity} (which takes
 * precedence, as in the reference); {@code maxPatchLength} splits long patches (null: unlimited).
 */
public record PatchingConfig(String mode, Double threshold, Double thresholdAdd, boolean monotonicity, Integer maxPatchLength,
                             double patchSize) {

    /**
     * Checks the settings; problems are a {@link ConfigException} naming the BLT config field (patching_mode,
     * patching_threshold, patching_threshold_add, max_patch_length, patch_size).
     */
    public PatchingConfig {
        String src = "config";
        ConfigException.require(mode != null, src, "patching_mode", null, "is missing (entropy, space, static or byte)");
        ConfigException.require(mode.equals("entropy") || mode.equals("space") || mode.equals("static") || mode.equals("byte"),
                src, "patching_mode", "\"" + mode + "\"", "must be entropy, space, static or byte");
        ConfigException.require(maxPatchLength == null || maxPatchLength >= 1, src, "max_patch_length", maxPatchLength,
                "must be null (no limit) or ≥ 1");
        ConfigException.require(threshold == null || Double.isFinite(threshold), src, "patching_threshold", threshold,
                "must be null (top-k) or a finite number");
        ConfigException.require(thresholdAdd == null || Double.isFinite(thresholdAdd), src, "patching_threshold_add",
                thresholdAdd, "must be null or a finite number");
        boolean usesSize = mode.equals("static") || mode.equals("entropy") && threshold == null;
        ConfigException.require(!usesSize || Double.isFinite(patchSize) && patchSize >= 1, src, "patch_size", patchSize,
                "must be finite and ≥ 1 for " + mode + (mode.equals("entropy") ? " top-k" : "") + " patching");
    }

    /** The released models' setting: global entropy threshold θ. */
    public static PatchingConfig globalThreshold(double threshold) {
        return new PatchingConfig("entropy", threshold, null, false, null, 4.5);
    }

    /** True when patches come from the entropy model's scores. */
    public boolean needsEntropies() {
        return mode.equals("entropy");
    }

    /** A copy with another threshold (command-line overrides, threshold search). */
    public PatchingConfig withThreshold(double t) {
        return new PatchingConfig(mode, t, thresholdAdd, monotonicity, maxPatchLength, patchSize);
    }

    /** One line for logs: "entropy monotonic θ=0.6, max 8". */
    public String describe() {
        StringBuilder b = new StringBuilder(mode);
        if (mode.equals("entropy")) {
            if (threshold == null) {
                b.append(" top-k (patch size ").append(patchSize).append(')');
            } else if (monotonicity) {
                b.append(String.format(" monotonic θ=%.4f", threshold));
            } else if (thresholdAdd != null) {
                b.append(String.format(" combined θ=%.4f θ_add=%.4f", threshold, thresholdAdd));
            } else {
                b.append(String.format(" global θ=%.4f", threshold));
            }
        } else if (mode.equals("static")) {
            b.append(" stride ").append((int) patchSize);
        }
        if (maxPatchLength != null) {
            b.append(", max length ").append(maxPatchLength);
        }
        return b.toString();
    }
}
