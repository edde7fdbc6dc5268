package dev.calicopolicy.agent.publish;

/**
 * The etcd keys calico-policy uses. Policy goes under {@code /calico/v1/} (Calico's data model);
 * everything of the tool's own lives under {@code /calico-policy/}:
 *
 * <pre>
 * /calico-policy/published            the ownership record: what the last complete publish wrote
 * /calico-policy/owned/&lt;sha256&gt;       its shards: the owned keys with a digest of each value
 * /calico-policy/pending              a batched publish under way (or one that died half way)
 * /calico-policy/lock                 held, on a lease, by the publisher writing batches
 * /calico-policy/hosts/&lt;host&gt;/...     host files (see {@link HostFileLayout})
 * /calico-policy/status/&lt;host&gt;        written by {@code calico-agent run} on that host: what
 *                                     it applied, and any error (never touched by a publish)
 * </pre>
 */
public final class Keyspace {
    /** Where the policy goes: Calico's v1 data model. */
    public static final String POLICY = "/calico/v1/";

    /** Everything of calico-policy's own. */
    public static final String ROOT = "/calico-policy/";

    /** The ownership record. */
    public static final String PUBLISHED = ROOT + "published";

    /** The shards of ownership records, named by the SHA-256 of their content. */
    public static final String SHARDS = ROOT + "owned/";

    /** The plan of a batched publish that has not finished. */
    public static final String PENDING = ROOT + "pending";

    /** The lock of a batched publish, bound to its lease. */
    public static final String LOCK = ROOT + "lock";

    /** Host files, by host. */
    public static final String HOSTS = ROOT + "hosts/";

    /**
     * Each host's status, as its agent reports it. Outside {@link #isPublishable}, so a publish
     * never owns, overwrites or deletes one.
     */
    public static final String STATUS = ROOT + "status/";

    private Keyspace() {}

    /** The key of the shard with this name. */
    static String shardKey(String name) {
        return SHARDS + name;
    }

    /** True for keys a publish may write: policy and host files, never the tool's records. */
    static boolean isPublishable(String key) {
        return key.startsWith(POLICY) || key.startsWith(HOSTS);
    }
}
