package dev.calicopolicy.agent.publish;

import dev.calicopolicy.agent.etcd.EtcdFailure;
import dev.calicopolicy.dsl.PolicyCompiler;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One publish, from reading the records to the switch of the ownership record. See {@link
 * BundlePublisher} for the protocol.
 */
final class PublishRun {
    private static final Logger LOG = LoggerFactory.getLogger(BundlePublisher.class);

    /** How often to plan again when keys to delete change under the publish. */
    private static final int MAX_PLANS = 3;

    private final EtcdStore store;
    private final PublishOptions options;
    private final CompiledOutput output;
    private final TxnLimits limits;
    private final String publishId = UUID.randomUUID().toString();
    private final String startedAt = Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
    private final String by = publisherName();
    private final long startNanos;

    private int transactions;
    private int keys;
    private int deleted;
    private long revision;
    private int plannedTransactions;
    private int plannedKeys;
    private int lastProgressTenth;

    /** Thrown when nothing was written and the publish should be planned again. */
    private static final class PlanAgain extends Exception {
        private static final long serialVersionUID = 1L;

        /** True when something else changed etcd; false when only the limits were lowered. */
        final boolean conflict;

        PlanAgain(String message, boolean conflict) {
            super(message, null, false, false);
            this.conflict = conflict;
        }
    }

    PublishRun(EtcdStore store, CompiledOutput output, PublishOptions options, long startNanos) {
        this.store = store;
        this.output = output;
        this.options = options;
        this.limits = new TxnLimits(options.maxTxnOps(), options.maxTxnBytes());
        this.startNanos = startNanos;
    }

    /** Works out the plan without writing anything. */
    PublishPlan plan() throws PublishException {
        StoreState state = StoreState.read(store);
        if (state.lock() != null) {
            LOG.info(
                    "publish {} by {} holds the lock; this plan may be out of date when it ends",
                    state.lock().publishId(),
                    state.lock().by());
        }
        return describe(new PublishPlanner(store).plan(output, state, options.verify()));
    }

    PublishResult run() throws PublishException {
        boolean told = false;
        int attempt = 0;
        while (true) {
            StoreState state = StoreState.read(store);
            revision = state.revision();
            if (state.lock() != null) {
                throw locked(state.lock());
            }
            PlannedPublish planned =
                    new PublishPlanner(store).plan(output, state, options.verify());
            PublishPlan plan = describe(planned);
            LOG.debug(
                    "planned {} keys to write, {} unchanged, {} after start",
                    plan.keysToWrite(),
                    plan.unchanged(),
                    Duration.ofNanos(System.nanoTime() - startNanos));
            if (!told) {
                options.listener().planned(plan);
                told = true;
            }
            if (plan.mode() == PublishPlan.Mode.NOTHING) {
                return result(plan);
            }
            plannedKeys = planned.data().size();
            plannedTransactions = plan.transactions();
            try {
                if (plan.mode() == PublishPlan.Mode.ONE_TRANSACTION) {
                    oneTransaction(planned);
                } else {
                    batches(planned);
                }
                return result(plan);
            } catch (PlanAgain again) {
                if (again.conflict && ++attempt >= MAX_PLANS) {
                    throw new PublishException(
                            PublishException.Reason.CONFLICT,
                            again.getMessage()
                                    + ", "
                                    + attempt
                                    + " times; nothing was written. Something else is changing"
                                    + " keys under "
                                    + Keyspace.POLICY
                                    + " that this tool published");
                }
                LOG.info("{}; planning again", again.getMessage());
            }
        }
    }

    private PublishResult result(PublishPlan plan) {
        return new PublishResult(
                plan,
                keys,
                deleted,
                transactions,
                revision,
                Duration.ofNanos(System.nanoTime() - startNanos));
    }

    private PublishPlan describe(PlannedPublish planned) throws PublishException {
        if (planned.nothingToDo()) {
            return planned.plan(PublishPlan.Mode.NOTHING, 0);
        }
        SingleShape single = singleShape(planned);
        if (limits.fits(single.ops(), single.compares(), single.bytes())) {
            return planned.plan(PublishPlan.Mode.ONE_TRANSACTION, 1);
        }
        int batches = limits.split(batchWork(planned), 1, lockBytes()).size();
        return planned.plan(PublishPlan.Mode.BATCHES, batches + 2);
    }

