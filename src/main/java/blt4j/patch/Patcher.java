package blt4j.patch;

/**
 * A patching scheme for one sequence (BLT-REFERENCE §4). Implementations only decide which positions start a
 * patch; turning flags into starts/lengths, the next-token slot (§4.6) and max-length splitting are
 * shared here so that every scheme follows the same conventions as the reference {@code Patcher.patch}.
 */
public interface Patcher {

    /**
     * True: flags/lengths cover positions 0..N (lengths sum N+1, the last patch may be the empty
     * next-byte slot); false: positions 0..N-1 (sum N). See §4.6.
     */
    boolean includeNextToken();

    /** Maximum patch length; 0 or negative means unlimited. */
    int maxPatchLength();

    /**
     * {@code flags[p]} is true iff position p starts a patch, before max-length splitting. Length is
     * N+1 with {@link #includeNextToken()}, else N (0 for an empty sequence). Either input may be
     * null when the scheme does not need it; N is taken from whichever is present.
     */
    boolean[] startFlags(int[] tokens, float[] entropies);

    /** Patch lengths (no zeros), after max-length splitting. */
    default int[] lengths(int[] tokens, float[] entropies) {
        boolean[] flags = startFlags(tokens, entropies);
        int[] lengths = PatchIds.startsToLengths(PatchIds.flagsToStarts(flags), flags.length);
        return PatchIds.splitLongPatches(lengths, maxPatchLength());
    }

    /** Patch start positions consistent with {@link #lengths} (so after splitting). */
    default int[] starts(int[] tokens, float[] entropies) {
        return PatchIds.lengthsToStarts(lengths(tokens, entropies));
    }

    /** N of the sequence from whichever input is present. */
    static int sequenceLength(int[] tokens, float[] entropies) {
        if (tokens != null) {
            if (entropies != null && entropies.length != tokens.length) {
                throw new IllegalArgumentException(
                        "tokens (" + tokens.length + ") and entropies (" + entropies.length + ") differ in length");
            }
            return tokens.length;
        }
        if (entropies != null) {
            return entropies.length;
        }
        throw new IllegalArgumentException("need tokens or entropies");
    }

    /** Number of flag positions: N+1 with the next-token slot, else N; 0 for an empty sequence. */
    static int flagCount(int n, boolean includeNextToken) {
        return n == 0 ? 0 : n + (includeNextToken ? 1 : 0);
    }
}
