package dev.calicopolicy.agent.publish;

import dev.calicopolicy.agent.etcd.EtcdFailure;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.OptionsUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The publisher's access to etcd. Reads are retried while etcd is unavailable, for up to the retry
 * window; a transaction is sent once, and its failure is returned classified, so that the caller
 * can read back and decide when the outcome is unknown.
 */
final class EtcdStore {
    private static final Logger LOG = LoggerFactory.getLogger(EtcdStore.class);

    /** Keys fetched at once by {@link #getAll}. */
    private static final int PARALLEL_GETS = 128;

    /** Keys per page of a range read of policy keys (each at most a few KiB). */
    static final int POLICY_PAGE = 2000;

    /** Keys per page of a range read of host file parts (each up to 256 KiB). */
    static final int HOST_PAGE = 64;

    /** A key as stored: its value and the revision that last changed it. */
    record Stored(String key, byte[] value, long modRevision) {}

    /** A transaction: compares, operations if they hold, operations (reads) if not. */
    record TxnSpec(List<Cmp> compares, List<Op> then, List<Op> otherwise) {}

    /** The outcome of sending a transaction: a response, or a failure of a known kind. */
    record Sent(TxnResponse response, EtcdFailure failure, Throwable cause) {
        boolean executed() {
            return response != null;
        }
    }

    private final KV kv;
    private final Lease lease;
    private final Duration requestTimeout;
    private final Duration retryFor;

    EtcdStore(Client client, Duration requestTimeout, Duration retryFor) {
        this.kv = client.getKVClient();
        this.lease = client.getLeaseClient();
        this.requestTimeout = requestTimeout;
        this.retryFor = retryFor;
    }