    private record SingleShape(int ops, int compares, long bytes) {}

    private SingleShape singleShape(PlannedPublish planned) {
        int ops = planned.data().size() + planned.newShards().size() + planned.garbage().size() + 1;
        int compares = 3;
        long bytes = recordBytes(planned);
        for (WriteOp op : planned.data()) {
            bytes += op.bytes();
            compares += op.hasCompare() ? 1 : 0;
        }
        for (OwnedKeys.Shard s : planned.newShards()) {
            bytes += WriteOp.shard(s).bytes();
        }
        bytes +=
                (long) planned.garbage().size()
                        * (Keyspace.SHARDS.length() + 64 + WriteOp.OVERHEAD);
        if (planned.state().pending() != null) {
            ops++;
            bytes += Keyspace.PENDING.length() + WriteOp.OVERHEAD;
        }
        return new SingleShape(ops, compares, bytes);
    }

    private long recordBytes(PlannedPublish planned) {
        return (long) planned.target().bucketCount() * 70 + 512 + 3L * 3 * WriteOp.OVERHEAD;
    }

    private static long lockBytes() {
        return 512;
    }

    private static List<WriteOp> batchWork(PlannedPublish planned) {
        List<WriteOp> work = new ArrayList<>();
        for (OwnedKeys.Shard s : planned.newShards()) {
            work.add(WriteOp.shard(s));
        }
        work.addAll(planned.data());
        return work;
    }

    private OwnershipRecord newRecord(PlannedPublish planned) {
        return new OwnershipRecord(
                planned.target().digest(),
                output.bundleDigest(),
                planned.target().size(),
                planned.target().shardNames(),
                publishId,
                Instant.now().truncatedTo(ChronoUnit.MILLIS).toString(),
                by);
    }

    // ---- one transaction ------------------------------------------------------------------

    private void oneTransaction(PlannedPublish planned) throws PublishException, PlanAgain {
        StoreState state = planned.state();
        OwnershipRecord record = newRecord(planned);

        List<Cmp> compares = new ArrayList<>();
        compares.add(modRevision(Keyspace.PUBLISHED, state.recordRevision()));
        compares.add(modRevision(Keyspace.PENDING, state.pendingRevision()));
        compares.add(modRevision(Keyspace.LOCK, 0));
        List<Op> ops = new ArrayList<>();
        for (OwnedKeys.Shard s : planned.newShards()) {
            ops.add(WriteOp.shard(s).toOp());
        }
        int deletes = 0;
        for (WriteOp op : planned.data()) {
            ops.add(op.toOp());
            if (op.hasCompare()) {
                compares.add(op.toCompare());
            }
            deletes += op.isDelete() ? 1 : 0;
        }
        for (String name : planned.garbage()) {
            ops.add(delete(Keyspace.shardKey(name)));
        }
        ops.add(put(Keyspace.PUBLISHED, record.toJson(), 0));
        if (state.pending() != null) {
            ops.add(delete(Keyspace.PENDING));
        }
        EtcdStore.TxnSpec spec =
                new EtcdStore.TxnSpec(
                        compares,
                        ops,
                        List.of(
                                get(Keyspace.PUBLISHED),
                                get(Keyspace.PENDING),
                                get(Keyspace.LOCK)));

        long deadline = deadline();
        while (true) {
            EtcdStore.Sent sent = store.send(spec);
            if (sent.executed() && sent.response().isSucceeded()) {
                committed(
                        sent.response().getHeader().getRevision(), planned.data().size(), deletes);
                return;
            }
            if (sent.executed()) {
                List<GetResponse> now = sent.response().getGetResponses();
                EtcdStore.Stored root = first(now.get(0));
                if (isOurs(root)) {
                    committed(root.modRevision(), planned.data().size(), deletes);
                    return;
                }
                if (modRevision(root) != state.recordRevision()
                        || modRevision(first(now.get(1))) != state.pendingRevision()
                        || first(now.get(2)) != null) {
                    throw conflict(root, first(now.get(2)));
                }
                throw new PlanAgain("a key to delete changed after it was read back", true);
            }
            switch (sent.failure()) {
                case TOO_MANY_OPERATIONS, TOO_LARGE -> {
                    long bytes = singleShape(planned).bytes();
                    if (limits.lower(
                            sent.failure(), Math.max(ops.size(), compares.size()), bytes)) {
                        throw new PlanAgain("etcd refused the transaction as too big", false);
                    }
                    throw EtcdStore.refused("take the publish's transaction", sent.cause());
                }
                case REFUSED -> throw EtcdStore.refused("write the bundle", sent.cause());
                case BUSY -> waitBeforeResend(deadline, sent);
                case OUTCOME_UNKNOWN -> {
                    LOG.info(
                            "the outcome of the transaction is unknown ({}); reading back",
                            EtcdFailure.describe(sent.cause()));
                    EtcdStore.Stored root = store.get(Keyspace.PUBLISHED);
                    if (isOurs(root)) {
                        committed(root.modRevision(), planned.data().size(), deletes);
                        return;
                    }
                    if (modRevision(root) != state.recordRevision()) {
                        throw conflict(root, store.get(Keyspace.LOCK));
                    }
                    // Not applied so far. Sending it again is safe: it compares the record's
                    // revision, so if the first one is applied late, this one fails, and the
                    // other way round.
                    waitBeforeResend(deadline, sent);
                }
            }
        }
    }

