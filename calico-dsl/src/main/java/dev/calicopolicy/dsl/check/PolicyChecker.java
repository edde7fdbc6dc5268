package dev.calicopolicy.dsl.check;

import dev.calicopolicy.dsl.Diagnostic;
import dev.calicopolicy.dsl.model.Cidr;
import dev.calicopolicy.dsl.model.Endpoint;
import dev.calicopolicy.dsl.model.EndpointKey;
import dev.calicopolicy.dsl.model.EndpointState;
import dev.calicopolicy.dsl.model.IpAddress;
import dev.calicopolicy.dsl.model.IpVersion;
import dev.calicopolicy.dsl.model.Nat;
import dev.calicopolicy.dsl.model.Policy;
import dev.calicopolicy.dsl.model.PortRange;
import dev.calicopolicy.dsl.model.Profile;
import dev.calicopolicy.dsl.model.Rule;
import dev.calicopolicy.dsl.syntax.Located;
import dev.calicopolicy.dsl.syntax.SourceModel.EndpointDecl;
import dev.calicopolicy.dsl.syntax.SourceModel.NatDecl;
import dev.calicopolicy.dsl.syntax.SourceModel.NetDecl;
import dev.calicopolicy.dsl.syntax.SourceModel.PortsDecl;
import dev.calicopolicy.dsl.syntax.SourceModel.ProfileDecl;
import dev.calicopolicy.dsl.syntax.SourceModel.SourceFile;
import dev.calicopolicy.dsl.syntax.Suggestions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Resolves the source model of a whole compilation unit into the policy model and checks it,
 * collecting every problem as a diagnostic. Declarations are visited in source order (file, then
 * position), so the result and the messages do not depend on the order files were given in.
 */
public final class PolicyChecker {
    /** The checked policy (absent when there are errors) and every diagnostic, sorted. */
    public record Result(Optional<Policy> policy, List<Diagnostic> diagnostics) {
        public boolean hasErrors() {
            return diagnostics.stream().anyMatch(Diagnostic::isError);
        }
    }

    private final DiagnosticSink diagnostics = new DiagnosticSink();
    private final ValueParser values = new ValueParser(diagnostics);

    private PolicyChecker() {}

    public static Result check(List<SourceFile> files) {
        return new PolicyChecker().run(files);
    }

    private Result run(List<SourceFile> files) {
        List<SourceFile> ordered = new ArrayList<>(files);
        ordered.sort(Comparator.comparing(SourceFile::displayPath));

        Map<String, NetDecl> netDecls = unique(ordered, SourceFile::nets, NetDecl::name, "net");
        Map<String, PortsDecl> portDecls =
                unique(ordered, SourceFile::portSets, PortsDecl::name, "port set");
        Map<String, ProfileDecl> profileDecls =
                unique(ordered, SourceFile::profiles, ProfileDecl::name, "profile");

        Map<String, List<Cidr>> nets = new TreeMap<>();
        netDecls.forEach((name, decl) -> nets.put(name, resolveNet(decl)));
        Map<String, List<PortRange>> portSets = new TreeMap<>();
        portDecls.forEach((name, decl) -> portSets.put(name, resolvePorts(decl)));

        Set<String> givenTags = new LinkedHashSet<>();
        for (ProfileDecl p : profileDecls.values()) {
            p.tags().forEach(t -> givenTags.add(t.value()));
        }
        RuleResolver rules = new RuleResolver(diagnostics, values, nets, portSets, givenTags);
        List<Profile> profiles = new ArrayList<>();
        for (ProfileDecl decl : profileDecls.values()) {
            profiles.add(resolveProfile(decl, rules));
        }

        List<EndpointDecl> endpointDecls = new ArrayList<>();
        ordered.forEach(f -> endpointDecls.addAll(f.endpoints()));
        endpointDecls.sort(Comparator.comparing(e -> e.id().location()));
        List<Endpoint> endpoints = resolveEndpoints(endpointDecls, profileDecls.keySet());

        List<Diagnostic> sorted = new ArrayList<>(diagnostics.all());
        Collections.sort(sorted);
        boolean errors = sorted.stream().anyMatch(Diagnostic::isError);
        Optional<Policy> policy =
                errors ? Optional.empty() : Optional.of(new Policy(profiles, endpoints));
        return new Result(policy, List.copyOf(sorted));
    }

    /**
     * Collects the declarations of one kind by name, in source order, reporting each second
     * definition of a name with the place of the first.
     */
    private <D> Map<String, D> unique(
            List<SourceFile> files,
            Function<SourceFile, List<D>> declarations,
            Function<D, Located<String>> nameOf,
            String kind) {
        List<D> all = new ArrayList<>();
        files.forEach(f -> all.addAll(declarations.apply(f)));
        all.sort(Comparator.comparing(d -> nameOf.apply(d).location()));
        Map<String, D> byName = new TreeMap<>();
        for (D decl : all) {
            Located<String> name = nameOf.apply(decl);
            if (values.identifier(name, kind + " name") == null) {
                continue;
            }
            D first = byName.get(name.value());
            if (first != null) {
                diagnostics.add(
                        Diagnostic.error(
                                name.location(),
                                kind
                                        + " '"
                                        + name.value()
                                        + "' is defined twice (first at "
                                        + nameOf.apply(first).location()
                                        + ")"));
            } else {
                byName.put(name.value(), decl);
            }
        }
        return byName;
    }

