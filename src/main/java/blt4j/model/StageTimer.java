package blt4j.model;

import blt4j.compute.Backend;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Wall time and counted FLOPs per named stage (entropy model, local encoder, global transformer, ...), for
 * benchmarks. Stages are flat: {@link #begin} closes the running stage first. Each boundary synchronises the
 * backend, so device backends attribute queued work to the right stage (at the price of a stall per boundary).
 */
public final class StageTimer {
    public static final String ENTROPY = "entropy model";
    public static final String PATCHING = "patching";
    public static final String ENCODER = "local encoder";
    public static final String GLOBAL = "global transformer";
    public static final String DECODER = "local decoder";
    public static final String LOSS = "loss";
    public static final String OPTIMIZER = "optimizer";

    /** Totals of one stage: calls, nanoseconds and FLOPs counted by the backend. */
    public static final class Totals {
        public long calls;
        public long nanos;
        public long flops;
    }

    private final Backend backend;
    private final Map<String, Totals> totals = new LinkedHashMap<>();
    private String current;
    private long startNanos;
    private long startFlops;

    public StageTimer(Backend backend) {
        this.backend = backend;
    }

    /** Ends the running stage (if any) and starts {@code stage}. */
    public void begin(String stage) {
        end();
        backend.synchronize();
        current = stage;
        startFlops = backend.flops();
        startNanos = System.nanoTime();
    }

    /** Ends the running stage, if any. */
    public void end() {
        if (current == null) {
            return;
        }
        backend.synchronize();
        Totals t = totals.computeIfAbsent(current, k -> new Totals());
        t.calls++;
        t.nanos += System.nanoTime() - startNanos;
        t.flops += backend.flops() - startFlops;
        current = null;
    }

    /** stage → totals, in first-seen order. */
    public Map<String, Totals> totals() {
        return Collections.unmodifiableMap(totals);
    }

    public void reset() {
        current = null;
        totals.clear();
    }
}