    // ---- batches --------------------------------------------------------------------------

    private void batches(PlannedPublish planned) throws PublishException {
        OwnershipRecord record = newRecord(planned);
        PendingRecord pending =
                new PendingRecord(publishId, startedAt, record, planned.inherited());
        LockRecord lock = new LockRecord(publishId, by, startedAt, 0);
        long lease = store.grantLease(options.lockTtl());
        try {
            Guard guard = acquire(planned, lease, lock, pending);
            int deletes = (int) planned.data().stream().filter(WriteOp::isDelete).count();
            LOG.info(
                    "publishing {} keys ({} deleted) in about {} transactions of at most {}"
                            + " operations and {} bytes",
                    planned.data().size(),
                    deletes,
                    plannedTransactions,
                    limits.ops(),
                    limits.bytes());

            sendAll(batchWork(planned), guard, lease, lock);
            finish(planned, record, guard, lease, lock);
        } finally {
            store.revokeQuietly(lease);
        }
    }

    /** Writes {@code work} in order, in batches that fit the limits, under the lock. */
    private void sendAll(List<WriteOp> work, Guard guard, long lease, LockRecord lock)
            throws PublishException {
        List<List<WriteOp>> batches = limits.split(work, 1, lockBytes());
        int done = 0;
        for (int next = 0; next < batches.size(); ) {
            int sent = sendBatch(batches.get(next), guard, lease, lock);
            if (sent == 0) {
                // The limits were lowered: split what is left again.
                batches = limits.split(work.subList(done, work.size()), 1, lockBytes());
                next = 0;
                plannedTransactions = transactions + batches.size() + 1;
                continue;
            }
            done += sent;
            next++;
        }
    }

    /** The lock's revision as this publisher last wrote it, and when its lease was refreshed. */
    private static final class Guard {
        long revision;
        int batch;
        long refreshedAt = System.nanoTime();

        Guard(long revision) {
            this.revision = revision;
        }
    }