    private List<Cidr> resolveNet(NetDecl decl) {
        List<Cidr> cidrs = new ArrayList<>();
        for (Located<String> value : decl.values()) {
            if (!ValueParser.looksLikeAddress(value.value())) {
                diagnostics.add(
                        Diagnostic.error(
                                value.location(),
                                "expected a CIDR in net '"
                                        + decl.name().value()
                                        + "' but found '"
                                        + value.value()
                                        + "'; a named net lists CIDRs, not other names"));
                continue;
            }
            Cidr cidr = values.cidr(value);
            if (cidr != null) {
                cidrs.add(cidr);
            }
        }
        return List.copyOf(cidrs);
    }

    private List<PortRange> resolvePorts(PortsDecl decl) {
        List<PortRange> ports = new ArrayList<>();
        for (Located<String> value : decl.values()) {
            if (!ValueParser.looksLikePort(value.value())) {
                diagnostics.add(
                        Diagnostic.error(
                                value.location(),
                                "expected a port or range N:M in port set '"
                                        + decl.name().value()
                                        + "' but found '"
                                        + value.value()
                                        + "'"));
                continue;
            }
            PortRange range = values.portRange(value);
            if (range != null) {
                ports.add(range);
            }
        }
        return List.copyOf(ports);
    }

    private Profile resolveProfile(ProfileDecl decl, RuleResolver rules) {
        List<String> tags = new ArrayList<>();
        for (Located<String> tag : decl.tags()) {
            if (values.identifier(tag, "tag") == null) {
                continue;
            }
            if (tags.contains(tag.value())) {
                diagnostics.add(
                        Diagnostic.warning(
                                tag.location(),
                                "tag '"
                                        + tag.value()
                                        + "' is listed twice in profile '"
                                        + decl.name().value()
                                        + "'"));
            } else {
                tags.add(tag.value());
            }
        }
        List<Rule> inbound = new ArrayList<>();
        decl.inbound().forEach(r -> inbound.addAll(rules.resolve(r)));
        List<Rule> outbound = new ArrayList<>();
        decl.outbound().forEach(r -> outbound.addAll(rules.resolve(r)));
        return new Profile(decl.name().value(), tags, inbound, outbound, decl.name().location());
    }

    private List<Endpoint> resolveEndpoints(List<EndpointDecl> decls, Set<String> profileIds) {
        List<Endpoint> endpoints = new ArrayList<>();
        List<EndpointDecl> accepted = new ArrayList<>();
        Map<String, Located<String>> keys = new HashMap<>();
        Map<String, Located<String>> interfaces = new HashMap<>();
        Map<String, Located<String>> addresses = new HashMap<>();
        Map<String, Located<String>> natAddresses = new HashMap<>();
        for (EndpointDecl decl : decls) {
            Endpoint e = resolveEndpoint(decl, profileIds);
            if (e == null) {
                continue;
            }
            String key = e.key().path();
            if (claim(keys, key, decl.id(), "endpoint " + e.key() + " is defined twice")) {
                continue;
            }
            claim(
                    interfaces,
                    e.host() + "/" + e.interfaceName(),
                    decl.interfaceName(),
                    "interface '"
                            + e.interfaceName()
                            + "' is used by two endpoints on host '"
                            + e.host()
                            + "'");
            List<Located<String>> nets = new ArrayList<>(decl.ipv4());
            nets.addAll(decl.ipv6());
            List<Cidr> cidrs = e.allNets().toList();
            for (int i = 0; i < cidrs.size() && i < nets.size(); i++) {
                claim(
                        addresses,
                        cidrs.get(i).toString(),
                        nets.get(i),
                        "address " + cidrs.get(i) + " is claimed by two endpoints");
            }
            List<Nat> nats = concat(e.ipv4Nat(), e.ipv6Nat());
            for (int i = 0; i < nats.size() && i < decl.nats().size(); i++) {
                claim(
                        natAddresses,
                        nats.get(i).outIp().text(),
                        decl.nats().get(i).outIp(),
                        "NAT address " + nats.get(i).outIp() + " is mapped by two endpoints");
            }
            endpoints.add(e);
            accepted.add(decl);
        }
        for (int i = 0; i < endpoints.size(); i++) {
            List<Nat> nats = concat(endpoints.get(i).ipv4Nat(), endpoints.get(i).ipv6Nat());
            List<NatDecl> natDecls = accepted.get(i).nats();
            for (int j = 0; j < nats.size() && j < natDecls.size(); j++) {
                Located<String> other = addresses.get(nats.get(j).outIp().toCidr().toString());
                if (other != null) {
                    diagnostics.add(
                            Diagnostic.error(
                                    natDecls.get(j).outIp().location(),
                                    "NAT address "
                                            + nats.get(j).outIp()
                                            + " is also an endpoint address (at "
                                            + other.location()
                                            + ")"));
                }
            }
        }
        return endpoints;
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** Records that {@code at} claims {@code key}; reports and returns true if it was taken. */
    private boolean claim(
            Map<String, Located<String>> claims, String key, Located<String> at, String message) {
        Located<String> first = claims.putIfAbsent(key, at);
        if (first != null) {
            diagnostics.add(
                    Diagnostic.error(
                            at.location(), message + " (first at " + first.location() + ")"));
            return true;
        }
        return false;
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
                        Diagnostic.error(p.location(), unknown("profile", p.value(), profileIds)));
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

    static String unknown(String kind, String name, Set<String> known) {
        String suggestion = Suggestions.closest(name, known);
        return "unknown "
                + kind
                + " '"
                + name
                + "'"
                + (suggestion == null ? "" : " (did you mean '" + suggestion + "'?)");
    }

    private static String join(List<Cidr> cidrs) {
        return String.join(", ", cidrs.stream().map(Cidr::toString).toList());
    }
}
