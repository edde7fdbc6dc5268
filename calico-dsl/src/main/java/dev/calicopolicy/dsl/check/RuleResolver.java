package dev.calicopolicy.dsl.check;

import dev.calicopolicy.dsl.model.Cidr;
import dev.calicopolicy.dsl.model.IpVersion;
import dev.calicopolicy.dsl.model.PortRange;
import dev.calicopolicy.dsl.model.Protocol;
import dev.calicopolicy.dsl.model.Rule;
import dev.calicopolicy.dsl.syntax.Located;
import dev.calicopolicy.dsl.syntax.SourceModel.MatchClause;
import dev.calicopolicy.dsl.syntax.SourceModel.RuleDecl;
import dev.calicopolicy.dsl.syntax.Suggestions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Resolves one source rule into data-model rules: names of nets and port sets are replaced by their
 * values, and a rule that lists several tags or nets on a side expands, in order, into one rule for
 * each combination. Combinations that would mix IPv4 and IPv6 (or put icmp with IPv6, icmpv6 with
 * IPv4) are left out; a rule left with none is an error.
 */
final class RuleResolver {
    private static final List<String> PROTOCOL_NAMES =
            List.of("tcp", "udp", "icmp", "icmpv6", "sctp", "udplite");

    private final DiagnosticSink diagnostics;
    private final ValueParser values;
    private final Map<String, List<Cidr>> nets;
    private final Map<String, List<PortRange>> portSets;
    private final Set<String> givenTags;

    RuleResolver(
            DiagnosticSink diagnostics,
            ValueParser values,
            Map<String, List<Cidr>> nets,
            Map<String, List<PortRange>> portSets,
            Set<String> givenTags) {
        this.diagnostics = diagnostics;
        this.values = values;
        this.nets = nets;
        this.portSets = portSets;
        this.givenTags = givenTags;
    }

    /** A resolved net with where it was written, for messages. */
    private record NetChoice(Cidr cidr, Located<String> source) {}

    /** The match of one side for one expanded rule: a tag, a net, both or neither. */
    private record Side(String tag, NetChoice net) {}

    List<Rule> resolve(RuleDecl decl) {
        int errorsBefore = errorCount();

        Protocol protocol = null;
        if (decl.protocol() != null) {
            protocol = Protocol.parse(decl.protocol().value()).orElse(null);
            if (protocol == null) {
                error(decl.protocol(), unknownProtocol(decl.protocol().value()));
            }
        }
        List<PortRange> srcPorts = ports(decl.from(), protocol, decl, "from");
        List<PortRange> dstPorts = ports(decl.to(), protocol, decl, "to");
        Integer icmpType = null;
        Integer icmpCode = null;
        if (decl.icmpType() != null) {
            if (protocol != null && !protocol.isIcmp()) {
                error(
                        decl.icmpType(),
                        "'type' needs protocol icmp or icmpv6, but the rule's protocol is "
                                + protocol);
            } else if (protocol == null && decl.protocol() == null) {
                error(
                        decl.icmpType(),
                        "'type' needs protocol icmp or icmpv6; give one after the action");
            }
            icmpType = values.number(decl.icmpType(), "ICMP type", 0, 254);
        }
        if (decl.icmpCode() != null) {
            icmpCode = values.number(decl.icmpCode(), "ICMP code", 0, 254);
        }

        List<Side> sources = sides(decl.from());
        List<Side> destinations = sides(decl.to());
        if (errorCount() > errorsBefore) {
            return List.of();
        }

        List<Rule> rules = new ArrayList<>();
        String firstConflict = null;
        for (Side src : sources) {
            for (Side dst : destinations) {
                String conflict = conflict(protocol, src.net(), dst.net());
                if (conflict != null) {
                    firstConflict = firstConflict == null ? conflict : firstConflict;
                    continue;
                }
                rules.add(
                        new Rule(
                                decl.action(),
                                protocol,
                                src.tag(),
                                src.net() == null ? null : src.net().cidr(),
                                srcPorts,
                                dst.tag(),
                                dst.net() == null ? null : dst.net().cidr(),
                                dstPorts,
                                icmpType,
                                icmpCode,
                                decl.location()));
            }
        }
        if (rules.isEmpty()) {
            diagnostics.error(decl.location(), firstConflict);
        }
        return rules;
    }