    private Guard acquire(
            PlannedPublish planned, long lease, LockRecord lock, PendingRecord pending)
            throws PublishException {
        StoreState state = planned.state();
        List<Cmp> compares =
                List.of(
                        modRevision(Keyspace.PUBLISHED, state.recordRevision()),
                        modRevision(Keyspace.PENDING, state.pendingRevision()),
                        modRevision(Keyspace.LOCK, 0));
        List<Op> ops =
                List.of(
                        put(Keyspace.LOCK, lock.toJson(), lease),
                        put(Keyspace.PENDING, pending.toJson(), 0));
        EtcdStore.TxnSpec spec =
                new EtcdStore.TxnSpec(
                        compares,
                        ops,
                        List.of(
                                get(Keyspace.LOCK),
                                get(Keyspace.PUBLISHED),
                                get(Keyspace.PENDING)));
        long deadline = deadline();
        while (true) {
            EtcdStore.Sent sent = store.send(spec);
            if (sent.executed() && sent.response().isSucceeded()) {
                long rev = sent.response().getHeader().getRevision();
                committed(rev, 0, 0);
                return new Guard(rev);
            }
            if (sent.executed()) {
                List<GetResponse> now = sent.response().getGetResponses();
                EtcdStore.Stored held = first(now.get(0));
                if (held != null && lockOf(held).publishId().equals(publishId)) {
                    committed(held.modRevision(), 0, 0);
                    return new Guard(held.modRevision());
                }
                if (held != null) {
                    throw locked(lockOf(held));
                }
                throw conflict(first(now.get(1)), null);
            }
            switch (sent.failure()) {
                case TOO_MANY_OPERATIONS, TOO_LARGE, REFUSED ->
                        throw EtcdStore.refused("take the publish lock", sent.cause());
                case BUSY -> waitBeforeResend(deadline, sent);
                case OUTCOME_UNKNOWN -> {
                    EtcdStore.Stored held = store.get(Keyspace.LOCK);
                    if (held != null && lockOf(held).publishId().equals(publishId)) {
                        committed(held.modRevision(), 0, 0);
                        return new Guard(held.modRevision());
                    }
                    if (held != null) {
                        throw locked(lockOf(held));
                    }
                    StoreState now = StoreState.read(store);
                    if (now.recordRevision() != state.recordRevision()
                            || now.pendingRevision() != state.pendingRevision()) {
                        throw conflict(store.get(Keyspace.PUBLISHED), null);
                    }
                    waitBeforeResend(deadline, sent);
                }
            }
        }
    }

    /**
     * Writes one batch under the lock.
     *
     * @return how many operations of {@code batch} are done (all of them, or none if the limits
     *     were lowered and the caller must split again)
     */
    private int sendBatch(List<WriteOp> batch, Guard guard, long lease, LockRecord lock)
            throws PublishException {
        refreshLease(guard, lease);
        List<WriteOp> ops = new ArrayList<>(batch);
        int number = guard.batch + 1;
        long deadline = deadline();
        while (true) {
            List<Cmp> compares = new ArrayList<>();
            compares.add(modRevision(Keyspace.LOCK, guard.revision));
            List<Op> writes = new ArrayList<>();
            for (WriteOp op : ops) {
                writes.add(op.toOp());
                if (op.hasCompare()) {
                    compares.add(op.toCompare());
                }
            }
            writes.add(put(Keyspace.LOCK, lock.atBatch(number).toJson(), lease));
            EtcdStore.TxnSpec spec =
                    new EtcdStore.TxnSpec(compares, writes, List.of(get(Keyspace.LOCK)));

            EtcdStore.Sent sent = store.send(spec);
            if (sent.executed() && sent.response().isSucceeded()) {
                batchCommitted(guard, number, sent.response().getHeader().getRevision(), ops);
                return batch.size();
            }
            if (sent.executed()) {
                EtcdStore.Stored held = first(sent.response().getGetResponses().get(0));
                if (isOurBatch(held, number)) {
                    batchCommitted(guard, number, held.modRevision(), ops);
                    return batch.size();
                }
                if (held == null || held.modRevision() != guard.revision) {
                    throw lockLost(held);
                }
                ops = withoutChangedDeletes(ops);
                continue;
            }
            switch (sent.failure()) {
                case TOO_MANY_OPERATIONS, TOO_LARGE -> {
                    long bytes = lockBytes();
                    for (WriteOp op : ops) {
                        bytes += op.bytes();
                    }
                    if (limits.lower(
                            sent.failure(), Math.max(writes.size(), compares.size()), bytes)) {
                        return 0;
                    }
                    throw EtcdStore.refused("write a batch", sent.cause());
                }
                case REFUSED -> throw EtcdStore.refused("write a batch", sent.cause());
                case BUSY -> waitBeforeResend(deadline, sent);
                case OUTCOME_UNKNOWN -> {
                    LOG.info(
                            "the outcome of batch {} is unknown ({}); reading back",
                            number,
                            EtcdFailure.describe(sent.cause()));
                    EtcdStore.Stored held = store.get(Keyspace.LOCK);
                    if (isOurBatch(held, number)) {
                        batchCommitted(guard, number, held.modRevision(), ops);
                        return batch.size();
                    }
                    if (held == null || held.modRevision() != guard.revision) {
                        throw lockLost(held);
                    }
                    // Not applied so far; the batch compares the lock's revision, so at most one
                    // of the two sends is applied.
                    waitBeforeResend(deadline, sent);
                }
            }
        }
    }

