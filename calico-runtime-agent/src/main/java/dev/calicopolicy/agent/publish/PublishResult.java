package dev.calicopolicy.agent.publish;

import java.time.Duration;
import java.util.Objects;

/**
 * What a publish did.
 *
 * @param plan the plan it carried out
 * @param keys keys of the bundle and host files written or deleted
 * @param deleted how many of them were deleted
 * @param transactions write transactions committed (records and lock included)
 * @param revision etcd's revision after the publish (the current one if nothing was written)
 * @param elapsed how long it took, reading the directory included
 */
public record PublishResult(
        PublishPlan plan,
        int keys,
        int deleted,
        int transactions,
        long revision,
        Duration elapsed) {
    public PublishResult {
        Objects.requireNonNull(plan, "plan should not be null");
        Objects.requireNonNull(elapsed, "elapsed should not be null");
    }

    /** One line: {@code published 42 keys (3 deleted) in 1 transaction, revision 1873}. */
    public String summary() {
        return "published "
                + keys
                + (keys == 1 ? " key" : " keys")
                + " ("
                + deleted
                + " deleted) in "
                + transactions
                + (transactions == 1 ? " transaction" : " transactions")
                + ", revision "
                + revision;
    }
}
