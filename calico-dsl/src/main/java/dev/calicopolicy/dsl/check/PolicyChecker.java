package dev.calicopolicy.dsl.check;

import dev.calicopolicy.dsl.Diagnostic;
import dev.calicopolicy.dsl.model.Cidr;
import dev.calicopolicy.dsl.model.Endpoint;
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
        // Each endpoint is checked on its own, on all cores; what endpoints claim together
        // (keys, interfaces, addresses) is checked after, in source order.
        List<EndpointResolver.Result> resolved =
                decls.parallelStream().map(d -> EndpointResolver.resolve(d, profileIds)).toList();
        for (int i = 0; i < decls.size(); i++) {
            EndpointDecl decl = decls.get(i);
            resolved.get(i).diagnostics().forEach(diagnostics::add);
            Endpoint e = resolved.get(i).endpoint();
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
            for (int j = 0; j < cidrs.size() && j < nets.size(); j++) {
                claim(
                        addresses,
                        cidrs.get(j).toString(),
                        nets.get(j),
                        "address " + cidrs.get(j) + " is claimed by two endpoints");
            }
            List<Nat> nats = concat(e.ipv4Nat(), e.ipv6Nat());
            for (int j = 0; j < nats.size() && j < decl.nats().size(); j++) {
                claim(
                        natAddresses,
                        nats.get(j).outIp().text(),
                        decl.nats().get(j).outIp(),
                        "NAT address " + nats.get(j).outIp() + " is mapped by two endpoints");
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

    static String unknown(String kind, String name, Set<String> known) {
        String suggestion = Suggestions.closest(name, known);
        return "unknown "
                + kind
                + " '"
                + name
                + "'"
                + (suggestion == null ? "" : " (did you mean '" + suggestion + "'?)");
    }
}