    /** Drops deletes of keys someone changed since they were read back (their compare failed). */
    private List<WriteOp> withoutChangedDeletes(List<WriteOp> ops) throws PublishException {
        List<String> keysToCheck = new ArrayList<>();
        for (WriteOp op : ops) {
            if (op.hasCompare()) {
                keysToCheck.add(op.key());
            }
        }
        Map<String, EtcdStore.Stored> now = store.getAll(keysToCheck);
        List<WriteOp> kept = new ArrayList<>();
        for (WriteOp op : ops) {
            if (op.hasCompare()) {
                EtcdStore.Stored current = now.get(op.key());
                if (current == null || current.modRevision() != op.expectedModRevision()) {
                    if (current != null) {
                        LOG.warn(
                                "leaving {} in place: someone else changed it after it was read"
                                        + " back",
                                op.key());
                    }
                    plannedKeys--;
                    continue;
                }
            }
            kept.add(op);
        }
        return kept;
    }

    private void batchCommitted(Guard guard, int number, long rev, List<WriteOp> ops) {
        guard.revision = rev;
        guard.batch = number;
        int dataOps = 0;
        int deletes = 0;
        for (WriteOp op : ops) {
            if (op.phase() != WritePhase.SHARDS && Keyspace.isPublishable(op.key())) {
                dataOps++;
                deletes += op.isDelete() ? 1 : 0;
            }
        }
        committed(rev, dataOps, deletes);
    }

    private void finish(
            PlannedPublish planned,
            OwnershipRecord record,
            Guard guard,
            long lease,
            LockRecord lock)
            throws PublishException {
        List<Op> ops = new ArrayList<>();
        ops.add(put(Keyspace.PUBLISHED, record.toJson(), 0));
        ops.add(delete(Keyspace.PENDING));
        List<WriteOp> garbage = new ArrayList<>();
        long garbageBytes = 0;
        for (String name : planned.garbage()) {
            WriteOp op = WriteOp.delete(Keyspace.shardKey(name), 0);
            garbage.add(op);
            garbageBytes += op.bytes();
        }
        long recordBytes = record.toJson().length + 512L;
        boolean all = limits.fits(ops.size() + 1 + garbage.size(), 1, recordBytes + garbageBytes);
        if (all) {
            ops.add(delete(Keyspace.LOCK));
            garbage.forEach(g -> ops.add(g.toOp()));
        } else {
            ops.add(put(Keyspace.LOCK, lock.atBatch(guard.batch + 1).toJson(), lease));
        }
        switchRecord(ops, guard);
        if (!all) {
            guard.batch++;
            sendAll(garbage, guard, lease, lock);
            releaseLock(guard);
        }
    }

