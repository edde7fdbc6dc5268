package dev.calicopolicy.dsl.emit.host;

import java.util.Objects;

/**
 * The three files that put one host's part of the policy into its kernel.
 *
 * @param ipsetRules input for {@code ipset restore}: the tag sets the host's rules use
 * @param iptablesRules IPv4 chains, input for {@code iptables-restore --noflush}
 * @param ip6tablesRules IPv6 chains, input for {@code ip6tables-restore --noflush}
 */
public record HostRules(String ipsetRules, String iptablesRules, String ip6tablesRules) {
    public static final String IPSET_FILE = "ipset.rules";
    public static final String IPTABLES_FILE = "iptables.rules";
    public static final String IP6TABLES_FILE = "ip6tables.rules";

    public HostRules {
        Objects.requireNonNull(ipsetRules, "ipsetRules should not be null");
        Objects.requireNonNull(iptablesRules, "iptablesRules should not be null");
        Objects.requireNonNull(ip6tablesRules, "ip6tablesRules should not be null");
    }
}
