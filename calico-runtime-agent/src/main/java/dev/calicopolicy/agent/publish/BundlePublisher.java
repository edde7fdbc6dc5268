package dev.calicopolicy.agent.publish;

import dev.calicopolicy.agent.etcd.EtcdSettings;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Publishes a compile output directory into etcd, writing only what changed.
 *
 * <p>What the tool published before is in its ownership record ({@link OwnershipRecord}, under
 * {@code /calico-policy/}). A publish puts the keys that are new or changed, deletes the keys it
 * published before that the bundle dropped (if they still hold what it wrote), and never touches
 * any other key. Host files go under {@code /calico-policy/hosts/} ({@link HostFileLayout}) and are
 * owned the same way.
 *
 * <p>When everything fits in one transaction (etcd's limits: 128 operations and 1.5 MiB by default,
 * {@link PublishOptions}), it is one transaction that compares the revisions of the ownership
 * record, the pending record and the lock: a concurrent publisher makes it fail and nothing is
 * written. A larger publish takes a lock on a lease, writes a pending record naming the new key
 * set, then the new record's shards and the keys in batches ordered so that references stay valid
 * ({@link WritePhase}), each batch guarded by the lock's revision; the ownership record is switched
 * last, with the pending record deleted in the same transaction. A publish that dies half way
 * leaves the pending record; the next run reads every key back, treats what the dead run may have
 * written as owned, and completes the work.
 *
 * <p>A write whose outcome is unknown (a timeout, a lost connection) is never simply sent again:
 * the publisher reads the record or lock back, and sends it again only when it was not applied;
 * since each write compares a revision that it changes itself, at most one of the two can apply.
 *
 * <p>The library neither prints nor exits: it returns plans and results and logs progress through
 * SLF4J.
 */
public final class BundlePublisher {
    private final Client client;
    private final Duration requestTimeout;

    /** A publisher using this client, with the default request timeout. */
    public BundlePublisher(Client client) {
        this(client, EtcdSettings.DEFAULT_REQUEST_TIMEOUT);
    }

    /**
     * A publisher using this client.
     *
     * @param requestTimeout how long a single request may take before its outcome counts as unknown
     *     (clients made by {@link EtcdSettings#connect()} also give every request this deadline)
     */
    public BundlePublisher(Client client, Duration requestTimeout) {
        this.client = Objects.requireNonNull(client, "client should not be null");
        this.requestTimeout =
                Objects.requireNonNull(requestTimeout, "requestTimeout should not be null");
    }

    /**
     * Works out what publishing {@code outDir} would change, writing nothing.
     *
     * @throws IOException if the directory is not a valid compile output
     * @throws PublishException if etcd cannot be read
     */
    public PublishPlan plan(Path outDir, PublishOptions options)
            throws IOException, PublishException {
        return plan(CompiledOutput.read(outDir), options);
    }

    /** Works out what publishing {@code output} would change, writing nothing. */
    public PublishPlan plan(CompiledOutput output, PublishOptions options) throws PublishException {
        Objects.requireNonNull(output, "output should not be null");
        Objects.requireNonNull(options, "options should not be null");
        return new PublishRun(store(options), output, options, System.nanoTime()).plan();
    }

    /**
     * Publishes {@code outDir}.
     *
     * @throws IOException if the directory is not a valid compile output (nothing is written)
     * @throws PublishException if the publish fails; its message says what etcd holds then
     */
    public PublishResult publish(Path outDir, PublishOptions options)
            throws IOException, PublishException {
        long start = System.nanoTime();
        CompiledOutput output = CompiledOutput.read(outDir);
        Objects.requireNonNull(options, "options should not be null");
        return new PublishRun(store(options), output, options, start).run();
    }

    /** Publishes an output already read. */
    public PublishResult publish(CompiledOutput output, PublishOptions options)
            throws PublishException {
        Objects.requireNonNull(output, "output should not be null");
        Objects.requireNonNull(options, "options should not be null");
        return new PublishRun(store(options), output, options, System.nanoTime()).run();
    }

    private EtcdStore store(PublishOptions options) {
        return new EtcdStore(client, requestTimeout, options.retryFor());
    }
}
