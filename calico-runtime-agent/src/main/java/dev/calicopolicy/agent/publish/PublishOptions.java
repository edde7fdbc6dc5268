package dev.calicopolicy.agent.publish;

import java.time.Duration;
import java.util.Objects;

/**
 * How to publish.
 *
 * @param maxTxnOps the most operations etcd accepts in one transaction (its {@code --max-txn-ops},
 *     128 by default); a server that refuses a transaction as too big makes the publisher halve
 *     this and go on
 * @param maxTxnBytes the largest transaction etcd accepts in bytes (its {@code
 *     --max-request-bytes}, 1.5 MiB by default); likewise halved on a refusal
 * @param lockTtl how long the lock of a batched publish outlives a publisher that died
 * @param retryFor how long to keep trying while etcd is unavailable (no leader, member down)
 * @param verify read every published key back and rewrite the ones whose value differs, instead of
 *     trusting the ownership record
 * @param listener told about the plan and each transaction committed
 */
public record PublishOptions(
        int maxTxnOps,
        long maxTxnBytes,
        Duration lockTtl,
        Duration retryFor,
        boolean verify,
        PublishListener listener) {
    public static final int DEFAULT_MAX_TXN_OPS = 128;
    public static final long DEFAULT_MAX_TXN_BYTES = 1536 * 1024;
    public static final Duration DEFAULT_LOCK_TTL = Duration.ofSeconds(15);
    public static final Duration DEFAULT_RETRY_FOR = Duration.ofSeconds(30);

    /** The fewest operations a transaction must be allowed: a batch, its guard and the lock. */
    public static final int MIN_TXN_OPS = 3;

    /** The smallest transaction size accepted. */
    public static final long MIN_TXN_BYTES = 4096;

    public PublishOptions {
        if (maxTxnOps < MIN_TXN_OPS) {
            throw new IllegalArgumentException(
                    "the transaction limit must be at least " + MIN_TXN_OPS + " operations");
        }
        if (maxTxnBytes < MIN_TXN_BYTES) {
            throw new IllegalArgumentException(
                    "the transaction size limit must be at least " + MIN_TXN_BYTES + " bytes");
        }
        Objects.requireNonNull(lockTtl, "lockTtl should not be null");
        if (lockTtl.toSeconds() < 1) {
            throw new IllegalArgumentException("the lock TTL must be at least one second");
        }
        Objects.requireNonNull(retryFor, "retryFor should not be null");
        Objects.requireNonNull(listener, "listener should not be null");
    }

    /** Etcd's default limits, a 15 s lock TTL, 30 s of retries, no verification. */
    public static PublishOptions defaults() {
        return new PublishOptions(
                DEFAULT_MAX_TXN_OPS,
                DEFAULT_MAX_TXN_BYTES,
                DEFAULT_LOCK_TTL,
                DEFAULT_RETRY_FOR,
                false,
                PublishListener.NONE);
    }

    public PublishOptions withMaxTxnOps(int ops) {
        return new PublishOptions(ops, maxTxnBytes, lockTtl, retryFor, verify, listener);
    }

    public PublishOptions withMaxTxnBytes(long bytes) {
        return new PublishOptions(maxTxnOps, bytes, lockTtl, retryFor, verify, listener);
    }

    public PublishOptions withLockTtl(Duration ttl) {
        return new PublishOptions(maxTxnOps, maxTxnBytes, ttl, retryFor, verify, listener);
    }

    public PublishOptions withRetryFor(Duration duration) {
        return new PublishOptions(maxTxnOps, maxTxnBytes, lockTtl, duration, verify, listener);
    }

    public PublishOptions withVerify(boolean readBack) {
        return new PublishOptions(maxTxnOps, maxTxnBytes, lockTtl, retryFor, readBack, listener);
    }

    public PublishOptions withListener(PublishListener l) {
        return new PublishOptions(maxTxnOps, maxTxnBytes, lockTtl, retryFor, verify, l);
    }
}
