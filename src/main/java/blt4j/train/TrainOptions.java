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
        Path runDir,
        double maxTrainFlops) {

    /** Options without a training-FLOP budget. */
    public TrainOptions(int batchRows, int seqLen, double peakLr, int warmupSteps, double minLrRatio, double weightDecay,
                        double clipNorm, int maxSteps, double minutes, int evalEvery, int evalBatches, int checkpointEvery,
                        int logEvery, long seed, Path runDir) {
        this(batchRows, seqLen, peakLr, warmupSteps, minLrRatio, weightDecay, clipNorm, maxSteps, minutes, evalEvery,
                evalBatches, checkpointEvery, logEvery, seed, runDir, 0);
    }

    public LrSchedule schedule() {
        return new LrSchedule(peakLr, warmupSteps, maxSteps, minLrRatio);
    }
}
