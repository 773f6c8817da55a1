package blt4j.model;

import blt4j.compute.AttentionMask;
import blt4j.compute.Backend;
import blt4j.compute.Ranges;

/**
 * Everything the BLT forward derives from patch lengths, for a batch of rows of n bytes flattened into one
 * sequence of rows·n bytes and Σ P_b patches: the bytes of each patch, the patch each encoder slot pools, the
 * patch each decoder byte reads (BLT-REFERENCE §7.2), and the global block-causal mask (§6.1).
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

    /** Decoder patch id of each byte within its row (index into that row's patches), as in the reference. */
    public int[] decoderPatchIdsInRow() {
        int[] out = new int[decoderPatch.length];
        int p0 = 0;
        for (int b = 0, p = 0; b < rows; b++) {
            while (p < totalPatches && patchRow[p] == b) {
                p++;
            }
            for (int i = 0; i < bytesPerRow; i++) {
                out[b * bytesPerRow + i] = decoderPatch[b * bytesPerRow + i] - p0;
            }
            p0 = p;
        }
        return out;
    }

    /** Bytes of each patch, for max-pooling (empty for the next-byte slot). */
    Ranges patchBytes(Backend backend) {
        return Ranges.of(backend, patchStart, patchEnd);
    }

    /** Encoder cross-attention: slot r of patch p sees exactly the bytes of patch p. */
    Ranges encoderSlots(Backend backend, int k) {
        int[] lo = new int[totalPatches * k];
        int[] hi = new int[totalPatches * k];
        for (int p = 0; p < totalPatches; p++) {
            for (int r = 0; r < k; r++) {
                lo[p * k + r] = patchStart[p];
                hi[p * k + r] = patchEnd[p];
            }
        }
        return Ranges.of(backend, lo, hi);
    }

    /** Decoder cross-attention: byte i sees the k slots of its decoder patch. */
    Ranges decoderSlots(Backend backend, int k) {
        int[] lo = new int[decoderPatch.length];
        int[] hi = new int[decoderPatch.length];
        for (int i = 0; i < decoderPatch.length; i++) {
            lo[i] = decoderPatch[i] * k;
            hi[i] = lo[i] + k;
        }
        return Ranges.of(backend, lo, hi);
    }

    /** Global mask: causal over each row's patches, documents split after a patch that contains EOS. */
    Ranges globalMask(Backend backend) {
        int[] lo = new int[totalPatches];
        int[] hi = new int[totalPatches];
        int docStart = 0;
        for (int p = 0; p < totalPatches; p++) {
            if (patchPosition[p] == 0) {
                docStart = p;
            }
            lo[p] = docStart;
            hi[p] = p + 1;
            if (patchHasEos[p]) {
                docStart = p + 1;
            }
        }
        return AttentionMask.cross(backend, lo, hi);
    }

    int[] patchPositions() {
        return patchPosition.clone();
    }
}
