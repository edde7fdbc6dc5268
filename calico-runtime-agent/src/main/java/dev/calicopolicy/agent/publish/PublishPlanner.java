package dev.calicopolicy.agent.publish;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Works out what a publish must write: the difference between the keys of a compile output and what
 * the tool published before.
 *
 * <p>Normally the ownership record is trusted for the values of kept keys, so only the shards of
 * buckets that differ are read, and only the keys to delete are read back. When a publish died half
 * way (a pending record is there), or when asked to verify, every key under {@code /calico/v1/} and
 * {@code /calico-policy/hosts/} is read back instead, and what etcd actually holds is compared.
 *
 * <p>A key the bundle dropped is deleted only if it still holds a value this tool wrote (its digest
 * matches the record, or the dead run's plan); if someone else changed it, it is left in place and
 * reported as kept. A key in no record is never deleted.
 */
final class PublishPlanner {
    private static final Logger LOG = LoggerFactory.getLogger(PublishPlanner.class);

    private final EtcdStore store;

    PublishPlanner(EtcdStore store) {
        this.store = store;
    }

    PlannedPublish plan(CompiledOutput output, StoreState state, boolean verify)
            throws PublishException {
        String[] keys = new String[output.size()];
        String[] valueDigests = new String[output.size()];
        IntStream.range(0, keys.length)
                .parallel()
                .forEach(
                        i -> {
                            keys[i] = output.key(i);
                            valueDigests[i] = Digests.valueDigest(output.value(i));
                        });
        OwnedKeys target = OwnedKeys.of(keys, valueDigests);
        OwnershipRecord record = state.record();

        Set<String> targetShards = new HashSet<>(target.shardNames());
        List<String> garbage = new ArrayList<>();
        for (String name : state.shardNames()) {
            if (!targetShards.contains(name)) {
                garbage.add(name);
            }
        }
        List<Integer> newBuckets = new ArrayList<>();
        for (int b = 0; b < target.bucketCount(); b++) {
            String name = target.shardNames().get(b);
            if (!name.isEmpty() && !state.shardNames().contains(name)) {
                newBuckets.add(b);
            }
        }
        List<OwnedKeys.Shard> newShards = target.shards(newBuckets);

        Diff diff;
        if (verify || state.pending() != null) {
            diff = readBackDiff(target, state);
        } else if (record != null
                && record.digest().equals(target.digest())
                && newShards.isEmpty()) {
            diff = new Diff();
            diff.unchanged = target.size();
        } else {
            diff = recordDiff(target, record);
        }

        List<WriteOp> data = new ArrayList<>();
        for (String key : diff.added) {
            data.add(WriteOp.put(key, output.value(key)));
        }
        for (String key : diff.changed) {
            data.add(WriteOp.put(key, output.value(key)));
        }
        List<String> removed = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        Map<String, EtcdStore.Stored> current =
                diff.current != null ? diff.current : store.getAll(diff.candidates.keySet());
        for (Map.Entry<String, Set<String>> c : diff.candidates.entrySet()) {
            EtcdStore.Stored now = current.get(c.getKey());
            if (now == null) {
                continue;
            }
            if (c.getValue().contains(Digests.valueDigest(now.value()))) {
                removed.add(c.getKey());
                data.add(WriteOp.delete(c.getKey(), now.modRevision()));
            } else {
                kept.add(c.getKey());
            }
        }
        data.sort(WriteOp.ORDER);
        for (String key : kept) {
            LOG.warn(
                    "leaving {} in place: the bundle dropped it, but someone else changed it"
                            + " since it was published",
                    key);
        }

        List<String> inherited = new ArrayList<>();
        if (state.pending() != null) {
            Set<String> names = new LinkedHashSet<>(state.pending().shardNames());
            for (String name : names) {
                if (state.shardNames().contains(name)) {
                    inherited.add(name);
                }
            }
        }
        return new PlannedPublish(
                output,
                state,
                target,
                sorted(diff.added),
                sorted(diff.changed),
                sorted(removed),
                sorted(kept),
                diff.unchanged,
                data,
                newShards,
                garbage,
                inherited);
    }

    /** The difference worked out from the ownership record, trusting it for unchanged shards. */
    private Diff recordDiff(OwnedKeys target, OwnershipRecord record) throws PublishException {
        Diff diff = new Diff();
        if (record == null) {
            for (int i = 0; i < target.size(); i++) {
                diff.added.add(target.keyAt(i));
            }
            return diff;
        }

        // With the same bucket count, a bucket whose shard name is the same holds the same keys
        // and digests: only the others are read and compared. Otherwise every shard is.
        boolean sameBuckets = record.shards().size() == target.bucketCount();
        List<String> targetNames = target.shardNames();
        boolean[] differs = new boolean[target.bucketCount()];
        List<String> toRead = new ArrayList<>();
        for (int b = 0; b < record.shards().size(); b++) {
            String name = record.shards().get(b);
            if (sameBuckets) {
                if (name.equals(targetNames.get(b))) {
                    continue;
                }
                differs[b] = true;
            }
            if (!name.isEmpty()) {
                toRead.add(name);
            }
        }
        SortedMap<String, String> published = readShards(toRead);

        for (int i = 0; i < target.size(); i++) {
            String key = target.keyAt(i);
            if (sameBuckets && !differs[target.bucketAt(i)]) {
                diff.unchanged++;
                continue;
            }
            String old = published.get(key);
            if (old == null) {
                diff.added.add(key);
            } else if (!old.equals(target.digestAt(i))) {
                diff.changed.add(key);
            } else {
                diff.unchanged++;
            }
        }
        for (Map.Entry<String, String> e : published.entrySet()) {
            if (!target.contains(e.getKey())) {
                diff.candidates.put(e.getKey(), Set.of(e.getValue()));
            }
        }
        return diff;
    }

    /**
     * The difference against what etcd actually holds. Every record that may describe keys the tool
     * wrote counts for ownership: the ownership record, the pending plan of a run that died, and
     * the plans it inherited.
     */
    private Diff readBackDiff(OwnedKeys target, StoreState state) throws PublishException {
        List<String> sources = new ArrayList<>();
        if (state.record() != null) {
            sources.addAll(state.record().shardNames());
        }
        if (state.pending() != null) {
            LOG.info(
                    "publish {} started at {} did not finish; reading every key back to complete"
                            + " it",
                    state.pending().publishId(),
                    state.pending().startedAt());
            sources.addAll(state.pending().shardNames());
        }
        Map<String, Set<String>> owned = new HashMap<>();
        for (String name : new LinkedHashSet<>(sources)) {
            if (!state.shardNames().contains(name)) {
                continue;
            }
            for (Map.Entry<String, String> e : readShards(List.of(name)).entrySet()) {
                owned.computeIfAbsent(e.getKey(), k -> new HashSet<>(2)).add(e.getValue());
            }
        }

        Map<String, EtcdStore.Stored> current = new HashMap<>();
        for (EtcdStore.Stored s : store.range(Keyspace.POLICY, false, EtcdStore.POLICY_PAGE)) {
            current.put(s.key(), s);
        }
        for (EtcdStore.Stored s : store.range(Keyspace.HOSTS, false, EtcdStore.HOST_PAGE)) {
            current.put(s.key(), s);
        }

        Diff diff = new Diff();
        diff.current = current;
        for (int i = 0; i < target.size(); i++) {
            String key = target.keyAt(i);
            EtcdStore.Stored now = current.get(key);
            if (now == null) {
                diff.added.add(key);
            } else if (!Digests.valueDigest(now.value()).equals(target.digestAt(i))) {
                diff.changed.add(key);
            } else {
                diff.unchanged++;
            }
        }
        for (Map.Entry<String, Set<String>> e : owned.entrySet()) {
            if (!target.contains(e.getKey())) {
                diff.candidates.put(e.getKey(), e.getValue());
            }
        }
        return diff;
    }

    /** Reads shards by name; a missing shard is reported and counts as empty. */
    private SortedMap<String, String> readShards(Collection<String> names) throws PublishException {
        List<String> keys = names.stream().map(Keyspace::shardKey).toList();
        Map<String, EtcdStore.Stored> found = store.getAll(keys);
        SortedMap<String, String> digests = new TreeMap<>();
        for (String key : keys) {
            EtcdStore.Stored shard = found.get(key);
            if (shard == null) {
                LOG.warn(
                        "ownership shard {} is missing: the keys it listed are no longer known"
                                + " as published by this tool, and will not be deleted",
                        key);
                continue;
            }
            try {
                SortedMap<String, String> entries = OwnedKeys.parseShard(shard.value());
                if (!OwnedKeys.shardName(entries).equals(key.substring(Keyspace.SHARDS.length()))) {
                    LOG.warn(
                            "ownership shard {} does not match its name (changed by hand?): the"
                                    + " keys it lists are not taken as published by this tool",
                            key);
                    continue;
                }
                digests.putAll(entries);
            } catch (IOException e) {
                throw new PublishException(
                        PublishException.Reason.BAD_RECORD,
                        "cannot read ownership shard " + key + ": " + e.getMessage(),
                        e);
            }
        }
        return digests;
    }

    private static List<String> sorted(Collection<String> keys) {
        List<String> list = new ArrayList<>(keys);
        list.sort(null);
        return list;
    }

    /** A difference under construction. */
    private static final class Diff {
        final List<String> added = new ArrayList<>();
        final List<String> changed = new ArrayList<>();
        int unchanged;

        /** Keys published before that the bundle dropped, with the digests this tool wrote. */
        final SortedMap<String, Set<String>> candidates = new TreeMap<>();

        /** What etcd holds, when it was all read back; else the candidates are fetched. */
        Map<String, EtcdStore.Stored> current;
    }
}
