package blt4j.train;

import java.util.List;

/** Where a run stands: the step reached, its options, the loss history and the training FLOPs so far. */
public record TrainingState(int step, TrainOptions options, List<Point> history, double trainFlops) {

    public TrainingState(int step, TrainOptions options, List<Point> history) {
        this(step, options, history, 0);
    }

    /** One logged step; evalBitsPerByte is null when no evaluation ran at that step. */
    public record Point(int step, double loss, double lr, double bytesPerSec, Double evalBitsPerByte) {}
}
