package dev.calicopolicy.dsl.emit.host;

import dev.calicopolicy.dsl.model.Direction;
import dev.calicopolicy.dsl.model.IpVersion;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The names of the iptables chains and ipsets of a host: each starts with the chain prefix, and a
 * name over the kernel's limit (28 characters for a chain, 31 for an ipset) keeps its head and ends
 * in {@code ~} and ten hex digits of the SHA-256 of the whole name. Policy names cannot contain
 * {@code ~}, so a shortened name never equals a name that was short enough to keep.
 */
public final class KernelNames {
    /** The longest chain name iptables accepts. */
    public static final int MAX_CHAIN = 28;

    /** The longest set name ipset accepts. */
    public static final int MAX_SET = 31;

    private static final int HASH_DIGITS = 10;

    private final String prefix;

    public KernelNames(String prefix) {
        this.prefix = Objects.requireNonNull(prefix, "prefix should not be null");
    }

    public String prefix() {
        return prefix;
    }

    /** A chain hooked into a built-in chain: {@code cali-FORWARD}, {@code cali-INPUT}... */
    public String hookChain(String builtIn) {
        return prefix + builtIn;
    }

    /** The chain for traffic from endpoints to the host itself, shared by all endpoints. */
    public String endpointToHostChain() {
        return prefix + "wl-to-host";
    }

    /** The chain of an endpoint's outbound policy (traffic from its interface). */
    public String fromEndpointChain(String interfaceName) {
        return chain("from-" + interfaceName);
    }

    /** The chain of an endpoint's inbound policy (traffic to its interface). */
    public String toEndpointChain(String interfaceName) {
        return chain("to-" + interfaceName);
    }

    /** The chain of one direction of a profile's rules. */
    public String profileChain(String profileId, Direction direction) {
        return chain((direction == Direction.INBOUND ? "pi-" : "po-") + profileId);
    }

    /** The ipset of one family of a tag's members. */
    public String tagSet(String tag, IpVersion version) {
        return shorten(prefix + "v" + version.number() + "-" + tag, MAX_SET);
    }

    private String chain(String rest) {
        return shorten(prefix + rest, MAX_CHAIN);
    }

    /** {@code name} itself if it fits in {@code limit}, else its head, {@code ~} and a hash. */
    static String shorten(String name, int limit) {
        if (name.length() <= limit) {
            return name;
        }
        String hash = HexFormat.of().formatHex(sha256(name)).substring(0, HASH_DIGITS);
        return name.substring(0, limit - HASH_DIGITS - 1) + "~" + hash;
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