    /** The last step: the ownership record names the new keys, and the pending plan is gone. */
    private void switchRecord(List<Op> ops, Guard guard) throws PublishException {
        EtcdStore.TxnSpec spec =
                new EtcdStore.TxnSpec(
                        List.of(modRevision(Keyspace.LOCK, guard.revision)),
                        ops,
                        List.of(get(Keyspace.PUBLISHED)));
        long deadline = deadline();
        while (true) {
            EtcdStore.Sent sent = store.send(spec);
            if (sent.executed() && sent.response().isSucceeded()) {
                long rev = sent.response().getHeader().getRevision();
                guard.revision = rev;
                committed(rev, 0, 0);
                return;
            }
            if (sent.executed()) {
                EtcdStore.Stored root = first(sent.response().getGetResponses().get(0));
                if (isOurs(root)) {
                    guard.revision = root.modRevision();
                    committed(root.modRevision(), 0, 0);
                    return;
                }
                throw lockLost(store.get(Keyspace.LOCK));
            }
            switch (sent.failure()) {
                case TOO_MANY_OPERATIONS, TOO_LARGE, REFUSED ->
                        throw EtcdStore.refused("switch the ownership record", sent.cause());
                case BUSY -> waitBeforeResend(deadline, sent);
                case OUTCOME_UNKNOWN -> {
                    EtcdStore.Stored root = store.get(Keyspace.PUBLISHED);
                    if (isOurs(root)) {
                        guard.revision = root.modRevision();
                        committed(root.modRevision(), 0, 0);
                        return;
                    }
                    EtcdStore.Stored held = store.get(Keyspace.LOCK);
                    if (held == null || held.modRevision() != guard.revision) {
                        throw lockLost(held);
                    }
                    waitBeforeResend(deadline, sent);
                }
            }
        }
    }

    private void releaseLock(Guard guard) throws PublishException {
        EtcdStore.TxnSpec spec =
                new EtcdStore.TxnSpec(
                        List.of(modRevision(Keyspace.LOCK, guard.revision)),
                        List.of(delete(Keyspace.LOCK)),
                        List.of());
        long deadline = deadline();
        while (true) {
            EtcdStore.Sent sent = store.send(spec);
            if (sent.executed()) {
                if (sent.response().isSucceeded()) {
                    committed(sent.response().getHeader().getRevision(), 0, 0);
                }
                return;
            }
            if (sent.failure() == EtcdFailure.REFUSED) {
                throw EtcdStore.refused("release the publish lock", sent.cause());
            }
            EtcdStore.Stored held = store.get(Keyspace.LOCK);
            if (held == null || held.modRevision() != guard.revision) {
                return;
            }
            waitBeforeResend(deadline, sent);
        }
    }

    private void refreshLease(Guard guard, long lease) throws PublishException {
        long third = options.lockTtl().toNanos() / 3;
        if (System.nanoTime() - guard.refreshedAt < third) {
            return;
        }
        long ttl;
        try {
            ttl = store.keepAlive(lease);
        } catch (PublishException e) {
            if (e.reason() != PublishException.Reason.REFUSED
                    || !e.getMessage().contains("lease not found")) {
                throw e;
            }
            ttl = 0;
        }
        if (ttl <= 0) {
            throw lockLost(store.get(Keyspace.LOCK));
        }
        guard.refreshedAt = System.nanoTime();
    }

    // ---- bookkeeping ----------------------------------------------------------------------

    private void committed(long rev, int dataOps, int deletes) {
        transactions++;
        keys += dataOps;
        deleted += deletes;
        revision = Math.max(revision, rev);
        PublishProgress progress =
                new PublishProgress(
                        transactions,
                        Math.max(plannedTransactions, transactions),
                        keys,
                        Math.max(plannedKeys, keys),
                        revision);
        if (plannedTransactions >= 20) {
            int tenth = (int) (10L * transactions / plannedTransactions);
            if (tenth > lastProgressTenth && tenth < 10) {
                lastProgressTenth = tenth;
                LOG.info(
                        "publishing: {}% ({} of {} keys, {} of about {} transactions), revision {}",
                        tenth * 10,
                        keys,
                        progress.plannedKeys(),
                        transactions,
                        plannedTransactions,
                        revision);
            }
        }
        options.listener().committed(progress);
    }

    private long deadline() {
        return System.nanoTime() + options.retryFor().toNanos();
    }

    private void waitBeforeResend(long deadline, EtcdStore.Sent sent) throws PublishException {
        if (System.nanoTime() > deadline) {
            throw new PublishException(
                    PublishException.Reason.UNAVAILABLE,
                    "etcd did not take the transaction for "
                            + options.retryFor().toSeconds()
                            + " s ("
                            + EtcdFailure.describe(sent.cause())
                            + "); read back: it was not applied. "
                            + stateAfterFailure(),
                    sent.cause());
        }
        EtcdStore.pause(250);
    }

