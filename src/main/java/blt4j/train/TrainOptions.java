package blt4j.train;

import java.nio.file.Path;

/** Everything that shapes a training run; stored in the checkpoint so a resume continues the same run. */
public record TrainOptions(
        int batchRows,
        int seqLen,
        double peakLr,
        int warmupSteps,
        double minLrRatio,
        double weightDecay,
        double clipNorm,
        int maxSteps,
        double minutes,
        int evalEvery,
        int evalBatches,
        int checkpointEvery,
        int logEvery,
        long seed,
        Path runDir) {

    public LrSchedule schedule() {
        return new LrSchedule(peakLr, warmupSteps, maxSteps, minLrRatio);
    }
}
