package blt4j.train;

import java.util.Arrays;

/** The simplest byte model: held-out bits/byte of the training data's token frequencies (add-one smoothing). */
public final class UnigramBaseline {
    private UnigramBaseline() {}

    public static double bitsPerByte(Corpus train, Corpus heldOut) {
        double[] counts = new double[260];
        Arrays.fill(counts, 1.0);
        for (int i = 0; i < train.length(); i++) {
            counts[train.id(i)]++;
        }
        double total = 0;
        for (double c : counts) {
            total += c;
        }
        double bits = 0;
        for (int i = 0; i < heldOut.length(); i++) {
            bits -= Math.log(counts[heldOut.id(i)] / total) / Math.log(2);
        }
        return bits / heldOut.length();
    }
}
