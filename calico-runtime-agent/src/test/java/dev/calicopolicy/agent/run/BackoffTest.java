package dev.calicopolicy.agent.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Retries after failures wait longer each time, never longer than the maximum. */
class BackoffTest {
    @Test
    void delaysDoubleUpToTheMaximumAndStartOverAfterAReset() {
        Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(10));
        long[] steps = {100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000};

        for (long step : steps) {
            assertThat(backoff.nextDelayMillis()).isBetween(step * 4 / 5, step);
        }
        backoff.reset();
        assertThat(backoff.nextDelayMillis()).isBetween(80L, 100L);
    }

    @Test
    void aMaximumBelowTheFirstDelayIsRefused() {
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0 < first <= max");
    }
}