    static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }

    static Stored stored(KeyValue kv) {
        return new Stored(
                kv.getKey().toString(StandardCharsets.UTF_8),
                kv.getValue().getBytes(),
                kv.getModRevision());
    }

    /** A new transaction, for reads the caller sends through {@link #read}. */
    io.etcd.jetcd.Txn kvTxn() {
        return kv.txn();
    }

    /** The key, or {@code null} if it is absent. */
    Stored get(String key) throws PublishException {
        GetResponse r = read("read " + key, () -> kv.get(bytes(key)));
        return r.getKvs().isEmpty() ? null : stored(r.getKvs().get(0));
    }

    /**
     * Several single keys at once (for keys that do not share a prefix); absent keys are left out.
     */
    Map<String, Stored> getAll(Collection<String> keys) throws PublishException {
        Map<String, Stored> found = new HashMap<>();
        List<String> list = new ArrayList<>(keys);
        for (int start = 0; start < list.size(); start += PARALLEL_GETS) {
            List<String> chunk = list.subList(start, Math.min(list.size(), start + PARALLEL_GETS));
            List<CompletableFuture<GetResponse>> futures = new ArrayList<>(chunk.size());
            for (String key : chunk) {
                futures.add(kv.get(bytes(key)));
            }
            for (int i = 0; i < chunk.size(); i++) {
                GetResponse r;
                try {
                    r = await(futures.get(i));
                } catch (ExecutionException | TimeoutException e) {
                    if (!EtcdFailure.of(e).notApplied() || EtcdFailure.of(e) == EtcdFailure.BUSY) {
                        String key = chunk.get(i);
                        r = read("read " + key, () -> kv.get(bytes(key)));
                    } else {
                        throw refused("read " + chunk.get(i), e);
                    }
                }
                if (!r.getKvs().isEmpty()) {
                    Stored s = stored(r.getKvs().get(0));
                    found.put(s.key(), s);
                }
            }
        }
        return found;
    }

    /**
     * Every key under {@code prefix}, read page by page at one revision.
     *
     * @param keysOnly leave the values out (they are then empty)
     * @param page how many keys to fetch per request
     */
    List<Stored> range(String prefix, boolean keysOnly, int page) throws PublishException {
        ByteSequence end = OptionsUtil.prefixEndOf(bytes(prefix));
        List<Stored> all = new ArrayList<>();
        String from = prefix;
        long revision = 0;
        while (true) {
            GetOption.Builder option =
                    GetOption.builder()
                            .withRange(end)
                            .withLimit(page)
                            .withSortField(GetOption.SortTarget.KEY)
                            .withSortOrder(GetOption.SortOrder.ASCEND)
                            .withKeysOnly(keysOnly);
            if (revision != 0) {
                option.withRevision(revision);
            }
            GetOption built = option.build();
            ByteSequence start = bytes(from);
            GetResponse r = read("read " + prefix, () -> kv.get(start, built));
            if (revision == 0) {
                revision = r.getHeader().getRevision();
            }
            for (KeyValue k : r.getKvs()) {
                all.add(stored(k));
            }
            if (!r.isMore() || r.getKvs().isEmpty()) {
                return all;
            }
            from = all.get(all.size() - 1).key() + '\0';
        }
    }

    /** Sends a transaction once. */
    Sent send(TxnSpec spec) {
        CompletableFuture<TxnResponse> future =
                kv.txn()
                        .If(spec.compares().toArray(Cmp[]::new))
                        .Then(spec.then().toArray(Op[]::new))
                        .Else(spec.otherwise().toArray(Op[]::new))
                        .commit();
        try {
            return new Sent(await(future), null, null);
        } catch (ExecutionException | TimeoutException e) {
            return new Sent(null, EtcdFailure.of(e), e);
        }
    }

    /** Grants a lease of {@code ttl}. */
    long grantLease(Duration ttl) throws PublishException {
        return read("grant a lease", () -> lease.grant(ttl.toSeconds())).getID();
    }

    /**
     * Refreshes a lease.
     *
     * @return the lease's remaining TTL in seconds; 0 or less if it has expired
     */
    long keepAlive(long leaseId) throws PublishException {
        return read("refresh the publish lock's lease", () -> lease.keepAliveOnce(leaseId))
                .getTTL();
    }

    /** Revokes a lease, as a courtesy: failures are only logged. */
    void revokeQuietly(long leaseId) {
        try {
            await(lease.revoke(leaseId));
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.debug("could not revoke lease {}: {}", leaseId, EtcdFailure.describe(e));
        }
    }

    /**
     * Runs a read, retrying while etcd is unavailable for up to the retry window. Reads change
     * nothing, so sending one again is always safe.
     */
    <T> T read(String what, Supplier<CompletableFuture<T>> request) throws PublishException {
        long deadline = System.nanoTime() + retryFor.toNanos();
        long backoff = 100;
        boolean told = false;
        while (true) {
            try {
                return await(request.get());
            } catch (ExecutionException | TimeoutException e) {
                EtcdFailure failure = EtcdFailure.of(e);
                if (failure.notApplied() && failure != EtcdFailure.BUSY) {
                    throw refused(what, e);
                }
                if (System.nanoTime() + backoff * 1_000_000 > deadline) {
                    throw new PublishException(
                            PublishException.Reason.UNAVAILABLE,
                            "cannot "
                                    + what
                                    + ": etcd did not answer for "
                                    + retryFor.toSeconds()
                                    + " s ("
                                    + EtcdFailure.describe(e)
                                    + ")",
                            e);
                }
                if (!told) {
                    LOG.info(
                            "etcd unavailable ({}); retrying for up to {} s",
                            EtcdFailure.describe(e),
                            retryFor.toSeconds());
                    told = true;
                }
                pause(backoff);
                backoff = Math.min(2000, backoff * 2);
            }
        }
    }

    /** Waits for a request, a little longer than its deadline. */
    <T> T await(CompletableFuture<T> future) throws ExecutionException, TimeoutException {
        try {
            return future.get(requestTimeout.toMillis() + 2000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(true);
            throw new ExecutionException("interrupted while waiting for etcd", e);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw e;
        }
    }

    static void pause(long millis) throws PublishException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PublishException(
                    PublishException.Reason.UNAVAILABLE, "interrupted while waiting for etcd", e);
        }
    }

    static PublishException refused(String what, Throwable cause) {
        return new PublishException(
                PublishException.Reason.REFUSED,
                "etcd refused to " + what + ": " + EtcdFailure.describe(cause),
                cause);
    }
}
