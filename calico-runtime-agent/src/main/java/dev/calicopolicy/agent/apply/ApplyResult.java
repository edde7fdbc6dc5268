package dev.calicopolicy.agent.apply;

/**
 * What an apply changed in the kernel. Counts of chains are over both IP families and both tables.
 *
 * @param setsCreated ipsets that did not exist before
 * @param setsUpdated ipsets whose members (or kind) changed, swapped in whole
 * @param setsRemoved prefixed ipsets the files no longer have
 * @param chainsLoaded prefixed chains created or replaced because their rules changed
 * @param chainsRemoved prefixed chains the files no longer have
 * @param jumpsFixed jumps from built-in chains installed, or removed where there were several
 */
public record ApplyResult(
        int setsCreated,
        int setsUpdated,
        int setsRemoved,
        int chainsLoaded,
        int chainsRemoved,
        int jumpsFixed) {

    /** True when the kernel was changed at all. */
    public boolean changed() {
        return setsCreated + setsUpdated + setsRemoved + chainsLoaded + chainsRemoved + jumpsFixed
                > 0;
    }

    /** One line for people: what changed, or that nothing did. */
    public String summary() {
        if (!changed()) {
            return "no changes: the kernel already enforces these files";
        }
        return "ipsets: "
                + setsCreated
                + " created, "
                + setsUpdated
                + " updated, "
                + setsRemoved
                + " removed; chains: "
                + chainsLoaded
                + " loaded, "
                + chainsRemoved
                + " removed; jumps fixed: "
                + jumpsFixed;
    }
}
