package dev.calicopolicy.dsl.model;

import java.util.Objects;

/**
 * A canonical CIDR: the network address in canonical text (lower case, IPv6 compressed) and the
 * prefix length. Host bits are always zero.
 */
public record Cidr(String address, int prefixLength, IpVersion version)
        implements Comparable<Cidr> {
    public Cidr {
        Objects.requireNonNull(address, "address should not be null");
        Objects.requireNonNull(version, "version should not be null");
        if (prefixLength < 0 || prefixLength > version.bits()) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " out of range");
        }
    }

    /** True for a /32 (IPv4) or /128 (IPv6): a single address. */
    public boolean isSingleAddress() {
        return prefixLength == version.bits();
    }

    @Override
    public int compareTo(Cidr other) {
        int byVersion = version.compareTo(other.version);
        return byVersion != 0 ? byVersion : toString().compareTo(other.toString());
    }

    @Override
    public String toString() {
        return address + "/" + prefixLength;
    }
}