    private static String conflict(Protocol protocol, NetChoice src, NetChoice dst) {
        if (src != null && dst != null && src.cidr().version() != dst.cidr().version()) {
            return "rule mixes IPv4 and IPv6: source net "
                    + src.cidr()
                    + " is "
                    + src.cidr().version()
                    + " but destination net "
                    + dst.cidr()
                    + " is "
                    + dst.cidr().version();
        }
        for (NetChoice net : Arrays.asList(src, dst)) {
            if (net == null || protocol == null) {
                continue;
            }
            if (protocol.number() == 1 && net.cidr().version() == IpVersion.V6) {
                return "protocol icmp is IPv4 only, but net "
                        + net.cidr()
                        + " is IPv6 (use icmpv6)";
            }
            if (protocol.number() == 58 && net.cidr().version() == IpVersion.V4) {
                return "protocol icmpv6 is IPv6 only, but net "
                        + net.cidr()
                        + " is IPv4 (use icmp)";
            }
        }
        return null;
    }

    /** Every combination of the side's tags and nets (each list, when empty, is "any"). */
    private List<Side> sides(MatchClause clause) {
        List<String> tags = new ArrayList<>();
        for (Located<String> tag : clause.tags()) {
            if (values.identifier(tag, "tag") == null) {
                continue;
            }
            if (!givenTags.contains(tag.value())) {
                String suggestion = Suggestions.closest(tag.value(), givenTags);
                diagnostics.warning(
                        tag.location(),
                        "tag '"
                                + tag.value()
                                + "' is given by no profile, so it matches nothing"
                                + (suggestion == null
                                        ? ""
                                        : " (did you mean '" + suggestion + "'?)"));
            }
            tags.add(tag.value());
        }
        List<NetChoice> netChoices = new ArrayList<>();
        for (Located<String> net : clause.nets()) {
            netChoices.addAll(netValues(net));
        }

        List<String> tagOptions = tags.isEmpty() ? Collections.singletonList(null) : tags;
        List<NetChoice> netOptions =
                netChoices.isEmpty() ? Collections.singletonList(null) : netChoices;
        List<Side> sides = new ArrayList<>();
        for (String tag : tagOptions) {
            for (NetChoice net : netOptions) {
                sides.add(new Side(tag, net));
            }
        }
        return sides;
    }

    private List<NetChoice> netValues(Located<String> net) {
        if (ValueParser.looksLikeAddress(net.value())) {
            Cidr cidr = values.cidr(net);
            return cidr == null ? List.of() : List.of(new NetChoice(cidr, net));
        }
        List<Cidr> named = nets.get(net.value());
        if (named == null) {
            error(net, PolicyChecker.unknown("net", net.value(), nets.keySet()));
            return List.of();
        }
        return named.stream().map(c -> new NetChoice(c, net)).toList();
    }

    private List<PortRange> ports(
            MatchClause clause, Protocol protocol, RuleDecl decl, String side) {
        if (clause.ports().isEmpty()) {
            return List.of();
        }
        if (protocol == null || !protocol.hasPorts()) {
            if (decl.protocol() == null || protocol != null) {
                error(
                        clause.ports().get(0),
                        "ports need protocol tcp, udp, sctp or udplite"
                                + (protocol == null
                                        ? "; give one after the action"
                                        : ", but the rule's protocol is " + protocol));
            }
        }
        List<PortRange> ports = new ArrayList<>();
        for (Located<String> value : clause.ports()) {
            if (ValueParser.looksLikePort(value.value())) {
                PortRange range = values.portRange(value);
                if (range != null) {
                    ports.add(range);
                }
                continue;
            }
            List<PortRange> named = portSets.get(value.value());
            if (named == null) {
                error(value, PolicyChecker.unknown("port set", value.value(), portSets.keySet()));
            } else {
                ports.addAll(named);
            }
        }
        return List.copyOf(ports);
    }

    private static String unknownProtocol(String text) {
        String suggestion = Suggestions.closest(text, PROTOCOL_NAMES);
        return "unknown protocol '"
                + text
                + "' (expected "
                + Protocol.namesForMessages()
                + ")"
                + (suggestion == null ? "" : "; did you mean '" + suggestion + "'?");
    }

    private void error(Located<?> at, String message) {
        diagnostics.error(at.location(), message);
    }

    private int errorCount() {
        return diagnostics.errorCount();
    }
}
