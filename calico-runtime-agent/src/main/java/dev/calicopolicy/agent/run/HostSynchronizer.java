package dev.calicopolicy.agent.run;

import dev.calicopolicy.agent.apply.ApplyException;
import dev.calicopolicy.agent.apply.ApplyResult;
import dev.calicopolicy.agent.apply.HostFiles;
import dev.calicopolicy.agent.apply.HostRulesApplier;
import dev.calicopolicy.agent.etcd.EtcdFailure;
import dev.calicopolicy.agent.etcd.EtcdSettings;
import dev.calicopolicy.agent.publish.HostFileLayout;
import dev.calicopolicy.dsl.emit.host.HostRules;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one host's kernel in step with the host files published in etcd: {@code calico-agent run}.
 *
 * <p>It reads everything under {@code /calico-policy/hosts/<host>/} at one revision, puts the files
 * together ({@link HostFileLayout#assemble}) and applies them with {@link HostRulesApplier}, then
 * watches the prefix from the next revision. A change makes it read the prefix again; files whose
 * digest was applied last are not applied again. After a lost connection the watch resumes from the
 * last revision seen, so no change is missed; when that revision has been compacted away, it reads
 * everything again instead. Every failure of etcd is retried after a bounded exponential backoff; a
 * client that has not been answered for a while is replaced by a new one.
 *
 * <p>Files the kernel refuses leave it as it was (the applier puts the previous rules back); the
 * error goes to the log and to the host's status ({@link HostStatus}, at {@code
 * /calico-policy/status/<host>}), and the next publish is applied as usual. The same files are
 * tried again only at the periodic full read. A host without files keeps what its kernel has.
 *
 * <p>{@link #run()} works on the calling thread until {@link #stop()}; an apply under way is
 * finished first, never cut off.
 */
public final class HostSynchronizer {
    private static final Logger LOG = LoggerFactory.getLogger(HostSynchronizer.class);

    private static final Charset UTF8 = StandardCharsets.UTF_8;

    private static final String[] REQUIRED_FILES = {
        HostRules.IPSET_FILE, HostRules.IPTABLES_FILE, HostRules.IP6TABLES_FILE
    };

    /**
     * How the loop paces itself.
     *
     * @param resyncInterval how often to read the host's files in full even without a change (and
     *     to try files that failed again)
     * @param firstBackoff the delay after a first failure
     * @param maxBackoff the longest delay between attempts
     * @param reconnectAfter how long etcd may fail every request before the client is replaced
     */
    public record Options(
            Duration resyncInterval,
            Duration firstBackoff,
            Duration maxBackoff,
            Duration reconnectAfter) {
        public static final Duration DEFAULT_RESYNC_INTERVAL = Duration.ofMinutes(5);

        public Options {
            for (Duration d :
                    new Duration[] {resyncInterval, firstBackoff, maxBackoff, reconnectAfter}) {
                Objects.requireNonNull(d, "durations should not be null");
                if (d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException("durations must be positive, got " + d);
                }
            }
            if (maxBackoff.compareTo(firstBackoff) < 0) {
                throw new IllegalArgumentException("the longest backoff is below the first");
            }
        }

        /** A full read every 5 minutes; backoff from 100 ms to 10 s; a new client after 30 s. */
        public static Options defaults() {
            return new Options(
                    DEFAULT_RESYNC_INTERVAL,
                    Duration.ofMillis(100),
                    Duration.ofSeconds(10),
                    Duration.ofSeconds(30));
        }

        public Options withResyncInterval(Duration interval) {
            return new Options(interval, firstBackoff, maxBackoff, reconnectAfter);
        }
    }

    /** What the watch (or a stop) tells the loop. */
    private sealed interface Signal {}

    /** Keys under the prefix changed, the last at {@code revision}. */
    private record Changed(int watch, long revision) implements Signal {}

    /** The server confirmed the watch. */
    private record Created(int watch) implements Signal {}

    /** The watch failed or ended; {@code cause} is null when the stream just ended. */
    private record Broken(int watch, Throwable cause) implements Signal {}

    private record Stop() implements Signal {}

    private final EtcdSettings settings;
    private final String host;
    private final String prefix;
    private final String statusKey;
    private final HostRulesApplier applier;
    private final Options options;
    private final EtcdCalls calls;
    private final HostFileReader reader;
    private final Backoff backoff;
    private final BlockingQueue<Signal> signals = new LinkedBlockingQueue<>();
    private final AtomicBoolean started = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean stopping;

    // State of the loop, touched by its thread only.
    private Client client;
    private Watch.Watcher watcher;
    private int watchId;
    private boolean watchConfirmed;
    private long watchFrom;
    private long seenRevision;
    private long readRevision;
    private boolean readNeeded = true;
    private boolean retryFailed;
    private long nextResync;
    private long failingSince;
    private Optional<HostStatus.Applied> applied = Optional.empty();
    private String failedDigest;
    private HostStatus written;
    private HostStatus pending;

    public HostSynchronizer(
            EtcdSettings settings, String host, HostRulesApplier applier, Options options) {
        this.settings = Objects.requireNonNull(settings, "settings should not be null");
        this.host = Objects.requireNonNull(host, "host should not be null");
        this.prefix = HostFileLayout.prefix(host);
        this.statusKey = HostStatus.key(host);
        this.applier = Objects.requireNonNull(applier, "applier should not be null");
        this.options = Objects.requireNonNull(options, "options should not be null");
        this.calls = new EtcdCalls(settings.requestTimeout());
        this.reader = new HostFileReader(host, calls);
        this.backoff = new Backoff(options.firstBackoff(), options.maxBackoff());
    }

    /** Works until {@link #stop()}: reads, applies, reports and watches, retrying on failures. */
    public void run() {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("the synchronizer of host " + host + " already ran");
        }
        LOG.info(
                "keeping host {} in step with {} in etcd at {}; status in {}",
                host,
                prefix,
                settings.endpointList(),
                statusKey);
        nextResync = System.nanoTime() + options.resyncInterval().toNanos();
        try {
            while (!stopping) {
                long retryAt;
                try {
                    work();
                    if (watchConfirmed) {
                        backoff.reset();
                    }
                    retryAt = 0;
                } catch (IOException | RuntimeException e) {
                    if (stopping) {
                        break;
                    }
                    long delay = backoff.nextDelayMillis();
                    if (e instanceof IOException) {
                        LOG.warn("{}; trying again in {} ms", e.getMessage(), delay);
                        LOG.debug("etcd failure", e);
                    } else {
                        LOG.error("unexpected failure; trying again in {} ms", delay, e);
                    }
                    reconnectIfFailingLong();
                    retryAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
                }
                await(retryAt);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.info("interrupted; stopping");
        } finally {
            closeClient();
            LOG.info("stopped keeping host {} in step", host);
            stopped.countDown();
        }
    }

    /**
     * Asks {@link #run()} to end: waiting stops at once, an etcd request under way is abandoned, an
     * apply under way is finished.
     */
    public void stop() {
        stopping = true;
        calls.cancel();
        signals.add(new Stop());
    }

    /** Waits until {@link #run()} has ended; true if it did within {@code timeout}. */
    public boolean awaitStopped(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Does what is due: connect, read and apply, watch, report. The watch starts before the status
     * is written, so that a status etcd refuses to take does not keep the host from following.
     */
    private void work() throws IOException {
        if (client == null) {
            client = settings.connect();
        }
        if (readNeeded) {
            HostSnapshot snapshot = reader.read(client.getKVClient());
            boolean again = retryFailed;
            readNeeded = false;
            retryFailed = false;
            readRevision = snapshot.revision();
            seenRevision = Math.max(seenRevision, snapshot.revision());
            nextResync = System.nanoTime() + options.resyncInterval().toNanos();
            failingSince = 0;
            handle(snapshot, again);
        }
        if (watcher == null && !stopping) {
            startWatch();
        }
        if (pending != null && !stopping) {
            calls.await(
                    client.getKVClient().put(bytes(statusKey), ByteSequence.from(pending.toJson())),
                    "write " + statusKey);
            LOG.debug("wrote {}: {}", statusKey, new String(pending.toJson(), UTF8));
            written = pending;
            pending = null;
            failingSince = 0;
        }
    }

    private boolean workDue() {
        return readNeeded || pending != null || watcher == null || client == null;
    }

    /**
     * Waits for signals until work is due (not before {@code retryAt}, when that is not 0) or the
     * time of the next full read has come.
     */
    private void await(long retryAt) throws InterruptedException {
        while (!stopping) {
            long now = System.nanoTime();
            long until = retryAt != 0 ? retryAt : nextResync;
            if (until - now <= 0) {
                if (retryAt == 0) {
                    LOG.debug("periodic full read of {}", prefix);
                    readNeeded = true;
                    retryFailed = true;
                }
                return;
            }
            Signal signal = signals.poll(until - now, TimeUnit.NANOSECONDS);
            if (signal == null) {
                continue;
            }
            if (absorb(signal) && retryAt == 0) {
                retryAt =
                        System.nanoTime()
                                + TimeUnit.MILLISECONDS.toNanos(backoff.nextDelayMillis());
            }
            if (retryAt == 0 && workDue()) {
                return;
            }
        }
    }

    /**
     * Takes a signal into the state.
     *
     * @return true when the watch broke, so that the next attempt waits for the backoff
     */
    private boolean absorb(Signal signal) {
        if (signal instanceof Stop) {
            stopping = true;
            return false;
        }
        if (signal instanceof Created c) {
            if (c.watch() == watchId) {
                watchConfirmed = true;
                failingSince = 0;
                backoff.reset();
                LOG.info("watching {} from revision {}", prefix, watchFrom);
            }
            return false;
        }
        if (signal instanceof Changed c) {
            if (c.watch() == watchId) {
                seenRevision = Math.max(seenRevision, c.revision());
                if (c.revision() > readRevision) {
                    readNeeded = true;
                }
            }
            return false;
        }
        Broken b = (Broken) signal;
        if (b.watch() != watchId || watcher == null) {
            return false;
        }
        closeWatch();
        if (b.cause() instanceof CompactedException compacted) {
            LOG.info(
                    "revision {} of {} was compacted (the oldest kept is {}); reading host {} in"
                            + " full again",
                    watchFrom,
                    prefix,
                    compacted.getCompactedRevision(),
                    host);
            readNeeded = true;
        } else {
            LOG.warn(
                    "the watch of {} {}; resuming it from revision {}",
                    prefix,
                    b.cause() == null
                            ? "ended"
                            : "failed (" + EtcdFailure.describe(b.cause()) + ")",
                    seenRevision + 1);
        }
        reconnectIfFailingLong();
        return true;
    }

    /** Acts on what etcd holds for the host. */
    private void handle(HostSnapshot snapshot, boolean again) {
        long revision = snapshot.revision();
        if (snapshot instanceof HostSnapshot.Unpublished) {
            if (written == null || written.state() != HostStatus.State.NO_FILES) {
                LOG.info(
                        "no host files are published for host {} (revision {}); waiting for a"
                                + " publish{}",
                        host,
                        revision,
                        applied.isPresent() ? "; the kernel keeps the rules applied last" : "");
            }
            report(HostStatus.State.NO_FILES, revision, Optional.empty(), Optional.empty());
            return;
        }
        if (snapshot instanceof HostSnapshot.Unreadable u) {
            failed(revision, Optional.empty(), u.problem());
            return;
        }
        HostFileLayout.Fetched fetched = ((HostSnapshot.Published) snapshot).files();
        String digest = fetched.digest();
        if (applied.isPresent() && applied.get().digest().equals(digest)) {
            LOG.debug("host {} files {} are applied already (revision {})", host, digest, revision);
            failedDigest = null;
            report(HostStatus.State.APPLIED, revision, Optional.of(digest), Optional.empty());
            return;
        }
        if (digest.equals(failedDigest) && !again) {
            LOG.debug("host {} files {} failed before; waiting for a new publish", host, digest);
            return;
        }
        try {
            HostFiles files = hostFiles(fetched, revision);
            long start = System.nanoTime();
            ApplyResult result = applier.apply(files);
            applied =
                    Optional.of(
                            new HostStatus.Applied(
                                    digest,
                                    revision,
                                    Instant.now().truncatedTo(ChronoUnit.MILLIS)));
            failedDigest = null;
            LOG.info(
                    "applied host {} files {} (revision {}) in {} ms{}",
                    host,
                    digest,
                    revision,
                    (System.nanoTime() - start) / 1_000_000,
                    result.changed() ? "" : "; the kernel already enforced them");
            report(HostStatus.State.APPLIED, revision, Optional.of(digest), Optional.empty());
        } catch (ApplyException e) {
            LOG.debug("apply failure", e);
            failed(revision, Optional.of(digest), e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("unexpected failure while applying host {} files {}", host, digest, e);
            failed(revision, Optional.of(digest), "unexpected failure: " + e);
        }
    }

    private void failed(long revision, Optional<String> digest, String error) {
        failedDigest = digest.orElse(null);
        LOG.error(
                "cannot apply host {} files {} (revision {}): {}; the kernel keeps {}",
                host,
                digest.orElse("(incomplete)"),
                revision,
                error,
                applied.map(a -> "the files applied last, " + a.digest())
                        .orElse("the rules it had"));
        report(HostStatus.State.FAILED, revision, digest, Optional.of(error));
    }

    /** Makes the status the one to write, unless etcd already has one that says the same. */
    private void report(
            HostStatus.State state,
            long revision,
            Optional<String> digest,
            Optional<String> error) {
        HostStatus status =
                new HostStatus(
                        host,
                        state,
                        revision,
                        digest,
                        applied,
                        error,
                        Instant.now().truncatedTo(ChronoUnit.MILLIS));
        pending = status.saysTheSameAs(written) ? null : status;
    }

    /** The files to apply, named after where they are in etcd. */
    private HostFiles hostFiles(HostFileLayout.Fetched fetched, long revision)
            throws ApplyException {
        String location = prefix + "files";
        Map<String, byte[]> files = fetched.files();
        for (String name : REQUIRED_FILES) {
            if (!files.containsKey(name)) {
                throw new ApplyException(
                        location
                                + "/"
                                + name
                                + ": not published at revision "
                                + revision
                                + " (every host needs ipset.rules, iptables.rules and"
                                + " ip6tables.rules)");
            }
        }
        return new HostFiles(
                location,
                new String(files.get(HostRules.IPSET_FILE), UTF8),
                new String(files.get(HostRules.IPTABLES_FILE), UTF8),
                new String(files.get(HostRules.IP6TABLES_FILE), UTF8));
    }

    private void startWatch() throws IOException {
        int id = ++watchId;
        watchConfirmed = false;
        watchFrom = seenRevision + 1;
        WatchOption option =
                WatchOption.builder()
                        .isPrefix(true)
                        .withRevision(watchFrom)
                        .withCreateNotify(true)
                        .withRequireLeader(true)
                        .build();
        try {
            watcher =
                    client.getWatchClient()
                            .watch(
                                    bytes(prefix),
                                    option,
                                    Watch.listener(
                                            response -> onResponse(id, response),
                                            failure -> signals.add(new Broken(id, failure)),
                                            () -> signals.add(new Broken(id, null))));
        } catch (RuntimeException e) {
            throw new IOException("cannot watch " + prefix + ": " + EtcdFailure.describe(e), e);
        }
    }

    /** Runs on the client's threads: only hands the news to the loop. */
    private void onResponse(int id, WatchResponse response) {
        if (response.isCreatedNotify()) {
            signals.add(new Created(id));
        }
        long last = 0;
        for (WatchEvent event : response.getEvents()) {
            last = Math.max(last, event.getKeyValue().getModRevision());
        }
        if (last > 0) {
            signals.add(new Changed(id, last));
        }
    }

    private void closeWatch() {
        Watch.Watcher w = watcher;
        watcher = null;
        watchConfirmed = false;
        watchId++;
        if (w != null) {
            try {
                w.close();
            } catch (RuntimeException e) {
                LOG.debug("closing the watch of {} failed", prefix, e);
            }
        }
    }

    private void closeClient() {
        closeWatch();
        if (client != null) {
            try {
                client.close();
            } catch (RuntimeException e) {
                LOG.debug("closing the etcd client failed", e);
            }
            client = null;
        }
    }

    /** Replaces the client when etcd has failed every request for a while. */
    private void reconnectIfFailingLong() {
        long now = System.nanoTime();
        if (failingSince == 0) {
            failingSince = now;
            return;
        }
        if (client != null && now - failingSince > options.reconnectAfter().toNanos()) {
            LOG.info(
                    "etcd at {} has failed every request for {} s; connecting again",
                    settings.endpointList(),
                    (now - failingSince) / 1_000_000_000);
            closeClient();
            failingSince = now;
        }
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, UTF8);
    }
}
