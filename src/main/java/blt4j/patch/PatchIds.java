package blt4j.patch;

import blt4j.tokenizer.ByteTokenizer;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Conversions between patch representations (flags, starts, lengths, per-byte patch ids) that the
 * encoder, decoder and global masks need; kept apart from the patchers so that lengths computed
 * elsewhere (e.g. loaded from a fixture) go through exactly the same code.
 */
public final class PatchIds {
    private PatchIds() {}

    /** Positions whose flag is set, ascending. */
    public static int[] flagsToStarts(boolean[] flags) {
        int c = 0;
        for (boolean f : flags) {
            if (f) {
                c++;
            }
        }
        int[] starts = new int[c];
        int j = 0;
        for (int p = 0; p < flags.length; p++) {
            if (flags[p]) {
                starts[j++] = p;
            }
        }
        return starts;
    }

    /** Lengths of patches starting at {@code starts} (ascending, first 0) and covering [0, total). */
    public static int[] startsToLengths(int[] starts, int total) {
        int[] lengths = new int[starts.length];
        for (int i = 0; i < starts.length; i++) {
            int end = i + 1 < starts.length ? starts[i + 1] : total;
            lengths[i] = end - starts[i];
            if (lengths[i] < 0) {
                throw new IllegalArgumentException("starts not ascending or beyond total at index " + i);
            }
        }
        return lengths;
    }

    /** Start position of every patch (exclusive prefix sum). */
    public static int[] lengthsToStarts(int[] lengths) {
        int[] starts = new int[lengths.length];
        int acc = 0;
        for (int i = 0; i < lengths.length; i++) {
            starts[i] = acc;
            acc += lengths[i];
        }
        return starts;
    }

    /**
     * Encoder patch index of each of the first {@code n} positions: the number of patch boundaries
     * (prefix sums, including 0) at or before i, minus one. Empty patches are thus skipped, as in the
     * reference; positions past the last patch get P.
     */
    public static int[] patchIdsFromLengths(int[] lengths, int n) {
        int[] ids = new int[n];
        int j = 0; // index into boundaries cum[0..P]; cum[0] = 0
        long cumNext = lengths.length > 0 ? lengths[0] : Long.MAX_VALUE; // cum[j + 1]
        for (int i = 0; i < n; i++) {
            while (j < lengths.length && cumNext <= i) {
                j++;
                cumNext = j < lengths.length ? cumNext + lengths[j] : Long.MAX_VALUE;
            }
            ids[i] = j;
        }
        return ids;
    }

    /**
     * Global output index each byte position reads in the decoder (§7.2): patch ids over the lengths
     * with the first (BOS) patch dropped. Dropping it is what makes position i use the patch before
     * the one that contains byte i+1; getting this wrong leaks the future (§15.5).
     */
    public static int[] decoderPatchIds(int[] lengths, int n) {
        if (lengths.length == 0) {
            throw new IllegalArgumentException("no patches");
        }
        return patchIdsFromLengths(Arrays.copyOfRange(lengths, 1, lengths.length), n);
    }

    /**
     * Per-patch marker for the global block-causal mask: {@link ByteTokenizer#EOS} for every patch
     * containing an EOS token, else {@link ByteTokenizer#BOE} (§8, §15.14).
     */
    public static int[] globalTokens(int[] tokens, int[] lengths) {
        int[] out = new int[lengths.length];
        int[] ids = patchIdsFromLengths(lengths, tokens.length);
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] == ByteTokenizer.EOS && ids[i] < out.length) {
                out[ids[i]] = ByteTokenizer.EOS;
            }
        }
        return out;
    }

    /** Splits every patch longer than m front to back into chunks of m (11, m=4 → 4,4,3); m ≤ 0: no-op. */
    public static int[] splitLongPatches(int[] lengths, int m) {
        if (m <= 0) {
            return lengths.clone();
        }
        int count = 0;
        for (int l : lengths) {
            count += l > m ? (l + m - 1) / m : 1;
        }
        int[] out = new int[count];
        int j = 0;
        for (int l : lengths) {
            while (l > m) {
                out[j++] = m;
                l -= m;
            }
            out[j++] = l;
        }
        return out;
    }

    /** A sink that forwards lengths to {@code sink}, splitting those longer than m; m ≤ 0: {@code sink}. */
    public static IntConsumer splitting(IntConsumer sink, int m) {
        if (m <= 0) {
            return sink;
        }
        return l -> {
            while (l > m) {
                sink.accept(m);
                l -= m;
            }
            sink.accept(l);
        };
    }
}