    /** What etcd holds after a failure, in words for a message. */
    private String stateAfterFailure() {
        return transactions == 0
                ? "Nothing was written."
                : "Etcd holds a partial publish whose references are all valid; run publish"
                        + " again to complete it.";
    }

    private PublishException conflict(EtcdStore.Stored root, EtcdStore.Stored lock) {
        String who = "";
        if (root != null) {
            try {
                OwnershipRecord other = OwnershipRecord.parse(root.value());
                who = " (publish " + other.publishId() + " by " + other.by() + ")";
            } catch (IOException e) {
                who = "";
            }
        }
        if (lock != null) {
            return locked(lockOf(lock));
        }
        return new PublishException(
                PublishException.Reason.CONFLICT,
                "another publisher changed "
                        + Keyspace.PUBLISHED
                        + who
                        + " after this publish read it; nothing was written. Run publish again to"
                        + " publish on top of it");
    }

    private PublishException locked(LockRecord lock) {
        return new PublishException(
                PublishException.Reason.LOCKED,
                "another publish is in progress: "
                        + Keyspace.LOCK
                        + " is held by publish "
                        + lock.publishId()
                        + " by "
                        + lock.by()
                        + ", started "
                        + lock.startedAt()
                        + ", at batch "
                        + lock.batch()
                        + "; nothing was written. If that publisher died, its lock expires"
                        + " with its lease (--lock-ttl) and the next run completes its work");
    }

    private PublishException lockLost(EtcdStore.Stored held) {
        String now = held == null ? "is gone (its lease expired)" : "was taken by another publish";
        return new PublishException(
                PublishException.Reason.LOCK_LOST,
                "the publish lock "
                        + now
                        + " after "
                        + transactions
                        + " transactions (was this publisher stalled longer than --lock-ttl?). "
                        + stateAfterFailure());
    }

    private LockRecord lockOf(EtcdStore.Stored held) {
        try {
            return LockRecord.parse(held.value());
        } catch (IOException e) {
            return new LockRecord("?", "?", "?", -1);
        }
    }

    private boolean isOurs(EtcdStore.Stored root) {
        if (root == null) {
            return false;
        }
        try {
            return OwnershipRecord.parse(root.value()).publishId().equals(publishId);
        } catch (IOException e) {
            return false;
        }
    }

    private boolean isOurBatch(EtcdStore.Stored held, int number) {
        if (held == null) {
            return false;
        }
        LockRecord l = lockOf(held);
        return l.publishId().equals(publishId) && l.batch() == number;
    }

    private static EtcdStore.Stored first(GetResponse r) {
        return r.getKvs().isEmpty() ? null : EtcdStore.stored(r.getKvs().get(0));
    }

    private static long modRevision(EtcdStore.Stored s) {
        return s == null ? 0 : s.modRevision();
    }

    private static Cmp modRevision(String key, long revision) {
        return new Cmp(EtcdStore.bytes(key), Cmp.Op.EQUAL, CmpTarget.modRevision(revision));
    }

    private static Op put(String key, byte[] value, long lease) {
        PutOption option =
                lease == 0 ? PutOption.DEFAULT : PutOption.builder().withLeaseId(lease).build();
        return Op.put(EtcdStore.bytes(key), ByteSequence.from(value), option);
    }

    private static Op delete(String key) {
        return Op.delete(EtcdStore.bytes(key), DeleteOption.DEFAULT);
    }

    private static Op get(String key) {
        return Op.get(EtcdStore.bytes(key), GetOption.DEFAULT);
    }

    private static String publisherName() {
        String host = null;
        try {
            Path hostname = Path.of("/proc/sys/kernel/hostname");
            if (Files.isReadable(hostname)) {
                host = Files.readString(hostname, StandardCharsets.UTF_8).trim();
            }
        } catch (IOException e) {
            host = null;
        }
        if (host == null || host.isEmpty()) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                host = "unknown host";
            }
        }
        return "calico-agent "
                + PolicyCompiler.version()
                + " on "
                + host
                + " (pid "
                + ProcessHandle.current().pid()
                + ")";
    }
}
