package dev.calicopolicy.dsl.model;

/**
 * A port or an inclusive range of ports. A single port has {@code first == last}; a range has
 * {@code first < last}, as the data model writes {@code "first:last"}.
 */
public record PortRange(int first, int last) {
    public PortRange {
        if (first < 0 || last > 65535 || first > last) {
            throw new IllegalArgumentException("invalid port range " + first + ":" + last);
        }
    }

    public static PortRange single(int port) {
        return new PortRange(port, port);
    }

    public boolean isSingle() {
        return first == last;
    }

    /** How many ports of iptables' multiport limit (15) this takes: 1 for a port, 2 for a range. */
    public int multiportWeight() {
        return isSingle() ? 1 : 2;
    }

    @Override
    public String toString() {
        return isSingle() ? Integer.toString(first) : first + ":" + last;
    }
}
