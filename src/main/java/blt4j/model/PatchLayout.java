package blt4j.model;

import blt4j.compute.Ranges;
import blt4j.nn.RangeBuffer;

/**
 * Everything the BLT forward derives from patch lengths, for a batch of rows of n bytes flattened into one
 * sequence of rows·n bytes and Σ P_b patches: the bytes of each patch, the patch each encoder slot pools, the
 * patch each decoder byte reads (BLT-REFERENCE §7.2), and the global block-causal mask (§6.1).
 *
 * <p>Worked example (one row, n = 8, lengths [1, 1, 3, 3, 1], the last being the empty next-byte slot):
 * patch bytes [0,1) [1,2) [2,5) [5,8) [8,8); the decoder drops the first length, so bytes 0..7 read patches
 * 0, 1, 1, 1, 2, 2, 2, 3: byte i reads the patch before the one that contains byte i + 1, never its own future.
 */
public final class PatchLayout {
    final int rows;
    final int bytesPerRow;
    final int totalPatches;
    final int[] patchRow;
    final int[] patchStart;
    final int[] patchEnd;
    final int[] patchPosition;
    final int[] decoderPatch;
    final boolean[] patchHasEos;

    /**
     * @param lengths per row, patch lengths summing to n+1 (next-byte slot) or n; the first must be 1
     */
    public PatchLayout(int[] tokens, int rows, int n, int[][] lengths, int eosId) {
        if (lengths.length != rows) {
            throw new IllegalArgumentException("patch lengths given for " + lengths.length + " rows, expected " + rows);
        }
        int total = 0;
        for (int[] l : lengths) {
            total += l.length;
        }
        this.rows = rows;
        this.bytesPerRow = n;
        this.totalPatches = total;
        patchRow = new int[total];
        patchStart = new int[total];
        patchEnd = new int[total];
        patchPosition = new int[total];
        patchHasEos = new boolean[total];
        decoderPatch = new int[rows * n];
        int p = 0;
        for (int b = 0; b < rows; b++) {
            int[] l = lengths[b];
            long sum = 0;
            for (int v : l) {
                if (v < 0) {
                    throw new IllegalArgumentException("row " + b + ": negative patch length " + v);
                }
                sum += v;
            }
            if (sum != n && sum != n + 1) {
                throw new IllegalArgumentException("row " + b + ": patch lengths sum to " + sum + ", expected " + n
                        + " or " + (n + 1) + " (with the next-byte slot)");
            }
            if (l.length == 0 || l[0] != 1) {
                throw new IllegalArgumentException("row " + b + ": the first patch must be exactly one byte (BOS), got "
                        + (l.length == 0 ? "no patches" : l[0]));
            }
            int firstPatch = p;
            int at = 0;
            for (int j = 0; j < l.length; j++, p++) {
                int from = Math.min(at, n);
                int to = Math.min(at + l[j], n);
                patchRow[p] = b;
                patchStart[p] = b * n + from;
                patchEnd[p] = b * n + to;
                patchPosition[p] = j;
                for (int i = from; i < to; i++) {
                    if (tokens[b * n + i] == eosId) {
                        patchHasEos[p] = true;
                    }
                }
                at += l[j];
            }
            // decoder ids: lengths without the first patch, laid over positions 0..n-1
            int pos = 0;
            for (int j = 1; j < l.length && pos < n; j++) {
                for (int c = 0; c < l[j] && pos < n; c++) {
                    decoderPatch[b * n + pos++] = firstPatch + (j - 1);
                }
            }
            if (pos < n) {
                throw new IllegalArgumentException("row " + b + ": patch lengths do not cover the row");
            }
        }
    }

    public int totalPatches() {
        return totalPatches;
    }

    /** Bytes of each patch, for max-pooling (empty for the next-byte slot). */
    Ranges patchBytes(RangeBuffer b) {
        for (int p = 0; p < totalPatches; p++) {
            b.lo[p] = patchStart[p];
            b.hi[p] = patchEnd[p];
        }
        return b.ranges(totalPatches);
    }

    /** Encoder cross-attention: slot r of patch p sees exactly the bytes of patch p. */
    Ranges encoderSlots(RangeBuffer b, int k) {
        for (int p = 0; p < totalPatches; p++) {
            for (int r = 0; r < k; r++) {
                b.lo[p * k + r] = patchStart[p];
                b.hi[p * k + r] = patchEnd[p];
            }
        }
        return b.ranges(totalPatches * k);
    }

    /** Decoder cross-attention: byte i sees the k slots of its decoder patch. */
    Ranges decoderSlots(RangeBuffer b, int k) {
        for (int i = 0; i < decoderPatch.length; i++) {
            b.lo[i] = decoderPatch[i] * k;
            b.hi[i] = b.lo[i] + k;
        }
        return b.ranges(decoderPatch.length);
    }

    /** Global mask: causal over each row's patches, documents split after a patch that contains EOS. */
    Ranges globalMask(RangeBuffer b) {
        int docStart = 0;
        for (int p = 0; p < totalPatches; p++) {
            if (patchPosition[p] == 0) {
                docStart = p;
            }
            b.lo[p] = docStart;
            b.hi[p] = p + 1;
            if (patchHasEos[p]) {
                docStart = p + 1;
            }
        }
        return b.ranges(totalPatches);
    }

    /** Global RoPE position of each patch: its index within its row. */
    int[] patchPositions() {
        return patchPosition;
    }
}
