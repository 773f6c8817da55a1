package blt4j.train;

import blt4j.model.Batch;
import blt4j.model.TrainableModel;

/**
 * Held-out bits per byte: Σ next-token loss (nats) / (ln 2 · number of predicted bytes) (BLT-REFERENCE §9.1). For a
 * byte model a token is a byte; for the BPE model the divisor is the bytes its predicted tokens stand for.
 */
public final class Evaluator {
    private Evaluator() {}

    /** @param meanLossNats nats per predicted byte */
    public record Result(double bitsPerByte, double meanLossNats, long predictedBytes) {}

    public static Result evaluate(TrainableModel model, Batch[] batches) {
        double sumNats = 0;
        long count = 0;
        for (Batch b : batches) {
            int n = b.counted();
            if (n == 0) {
                continue;
            }
            double mean = model.evaluateLoss(b);
            sumNats += mean * n;
            count += b.predictedBytes();
        }
        if (count == 0) {
            throw new IllegalArgumentException("held-out data has no bytes to predict");
        }
        double meanNats = sumNats / count;
        return new Result(meanNats / Math.log(2), meanNats, count);
    }
}
