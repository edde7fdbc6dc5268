package dev.calicopolicy.dsl.model;

import java.util.Objects;

/**
 * A 1:1 NAT mapping: connections to {@code outIp} are forwarded to {@code inIp}, one of the
 * endpoint's own addresses.
 */
public record Nat(IpAddress outIp, IpAddress inIp) {
    public Nat {
        Objects.requireNonNull(outIp, "outIp should not be null");
        Objects.requireNonNull(inIp, "inIp should not be null");
    }
}
