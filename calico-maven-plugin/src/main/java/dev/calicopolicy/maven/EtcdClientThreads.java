package dev.calicopolicy.maven;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.apache.maven.plugin.logging.Log;

/**
 * The threads that etcd clients started while a goal ran, to wait for before the goal ends.
 *
 * <p>jetcd runs on a Vert.x instance of its own, and closing a client only starts stopping it.
 * Inside Maven that is not enough: Maven closes the plugin's class loader when the build ends, and
 * Vert.x threads still stopping then fail to load the classes they need and print errors after the
 * build's result. So the goal notes the threads that run before it connects and, at its end, waits
 * for the Vert.x threads that appeared since (named {@code vert.x-...} and {@code vertx-...}) to
 * finish, however the goal ends. jetcd gives no handle on its Vert.x instance to wait on instead.
 */
final class EtcdClientThreads {
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    private final Set<Thread> before;

    private EtcdClientThreads(Set<Thread> before) {
        this.before = before;
    }

    /** Notes the threads that run now. */
    static EtcdClientThreads noteRunning() {
        return new EtcdClientThreads(Set.copyOf(Thread.getAllStackTraces().keySet()));
    }

    /** Waits, up to 10 seconds in all, for the Vert.x threads started since to finish. */
    void awaitStopped(Log log) {
        long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
        for (Thread thread : started()) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            try {
                if (left <= 0 || !join(thread, left)) {
                    log.debug("calico: etcd client thread " + thread.getName() + " still runs");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** The Vert.x threads that did not run before. */
    List<Thread> started() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t))
                .filter(t -> t.getName().startsWith("vert.x-") || t.getName().startsWith("vertx-"))
                .toList();
    }

    private static boolean join(Thread thread, long millis) throws InterruptedException {
        thread.join(millis);
        return !thread.isAlive();
    }
}
