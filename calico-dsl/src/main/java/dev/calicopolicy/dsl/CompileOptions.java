package dev.calicopolicy.dsl;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Options that change what the compiler renders for hosts.
 *
 * @param chainPrefix prefix of every iptables chain and ipset name the host files declare
 * @param workloadToHost what happens to traffic from an endpoint to the host itself, beyond DHCP
 *     and IPv6 router and neighbour discovery: dropped (Calico's default), or accepted once it has
 *     passed the endpoint's outbound policy
 */
public record CompileOptions(String chainPrefix, WorkloadToHost workloadToHost) {
    private static final Pattern CHAIN_PREFIX = Pattern.compile("[a-z][a-z0-9]{0,5}-");

    /** The fate of traffic from endpoints to their host. */
    public enum WorkloadToHost {
        DROP,
        ACCEPT
    }

    public static final CompileOptions DEFAULTS = new CompileOptions("cali-", WorkloadToHost.DROP);

    public CompileOptions {
        Objects.requireNonNull(chainPrefix, "chainPrefix should not be null");
        Objects.requireNonNull(workloadToHost, "workloadToHost should not be null");
        if (!CHAIN_PREFIX.matcher(chainPrefix).matches()) {
            throw new IllegalArgumentException(
                    "chain prefix '"
                            + chainPrefix
                            + "' must be 1-6 lower-case letters or digits, starting with a letter,"
                            + " followed by '-' (like 'cali-')");
        }
    }
}
