package dev.calicopolicy.agent.publish;

/**
 * The order in which a batched publish writes, so that every reference stays valid after every
 * batch: a profile exists before an endpoint names it, and an endpoint is gone (or no longer names
 * it) before the profile is deleted; a host's file parts exist before its index names them, and the
 * index is switched before the old parts are deleted.
 */
enum WritePhase {
    /** Shards of the new ownership record (named in the pending record). */
    SHARDS,
    /** Policy that endpoints refer to: profiles' rules and tags, anything not under a host. */
    PUT_DEFINITIONS,
    /** Endpoints ({@code /calico/v1/host/...}). */
    PUT_ENDPOINTS,
    /** Parts of host files. */
    PUT_HOST_PARTS,
    /** Host indexes, which name the parts. */
    PUT_HOST_INDEXES,
    DELETE_HOST_INDEXES,
    DELETE_HOST_PARTS,
    DELETE_ENDPOINTS,
    DELETE_DEFINITIONS;

    private static final String ENDPOINTS = Keyspace.POLICY + "host/";

    /** The phase of a put or delete of {@code key}. */
    static WritePhase of(String key, boolean delete) {
        if (key.startsWith(Keyspace.HOSTS)) {
            boolean index = key.endsWith("/" + HostFileLayout.INDEX);
            if (delete) {
                return index ? DELETE_HOST_INDEXES : DELETE_HOST_PARTS;
            }
            return index ? PUT_HOST_INDEXES : PUT_HOST_PARTS;
        }
        boolean endpoint = key.startsWith(ENDPOINTS);
        if (delete) {
            return endpoint ? DELETE_ENDPOINTS : DELETE_DEFINITIONS;
        }
        return endpoint ? PUT_ENDPOINTS : PUT_DEFINITIONS;
    }
}
