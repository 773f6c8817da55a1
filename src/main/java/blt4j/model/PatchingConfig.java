package blt4j.model;

/**
 * A model's patching settings with the reference's meaning (BLT-REFERENCE §4, {@code PatcherArgs}): the mode
 * ({@code entropy}, {@code space}, {@code static}, {@code byte}); for entropy patching a threshold (null: top-k with
 * {@code patchSize}), an optional {@code thresholdAdd} (the combined rule) and {@code monotonicity} (which takes
 * precedence, as in the reference); {@code maxPatchLength} splits long patches (null: unlimited).
 */
public record PatchingConfig(String mode, Double threshold, Double thresholdAdd, boolean monotonicity, Integer maxPatchLength,
                             double patchSize) {

    public PatchingConfig {
        if (mode == null) {
            throw new IllegalArgumentException("patching_mode is missing");
        }
        if (!mode.equals("entropy") && !mode.equals("space") && !mode.equals("static") && !mode.equals("byte")) {
            throw new IllegalArgumentException("patching_mode '" + mode + "' is not supported (entropy, space, static, byte)");
        }
        if (maxPatchLength != null && maxPatchLength < 1) {
            throw new IllegalArgumentException("max_patch_length must be at least 1, got " + maxPatchLength);
        }
        if (threshold != null && Double.isNaN(threshold) || thresholdAdd != null && Double.isNaN(thresholdAdd)) {
            throw new IllegalArgumentException("patching thresholds must be numbers");
        }
        if ((mode.equals("static") || mode.equals("entropy") && threshold == null) && !(patchSize >= 1)) {
            throw new IllegalArgumentException("patch_size must be at least 1 for " + mode + " patching, got " + patchSize);
        }
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
