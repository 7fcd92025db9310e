package org.conv4j;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The Java backend's threads: one daemon worker per available processor beyond the first, started
 * on first use. A call runs on its own thread and borrows the workers that are idle, up to the
 * thread count it asks for; when concurrent calls hold them all it simply runs with fewer, so
 * calls × threads never exceed the cores. Handing over and joining use only atomics and
 * park/unpark, so a call allocates nothing.
 */
final class JavaWorkers {
    /** Work that any number of threads may run at once, each claiming units until none are left. */
    abstract static class Task {
        private final AtomicInteger running = new AtomicInteger();
        private volatile Thread waiter;
        private volatile Throwable failure;

        /** Claims and runs units until none are left; called once per participating thread. */
        abstract void work();
    }

    private static final class Worker extends Thread {
        final AtomicReference<Task> task = new AtomicReference<>();

        Worker(int index) {
            super("conv4j-java-" + index);
            setDaemon(true);
        }

        @Override
        public void run() {
            for (;;) {
                Task t = task.get();
                if (t == null) {
                    LockSupport.park(this);
                    continue;
                }
                runGuarded(t);
                task.set(null); // free for the next call before the caller can return
                if (t.running.decrementAndGet() == 0) {
                    LockSupport.unpark(t.waiter);
                }
            }
        }
    }

    private static final class Pool {
        static final Worker[] WORKERS = start(Runtime.getRuntime().availableProcessors() - 1);

        private static Worker[] start(int n) {
            Worker[] workers = new Worker[Math.max(n, 0)];
            for (int i = 0; i < workers.length; i++) {
                workers[i] = new Worker(i + 1);
                workers[i].start();
            }
            return workers;
        }
    }

    /** Tasks handed to a worker since start: lets tests see that a call stayed on its own thread. */
    private static final AtomicLong HANDOFFS = new AtomicLong();

    private JavaWorkers() {}

    static long handoffs() {
        return HANDOFFS.get();
    }

    /** Threads a call with this thread count may use: 0 = all processors; never more than them. */
    static int effectiveThreads(int threads) {
        int cores = Runtime.getRuntime().availableProcessors();
        return threads <= 0 ? cores : Math.min(threads, cores);
    }

    /**
     * Runs {@code task} on the calling thread and on up to {@code threads - 1} idle workers;
     * returns when all of them are done and rethrows the first failure.
     */
    static void invoke(Task task, int threads) {
        task.failure = null;
        task.waiter = Thread.currentThread();
        task.running.set(1);
        int helpers = 0;
        if (threads > 1) {
            for (Worker w : Pool.WORKERS) {
                if (helpers >= threads - 1) {
                    break;
                }
                task.running.incrementAndGet();
                if (w.task.compareAndSet(null, task)) {
                    HANDOFFS.incrementAndGet();
                    LockSupport.unpark(w);
                    helpers++;
                } else {
                    task.running.decrementAndGet();
                }
            }
        }
        runGuarded(task);
        if (task.running.decrementAndGet() != 0) {
            while (task.running.get() != 0) {
                LockSupport.park(task);
            }
        }
        Throwable f = task.failure;
        if (f != null) {
            task.failure = null;
            if (f instanceof RuntimeException) {
                throw (RuntimeException) f;
            }
            if (f instanceof Error) {
                throw (Error) f;
            }
            throw new IllegalStateException(f);
        }
    }

    private static void runGuarded(Task t) {
        try {
            t.work();
        } catch (Throwable e) {
            if (t.failure == null) {
                t.failure = e;
            }
        }
    }
}
