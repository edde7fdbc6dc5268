package dev.calicopolicy.dsl.model;

import java.util.Objects;

/** A single IP address in canonical text (IPv6 compressed, lower case). */
public record IpAddress(String text, IpVersion version) {
    public IpAddress {
        Objects.requireNonNull(text, "text should not be null");
        Objects.requireNonNull(version, "version should not be null");
    }

    /** This address as a host CIDR (/32 or /128). */
    public Cidr toCidr() {
        return new Cidr(text, version.bits(), version);
    }

    @Override
    public String toString() {
        return text;
    }
}
