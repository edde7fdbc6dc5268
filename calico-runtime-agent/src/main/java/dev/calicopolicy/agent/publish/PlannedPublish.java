package dev.calicopolicy.agent.publish;

import java.util.List;
import java.util.Optional;

/** A plan with everything needed to carry it out: the operations, shards and records. */
record PlannedPublish(
        CompiledOutput output,
        StoreState state,
        OwnedKeys target,
        List<String> added,
        List<String> changed,
        List<String> removed,
        List<String> kept,
        int unchanged,
        List<WriteOp> data,
        List<OwnedKeys.Shard> newShards,
        List<String> garbage,
        List<String> inherited) {

    PlannedPublish {
        added = List.copyOf(added);
        changed = List.copyOf(changed);
        removed = List.copyOf(removed);
        kept = List.copyOf(kept);
        data = List.copyOf(data);
        newShards = List.copyOf(newShards);
        garbage = List.copyOf(garbage);
        inherited = List.copyOf(inherited);
    }

    /** True when etcd already holds exactly this and no record needs tidying. */
    boolean nothingToDo() {
        return data.isEmpty()
                && newShards.isEmpty()
                && garbage.isEmpty()
                && state.pending() == null
                && state.record() != null
                && state.record().digest().equals(target.digest());
    }

    PublishPlan plan(PublishPlan.Mode mode, int transactions) {
        return new PublishPlan(
                output.bundleDigest(),
                target.digest(),
                added,
                changed,
                removed,
                kept,
                unchanged,
                mode,
                transactions,
                Optional.ofNullable(state.pending()).map(PendingRecord::publishId));
    }
}
