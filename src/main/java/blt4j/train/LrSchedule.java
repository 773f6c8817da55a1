package blt4j.train;

/** Linear warm-up to the peak, then cosine decay to {@code minRatio}·peak at the last step (the reference's schedule). */
public record LrSchedule(double peak, int warmupSteps, int totalSteps, double minRatio) {

    public double at(int step) {
        if (warmupSteps > 0 && step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        int decaySteps = Math.max(1, totalSteps - warmupSteps);
        double progress = Math.min(1.0, (double) (step - warmupSteps) / decaySteps);
        double cosine = 0.5 * (1 + StrictMath.cos(Math.PI * progress));
        return peak * (minRatio + (1 - minRatio) * cosine);
    }
}
