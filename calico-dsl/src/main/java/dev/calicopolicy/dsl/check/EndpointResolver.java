package dev.calicopolicy.dsl.check;

import dev.calicopolicy.dsl.Diagnostic;
import dev.calicopolicy.dsl.model.Cidr;
import dev.calicopolicy.dsl.model.Endpoint;
import dev.calicopolicy.dsl.model.EndpointKey;
import dev.calicopolicy.dsl.model.EndpointState;
import dev.calicopolicy.dsl.model.IpAddress;
import dev.calicopolicy.dsl.model.IpVersion;
import dev.calicopolicy.dsl.model.Nat;
import dev.calicopolicy.dsl.syntax.Located;
import dev.calicopolicy.dsl.syntax.SourceModel.EndpointDecl;
import dev.calicopolicy.dsl.syntax.SourceModel.NatDecl;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Checks one endpoint on its own: its names, interface, MAC, state, profiles, addresses, gateways
 * and NAT mappings. What endpoints claim together (keys, interfaces, addresses) is checked by
 * {@link PolicyChecker}. Independent of other endpoints, so endpoints are checked in parallel.
 */
final class EndpointResolver {
    /** The endpoint (null when it has errors) and the problems found in it. */
    record Result(Endpoint endpoint, List<Diagnostic> diagnostics) {}

    private final DiagnosticSink diagnostics = new DiagnosticSink();
    private final ValueParser values = new ValueParser(diagnostics);

    private EndpointResolver() {}

    static Result resolve(EndpointDecl decl, Set<String> profileIds) {
        EndpointResolver resolver = new EndpointResolver();
        Endpoint endpoint = resolver.resolveEndpoint(decl, profileIds);
        return new Result(endpoint, List.copyOf(resolver.diagnostics.all()));
    }

