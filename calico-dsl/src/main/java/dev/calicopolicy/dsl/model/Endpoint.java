package dev.calicopolicy.dsl.model;

import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * A workload endpoint as the Calico v1 data model stores it, with canonical values: the MAC in
 * lower case with colons, nets as host CIDRs, addresses compressed.
 */
public record Endpoint(
        EndpointKey key,
        EndpointState state,
        String interfaceName,
        String mac,
        List<String> profileIds,
        List<Nat> ipv4Nat,
        List<Cidr> ipv4Nets,
        List<Nat> ipv6Nat,
        List<Cidr> ipv6Nets,
        IpAddress ipv4Gateway,
        IpAddress ipv6Gateway,
        SourceLocation location) {

    public Endpoint {
        Objects.requireNonNull(key, "key should not be null");
        Objects.requireNonNull(state, "state should not be null");
        Objects.requireNonNull(interfaceName, "interfaceName should not be null");
        Objects.requireNonNull(mac, "mac should not be null");
        profileIds = List.copyOf(profileIds);
        ipv4Nat = List.copyOf(ipv4Nat);
        ipv4Nets = List.copyOf(ipv4Nets);
        ipv6Nat = List.copyOf(ipv6Nat);
        ipv6Nets = List.copyOf(ipv6Nets);
        Objects.requireNonNull(location, "location should not be null");
    }

    public String host() {
        return key.host();
    }

    public boolean isActive() {
        return state == EndpointState.ACTIVE;
    }

    public List<Cidr> nets(IpVersion version) {
        return version == IpVersion.V4 ? ipv4Nets : ipv6Nets;
    }

    public List<Nat> nat(IpVersion version) {
        return version == IpVersion.V4 ? ipv4Nat : ipv6Nat;
    }

    public IpAddress gateway(IpVersion version) {
        return version == IpVersion.V4 ? ipv4Gateway : ipv6Gateway;
    }

    /** All nets of both families, v4 first. */
    public Stream<Cidr> allNets() {
        return Stream.concat(ipv4Nets.stream(), ipv6Nets.stream());
    }

    /** The same endpoint without its source position, for comparing models by meaning. */
    public Endpoint withoutLocation() {
        return new Endpoint(
                key,
                state,
                interfaceName,
                mac,
                profileIds,
                ipv4Nat,
                ipv4Nets,
                ipv6Nat,
                ipv6Nets,
                ipv4Gateway,
                ipv6Gateway,
                SourceLocation.NONE);
    }
}
