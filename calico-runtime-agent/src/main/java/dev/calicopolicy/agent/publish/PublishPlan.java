package dev.calicopolicy.agent.publish;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a publish changes in etcd, key by key; {@code --dry-run} prints it.
 *
 * @param bundleDigest the digest of the bundle to publish
 * @param digest the digest of every key and value to publish (bundle and host files)
 * @param added keys to create
 * @param changed keys to overwrite with a new value
 * @param removed keys this tool published before that the bundle no longer has, to delete
 * @param kept keys this tool published before that the bundle no longer has, left in place because
 *     someone else changed them since
 * @param unchanged how many keys already hold their value
 * @param mode how the changes are written
 * @param transactions how many transactions that takes (an estimate for batches)
 * @param completes the id of an earlier publish that died half way, which this one completes
 */
public record PublishPlan(
        String bundleDigest,
        String digest,
        List<String> added,
        List<String> changed,
        List<String> removed,
        List<String> kept,
        int unchanged,
        Mode mode,
        int transactions,
        Optional<String> completes) {

    /** How the changes are written. */
    public enum Mode {
        /** Etcd already holds the bundle: nothing is written. */
        NOTHING,
        /** Everything in one transaction, guarded by a compare on the ownership record. */
        ONE_TRANSACTION,
        /** In ordered batches under a lock, the ownership record switched last. */
        BATCHES
    }

    public PublishPlan {
        Objects.requireNonNull(bundleDigest, "bundleDigest should not be null");
        Objects.requireNonNull(digest, "digest should not be null");
        added = List.copyOf(added);
        changed = List.copyOf(changed);
        removed = List.copyOf(removed);
        kept = List.copyOf(kept);
        Objects.requireNonNull(mode, "mode should not be null");
        Objects.requireNonNull(completes, "completes should not be null");
    }

    /** How many keys are written or deleted. */
    public int keysToWrite() {
        return added.size() + changed.size() + removed.size();
    }

    /**
     * The plan in one line, as {@code --dry-run} and {@code calico:publish -Dcalico.dryRun} print
     * it: {@code 3 added, 1 changed, 0 removed, 0 kept, 40 unchanged; 1 transaction}.
     */
    public String summary() {
        String writes =
                switch (mode()) {
                    case NOTHING -> "nothing to write";
                    case ONE_TRANSACTION -> "1 transaction";
                    case BATCHES -> "about " + transactions() + " transactions";
                };
        return added().size()
                + " added, "
                + changed().size()
                + " changed, "
                + removed().size()
                + " removed, "
                + kept().size()
                + " kept, "
                + unchanged()
                + " unchanged; "
                + writes;
    }
}