    private Endpoint resolveEndpoint(EndpointDecl decl, Set<String> profileIds) {
        int errorsBefore = errorCount();
        String host = values.identifier(decl.host(), "host name");
        String orchestrator = values.identifier(decl.orchestrator(), "orchestrator id");
        String workload = values.identifier(decl.workload(), "workload id");
        String id = values.identifier(decl.id(), "endpoint id");
        String where = "endpoint '" + decl.id().value() + "'";

        String interfaceName = null;
        if (decl.interfaceName() == null) {
            missing(decl, where + " needs an 'interface' (the name of its Linux interface)");
        } else {
            interfaceName = values.interfaceName(decl.interfaceName());
        }
        String mac = null;
        if (decl.mac() == null) {
            missing(decl, where + " needs a 'mac' (Calico's agent rejects endpoints without one)");
        } else {
            mac = values.mac(decl.mac());
        }
        EndpointState state = EndpointState.ACTIVE;
        if (decl.state() != null) {
            switch (decl.state().value()) {
                case "active" -> state = EndpointState.ACTIVE;
                case "inactive" -> state = EndpointState.INACTIVE;
                default ->
                        diagnostics.add(
                                Diagnostic.error(
                                        decl.state().location(),
                                        "unknown state '"
                                                + decl.state().value()
                                                + "' (expected active or inactive)"));
            }
        }

        List<String> profiles = new ArrayList<>();
        for (Located<String> p : decl.profiles()) {
            if (values.identifier(p, "profile name") == null) {
                continue;
            }
            if (!profileIds.contains(p.value())) {
                diagnostics.add(
                        Diagnostic.error(
                                p.location(),
                                PolicyChecker.unknown("profile", p.value(), profileIds)));
            } else if (profiles.contains(p.value())) {
                diagnostics.add(
                        Diagnostic.warning(
                                p.location(), "profile '" + p.value() + "' is listed twice"));
            } else {
                profiles.add(p.value());
            }
        }
        if (decl.profiles().isEmpty()) {
            diagnostics.add(
                    Diagnostic.warning(
                            decl.id().location(),
                            where + " has no profiles, so all its traffic is dropped"));
        }

        List<Cidr> ipv4 = endpointNets(decl.ipv4(), IpVersion.V4);
        List<Cidr> ipv6 = endpointNets(decl.ipv6(), IpVersion.V6);
        IpAddress gateway4 = null;
        IpAddress gateway6 = null;
        for (Located<String> g : decl.gateways()) {
            IpAddress gateway = values.address(g, "gateway");
            if (gateway == null) {
                continue;
            }
            if ((gateway.version() == IpVersion.V4 ? gateway4 : gateway6) != null) {
                diagnostics.add(
                        Diagnostic.error(
                                g.location(),
                                where
                                        + " has two "
                                        + gateway.version()
                                        + " gateways; give one per family"));
            } else if (gateway.version() == IpVersion.V4) {
                gateway4 = gateway;
            } else {
                gateway6 = gateway;
            }
        }

        List<Nat> nat4 = new ArrayList<>();
        List<Nat> nat6 = new ArrayList<>();
        for (NatDecl n : decl.nats()) {
            IpAddress out = values.address(n.outIp(), "NAT address");
            IpAddress in = values.address(n.inIp(), "NAT address");
            if (out == null || in == null) {
                continue;
            }
            if (out.version() != in.version()) {
                diagnostics.add(
                        Diagnostic.error(
                                n.outIp().location(),
                                "NAT maps "
                                        + out.version()
                                        + " address "
                                        + out
                                        + " to "
                                        + in.version()
                                        + " address "
                                        + in
                                        + "; both sides must be of one family"));
                continue;
            }
            List<Cidr> own = in.version() == IpVersion.V4 ? ipv4 : ipv6;
            if (!own.contains(in.toCidr())) {
                diagnostics.add(
                        Diagnostic.error(
                                n.inIp().location(),
                                "NAT inner address "
                                        + in
                                        + " is not one of "
                                        + where
                                        + "'s "
                                        + in.version()
                                        + " nets"
                                        + (own.isEmpty() ? "" : " (" + join(own) + ")")));
                continue;
            }
            (in.version() == IpVersion.V4 ? nat4 : nat6).add(new Nat(out, in));
        }

        if (errorCount() > errorsBefore) {
            return null;
        }
        return new Endpoint(
                new EndpointKey(host, orchestrator, workload, id),
                state,
                interfaceName,
                mac,
                profiles,
                nat4,
                ipv4,
                nat6,
                ipv6,
                gateway4,
                gateway6,
                decl.id().location());
    }

    private List<Cidr> endpointNets(List<Located<String>> texts, IpVersion version) {
        List<Cidr> nets = new ArrayList<>();
        for (Located<String> text : texts) {
            Cidr cidr = values.cidr(text);
            if (cidr == null) {
                continue;
            }
            if (cidr.version() != version) {
                diagnostics.add(
                        Diagnostic.error(
                                text.location(),
                                "'ipv"
                                        + version.number()
                                        + "' needs an "
                                        + version
                                        + " address, found "
                                        + cidr.version()
                                        + " "
                                        + cidr));
            } else if (!cidr.isSingleAddress()) {
                diagnostics.add(
                        Diagnostic.error(
                                text.location(),
                                "endpoint nets must be single addresses (/"
                                        + version.bits()
                                        + "), found "
                                        + cidr));
            } else if (nets.contains(cidr)) {
                diagnostics.add(
                        Diagnostic.warning(
                                text.location(), "address " + cidr + " is listed twice"));
            } else {
                nets.add(cidr);
            }
        }
        return nets;
    }

    private void missing(EndpointDecl decl, String message) {
        diagnostics.add(Diagnostic.error(decl.id().location(), message));
    }

    private int errorCount() {
        return diagnostics.errorCount();
    }

    private static String join(List<Cidr> cidrs) {
        return String.join(", ", cidrs.stream().map(Cidr::toString).toList());
    }
}
