package blt4j.train;

import java.util.List;

/** Where a run stands: the step reached, its options and the loss history so far. */
public record TrainingState(int step, TrainOptions options, List<Point> history) {

    /** One logged step; evalBitsPerByte is null when no evaluation ran at that step. */
    public record Point(int step, double loss, double lr, double bytesPerSec, Double evalBitsPerByte) {}
}
