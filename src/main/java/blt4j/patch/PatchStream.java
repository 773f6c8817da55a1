package blt4j.patch;

/**
 * Patch decisions made one byte at a time, for generation: after token p (and its entropy H[p]) is known, does
 * position p+1 start a patch? Equal, position for position, to the starts of {@link Patcher#lengths} with the
 * next-byte slot, max-length splitting included (splitting front to back is a forced start every m positions).
 */
public final class PatchStream {
    private final Patcher rule;
    private final int maxPatchLength;
    private long position = -1;
    private long currentStart;
    private int lastToken;
    private float lastEntropy;

    PatchStream(Patcher rule, int maxPatchLength) {
        this.rule = rule;
        this.maxPatchLength = maxPatchLength;
    }

    /** Feeds the next token and its entropy (ignored by rules without entropies); true when the following position starts a patch. */
    public boolean next(int token, float entropy) {
        position++;
        long q = position + 1;
        boolean start = q <= 1 || startsByRule(q, token, entropy);
        if (!start && maxPatchLength > 0 && q - currentStart >= maxPatchLength) {
            start = true;
        }
        if (start) {
            currentStart = q;
        }
        lastToken = token;
        lastEntropy = entropy;
        return start;
    }

    private boolean startsByRule(long q, int token, float entropy) {
        if (rule instanceof EntropyPatcher) {
            return ((EntropyPatcher) rule).startsAt(q, entropy, lastEntropy);
        }
        if (rule instanceof SpacePatcher) {
            return SpacePatcher.startsAfter(token, lastToken);
        }
        if (rule instanceof StridePatcher) {
            return ((StridePatcher) rule).startsAt(q);
        }
        if (rule instanceof BytePatcher) {
            return true;
        }
        throw new IllegalStateException("no streaming form for " + rule.getClass().getSimpleName());
    }

    /** A copy in the same state (speculative decoding keeps one per drafted byte to roll back to). */
    public PatchStream copy() {
        PatchStream c = new PatchStream(rule, maxPatchLength);
        c.position = position;
        c.currentStart = currentStart;
        c.lastToken = lastToken;
        c.lastEntropy = lastEntropy;
        return c;
    }

    /** Tokens fed so far. */
    public long count() {
        return position + 1;
    }
}
