package dev.calicopolicy.dsl;

import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Options that change what the compiler renders for hosts.
 *
 * @param chainPrefix prefix of every iptables chain and ipset name the host files declare
 * @param workloadToHost what happens to traffic from an endpoint to the host itself, beyond DHCP
 *     and IPv6 router and neighbour discovery: dropped (Calico's default), or accepted once it has
 *     passed the endpoint's outbound policy
 * @param hostRules the hosts whose rule files are written: all of them (the default), none (the
 *     etcd bundle only), or the named ones
 */
public record CompileOptions(
        String chainPrefix, WorkloadToHost workloadToHost, HostSelection hostRules) {
    private static final Pattern CHAIN_PREFIX = Pattern.compile("[a-z][a-z0-9]{0,5}-");

    /** The fate of traffic from endpoints to their host. */
    public enum WorkloadToHost {
        DROP,
        ACCEPT
    }

    /**
     * Which hosts get rule files. Each host's ipsets hold every member of every tag its rules use,
     * so for a large policy the files of all hosts together are large; a deploy step that needs
     * only the bundle, or one host, can say so.
     */
    public record HostSelection(boolean all, SortedSet<String> names) {
        public static final HostSelection ALL =
                new HostSelection(true, Collections.emptySortedSet());
        public static final HostSelection NONE =
                new HostSelection(false, Collections.emptySortedSet());

        public HostSelection {
            names = Collections.unmodifiableSortedSet(new TreeSet<>(names));
        }

        /** Exactly these hosts. */
        public static HostSelection of(Collection<String> names) {
            return new HostSelection(false, new TreeSet<>(names));
        }

        /**
         * Parses {@code all}, {@code none}, or a comma-separated list of host names.
         *
         * @throws IllegalArgumentException for an empty list or an empty name
         */
        public static HostSelection parse(String text) {
            String trimmed = text.trim();
            if (trimmed.equals("all")) {
                return ALL;
            }
            if (trimmed.equals("none")) {
                return NONE;
            }
            String[] names = trimmed.split("\\s*,\\s*", -1);
            if (Arrays.stream(names).anyMatch(String::isEmpty)) {
                throw new IllegalArgumentException(
                        "host rules '"
                                + text
                                + "' must be 'all', 'none' or a comma-separated list of host"
                                + " names");
            }
            return of(Arrays.asList(names));
        }

        public boolean includes(String host) {
            return all || names.contains(host);
        }

        /** The form {@link #parse} reads: {@code all}, {@code none} or {@code a,b}. */
        @Override
        public String toString() {
            if (all) {
                return "all";
            }
            return names.isEmpty() ? "none" : String.join(",", names);
        }
    }

    public static final CompileOptions DEFAULTS = new CompileOptions("cali-", WorkloadToHost.DROP);

    /** Options that render rule files for every host. */
    public CompileOptions(String chainPrefix, WorkloadToHost workloadToHost) {
        this(chainPrefix, workloadToHost, HostSelection.ALL);
    }

    public CompileOptions {
        Objects.requireNonNull(chainPrefix, "chainPrefix should not be null");
        Objects.requireNonNull(workloadToHost, "workloadToHost should not be null");
        Objects.requireNonNull(hostRules, "hostRules should not be null");
        if (!CHAIN_PREFIX.matcher(chainPrefix).matches()) {
            throw new IllegalArgumentException(
                    "chain prefix '"
                            + chainPrefix
                            + "' must be 1-6 lower-case letters or digits, starting with a letter,"
                            + " followed by '-' (like 'cali-')");
        }
    }

    /** These options with another host selection. */
    public CompileOptions withHostRules(HostSelection hosts) {
        return new CompileOptions(chainPrefix, workloadToHost, hosts);
    }
}
