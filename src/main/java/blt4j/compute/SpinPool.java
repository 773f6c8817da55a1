package blt4j.compute;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The cpu backend's worker threads: each waits for its next chunk spinning for a while before it parks, so the
 * kernels of a step, which follow each other within microseconds, find their workers awake. Waking a parked thread
 * costs tens of microseconds on a VM; a 4096 × 128 × 128 product on two threads takes about 300, and handing it to a
 * parked worker cost 15–20% of its speed.
 */
final class SpinPool implements AutoCloseable {
    /** How long an idle worker spins before parking (a step's next kernel comes sooner; a pause between steps not). */
    static final long SPIN_NANOS = Long.getLong("blt4j.cpu.spinMicros", 200) * 1_000;

    private final Worker[] workers;
    private final AtomicInteger remaining = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile Throwable failure;
    private volatile boolean closed;

    /** workers threads, named prefix-1 …; each runs onStart first (on its own thread). */
    SpinPool(int workers, String prefix, Runnable onStart) {
        this.workers = new Worker[workers];
        for (int i = 0; i < workers; i++) {
            Worker w = new Worker();
            this.workers[i] = w;
            Thread t = new Thread(() -> {
                onStart.run();
                w.loop();
            }, prefix + (i + 1));
            t.setDaemon(true);
            w.thread = t;
            t.start();
        }
    }

    int workers() {
        return workers.length;
    }

    /**
     * Runs chunk(0) on the calling thread and chunk(1 .. parts-1) on workers, and returns when every chunk is done;
     * the first failure is rethrown. A call made while another is running (nested, or from a second thread) runs its
     * chunks on its own thread.
     */
    void run(int parts, IntConsumer chunk) {
        if (parts - 1 > workers.length) {
            throw new IllegalArgumentException(parts + " chunks for " + workers.length + " workers and the caller");
        }
        if (!busy.compareAndSet(false, true)) {
            // a kernel started inside a chunk on the calling thread, or a second thread using the same backend: the
            // workers are taken, so this call's chunks run here, one after another
            for (int t = 0; t < parts; t++) {
                chunk.accept(t);
            }
            return;
        }
        try {
            runOnWorkers(parts, chunk);
        } finally {
            busy.set(false);
        }
    }

    private void runOnWorkers(int parts, IntConsumer chunk) {
        failure = null;
        remaining.set(parts - 1);
        for (int t = 1; t < parts; t++) {
            workers[t - 1].give(chunk, t);
        }
        Throwable mine = null;
        try {
            chunk.accept(0);
        } catch (Throwable e) {
            mine = e;
        }
        long spins = 0;
        while (remaining.get() > 0) {
            if (++spins < 1_000_000) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(20_000);
            }
        }
        Throwable first = mine != null ? mine : failure;
        if (first instanceof RuntimeException re) {
            throw re;
        }
        if (first instanceof Error err) {
            throw err;
        }
        if (first != null) {
            throw new IllegalStateException("cpu kernel failed", first);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w.thread);
        }
    }

    private final class Worker {
        Thread thread;
        private volatile IntConsumer task;
        private volatile int index;
        private volatile boolean parked;

        void give(IntConsumer chunk, int t) {
            index = t;
            task = chunk;   // published after index (volatile write order)
            if (parked) {
                LockSupport.unpark(thread);
            }
        }

        void loop() {
            while (!closed) {
                IntConsumer job = await();
                if (job == null) {
                    continue;
                }
                try {
                    job.accept(index);
                } catch (Throwable e) {
                    if (failure == null) {
                        failure = e;
                    }
                } finally {
                    task = null;
                    remaining.decrementAndGet();
                }
            }
        }

        /** The next chunk: spins for SPIN_NANOS, then parks until given one (null when woken without one). */
        private IntConsumer await() {
            long start = System.nanoTime();
            while (true) {
                IntConsumer job = task;
                if (job != null) {
                    return job;
                }
                if (closed) {
                    return null;
                }
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                    continue;
                }
                parked = true;
                if (task == null && !closed) {
                    LockSupport.park(this);
                }
                parked = false;
                start = System.nanoTime();
            }
        }
    }
}
