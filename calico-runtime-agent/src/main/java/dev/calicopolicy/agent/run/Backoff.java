package dev.calicopolicy.agent.run;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Bounded exponential backoff: each delay doubles, up to a maximum, with a little jitter so that
 * many agents that lost etcd at the same moment do not all come back at the same moment.
 */
final class Backoff {
    private final long firstMillis;
    private final long maxMillis;
    private long nextMillis;

    Backoff(Duration first, Duration max) {
        if (first.isNegative() || first.isZero() || max.compareTo(first) < 0) {
            throw new IllegalArgumentException(
                    "backoff needs 0 < first <= max, got " + first + " and " + max);
        }
        this.firstMillis = first.toMillis();
        this.maxMillis = max.toMillis();
        this.nextMillis = firstMillis;
    }

    /** The delay before the next attempt: between 80% and 100% of the current step. */
    long nextDelayMillis() {
        long step = nextMillis;
        nextMillis = Math.min(maxMillis, nextMillis * 2);
        long jitter = ThreadLocalRandom.current().nextLong(step / 5 + 1);
        return Math.max(1, step - jitter);
    }

    /** Starts again from the first delay, after something worked. */
    void reset() {
        nextMillis = firstMillis;
    }
}
