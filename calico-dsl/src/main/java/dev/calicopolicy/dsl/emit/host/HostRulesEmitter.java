package dev.calicopolicy.dsl.emit.host;

import dev.calicopolicy.dsl.CompileOptions;
import dev.calicopolicy.dsl.CompileOptions.WorkloadToHost;
import dev.calicopolicy.dsl.model.Action;
import dev.calicopolicy.dsl.model.Cidr;
import dev.calicopolicy.dsl.model.Direction;
import dev.calicopolicy.dsl.model.Endpoint;
import dev.calicopolicy.dsl.model.IpVersion;
import dev.calicopolicy.dsl.model.Nat;
import dev.calicopolicy.dsl.model.Policy;
import dev.calicopolicy.dsl.model.PortRange;
import dev.calicopolicy.dsl.model.Profile;
import dev.calicopolicy.dsl.model.Protocol;
import dev.calicopolicy.dsl.model.Rule;
import dev.calicopolicy.dsl.model.SourceLocation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Renders each host's part of a policy as the rules its kernel enforces, modelled on how Calico's
 * agent Felix rendered the v1 data model:
 *
 * <ul>
 *   <li>{@code cali-FORWARD} drops conntrack-invalid packets and accepts established ones, sends a
 *       packet from an endpoint's interface through the endpoint's from-chain (its outbound policy)
 *       and one to an endpoint's interface through its to-chain (inbound policy), and accepts what
 *       they let pass;
 *   <li>a from-chain drops packets whose source MAC or address is not the endpoint's, then runs the
 *       outbound chain of each profile in order; a to-chain runs the inbound chains. A profile
 *       chain's {@code allow} sets the accept mark and returns, {@code deny} drops, and a packet no
 *       rule matches falls through to the next profile; after the last, it is dropped. An inactive
 *       endpoint's chains drop everything;
 *   <li>{@code cali-INPUT} takes traffic from endpoints to the host: DHCP and IPv6 router and
 *       neighbour discovery are accepted, the rest dropped, or, when the compile options say so,
 *       accepted once it has passed the endpoint's outbound policy;
 *   <li>the nat table maps each NAT address to the endpoint's own (DNAT in {@code cali-PREROUTING}
 *       and {@code cali-OUTPUT}) and rewrites the source of an endpoint that connects to its own
 *       NAT address ({@code cali-POSTROUTING}).
 * </ul>
 *
 * Tags become ipsets of the nets of every endpoint in the policy that has them, so the number of
 * rules grows with rules, never with members. The files declare only prefixed chains and no jumps
 * from built-in chains: {@code calico-agent apply} installs those. Every rule carries a comment
 * that names its source. The output depends only on the policy and the options.
 */
public final class HostRulesEmitter {
    /** The mark bit a profile chain sets when one of its rules allows a packet. */
    static final String ACCEPT_MARK = "0x1000000";

    private static final String MARK_ACCEPT =
            "-j MARK --set-xmark " + ACCEPT_MARK + "/" + ACCEPT_MARK;
    private static final String CLEAR_MARK = "-j MARK --set-xmark 0x0/" + ACCEPT_MARK;
    private static final String IF_MARKED = "-m mark --mark " + ACCEPT_MARK + "/" + ACCEPT_MARK;
    private static final int MULTIPORT_LIMIT = 15;

    private final Policy policy;
    private final CompileOptions options;
    private final KernelNames names;

    private HostRulesEmitter(Policy policy, CompileOptions options) {
        this.policy = policy;
        this.options = options;
        this.names = new KernelNames(options.chainPrefix());
    }

    /** The rules of every host of the policy, by host name. */
    public static SortedMap<String, HostRules> emit(Policy policy, CompileOptions options) {
        Objects.requireNonNull(policy, "policy should not be null");
        Objects.requireNonNull(options, "options should not be null");
        HostRulesEmitter emitter = new HostRulesEmitter(policy, options);
        SortedMap<String, HostRules> hosts = new TreeMap<>();
        for (String host : policy.hosts()) {
            hosts.put(host, emitter.host(host));
        }
        return Collections.unmodifiableSortedMap(hosts);
    }

    /** The rules of one host (empty chains when the policy has no endpoint on it). */
    public static HostRules emit(Policy policy, CompileOptions options, String host) {
        Objects.requireNonNull(policy, "policy should not be null");
        Objects.requireNonNull(options, "options should not be null");
        Objects.requireNonNull(host, "host should not be null");
        return new HostRulesEmitter(policy, options).host(host);
    }

    private HostRules host(String host) {
        List<Endpoint> endpoints = policy.endpointsOn(host);
        Family v4 = new Family(IpVersion.V4, endpoints);
        Family v6 = new Family(IpVersion.V6, endpoints);
        SortedMap<String, SortedSet<Cidr>> sets = new TreeMap<>();
        sets.putAll(v4.sets);
        sets.putAll(v6.sets);
        return new HostRules(
                ipsetFile(host, sets), v4.file(host, "iptables"), v6.file(host, "ip6tables"));
    }

    private String ipsetFile(String host, SortedMap<String, SortedSet<Cidr>> sets) {
        StringBuilder text = new StringBuilder();
        text.append("# calicoc: tag sets of host ")
                .append(host)
                .append(", input for ipset restore\n");
        for (Map.Entry<String, SortedSet<Cidr>> set : sets.entrySet()) {
            SortedSet<Cidr> members = set.getValue();
            boolean v6 = set.getKey().startsWith(names.prefix() + "v6-");
            text.append("create ")
                    .append(set.getKey())
                    .append(" hash:net family ")
                    .append(v6 ? "inet6" : "inet")
                    .append(" maxelem ")
                    .append(maxElements(members.size()))
                    .append('\n');
            for (Cidr member : members) {
                text.append("add ").append(set.getKey()).append(' ');
                text.append(member.isSingleAddress() ? member.address() : member.toString());
                text.append('\n');
            }
        }
        return text.toString();
    }

    /** ipset's default limit, or the next power of two that holds every member. */
    private static int maxElements(int members) {
        int max = 65536;
        while (max < members) {
            max *= 2;
        }
        return max;
    }

    /** The chains of one IP family and the sets they use. */
    private final class Family {
        private final IpVersion version;
        private final SortedMap<String, List<String>> filter = new TreeMap<>();
        private final SortedMap<String, List<String>> nat = new TreeMap<>();
        private final SortedMap<String, SortedSet<Cidr>> sets = new TreeMap<>();

        Family(IpVersion version, List<Endpoint> endpoints) {
            this.version = version;
            for (String builtIn : List.of("FORWARD", "INPUT")) {
                filter.put(names.hookChain(builtIn), new ArrayList<>());
            }
            for (String builtIn : List.of("OUTPUT", "POSTROUTING", "PREROUTING")) {
                nat.put(names.hookChain(builtIn), new ArrayList<>());
            }
            forwardChain(endpoints);
            inputChain(endpoints);
            Set<String> profiles = new LinkedHashSet<>();
            for (Endpoint e : endpoints) {
                fromEndpointChain(e);
                toEndpointChain(e);
                if (e.isActive()) {
                    profiles.addAll(e.profileIds());
                }
            }
            for (String id : profiles) {
                Profile profile = policy.profile(id);
                for (Direction direction : Direction.values()) {
                    profileChain(profile, direction);
                }
            }
            natChains(endpoints);
        }

        private List<String> chain(SortedMap<String, List<String>> table, String name) {
            List<String> rules = table.get(name);
            if (rules == null) {
                rules = new ArrayList<>();
                table.put(name, rules);
            }
            return rules;
        }

        private void add(String chain, RuleSpec rule, String target) {
            chain(filter, chain).add(rule.append(chain, target));
        }

        private void forwardChain(List<Endpoint> endpoints) {
            String forward = names.hookChain("FORWARD");
            add(
                    forward,
                    new RuleSpec()
                            .comment("drop packets conntrack cannot place")
                            .match("-m conntrack --ctstate INVALID"),
                    "-j DROP");
            add(
                    forward,
                    new RuleSpec()
                            .comment("accept packets of established connections")
                            .match("-m conntrack --ctstate RELATED,ESTABLISHED"),
                    "-j ACCEPT");
            for (Endpoint e : endpoints) {
                add(
                        forward,
                        new RuleSpec().in(e.interfaceName()).comment(about(e, "outbound policy")),
                        "-j " + names.fromEndpointChain(e.interfaceName()));
            }
            for (Endpoint e : endpoints) {
                add(
                        forward,
                        new RuleSpec().out(e.interfaceName()).comment(about(e, "inbound policy")),
                        "-j " + names.toEndpointChain(e.interfaceName()));
            }
            for (Endpoint e : endpoints) {
                add(
                        forward,
                        new RuleSpec().in(e.interfaceName()).comment(about(e, "passed policy")),
                        "-j ACCEPT");
            }
            for (Endpoint e : endpoints) {
                add(
                        forward,
                        new RuleSpec().out(e.interfaceName()).comment(about(e, "passed policy")),
                        "-j ACCEPT");
            }
        }

        private void inputChain(List<Endpoint> endpoints) {
            String input = names.hookChain("INPUT");
            String toHost = names.endpointToHostChain();
            boolean accept = options.workloadToHost() == WorkloadToHost.ACCEPT;
            for (Endpoint e : endpoints) {
                add(
                        input,
                        new RuleSpec().in(e.interfaceName()).comment(about(e, "to this host")),
                        "-j " + toHost);
            }
            if (accept) {
                for (Endpoint e : endpoints) {
                    add(
                            input,
                            new RuleSpec()
                                    .in(e.interfaceName())
                                    .comment(about(e, "outbound policy to this host")),
                            "-j " + names.fromEndpointChain(e.interfaceName()));
                }
                for (Endpoint e : endpoints) {
                    add(
                            input,
                            new RuleSpec()
                                    .in(e.interfaceName())
                                    .comment(about(e, "passed policy to this host")),
                            "-j ACCEPT");
                }
            }

            chain(filter, toHost);
            add(
                    toHost,
                    new RuleSpec()
                            .comment("drop packets conntrack cannot place")
                            .match("-m conntrack --ctstate INVALID"),
                    "-j DROP");
            add(
                    toHost,
                    new RuleSpec()
                            .comment("accept packets of established connections")
                            .match("-m conntrack --ctstate RELATED,ESTABLISHED"),
                    "-j ACCEPT");
            if (version == IpVersion.V4) {
                add(
                        toHost,
                        new RuleSpec()
                                .protocol("udp")
                                .comment("accept DHCP requests")
                                .match("-m udp --sport 68 --dport 67"),
                        "-j ACCEPT");
            } else {
                String[][] discovery = {
                    {"133", "router solicitation"},
                    {"135", "neighbour solicitation"},
                    {"136", "neighbour advertisement"}
                };
                for (String[] type : discovery) {
                    add(
                            toHost,
                            new RuleSpec()
                                    .protocol("ipv6-icmp")
                                    .comment("accept " + type[1])
                                    .match("-m icmp6 --icmpv6-type " + type[0]),
                            "-j ACCEPT");
                }
                add(
                        toHost,
                        new RuleSpec()
                                .protocol("udp")
                                .comment("accept DHCPv6 requests")
                                .match("-m udp --sport 546 --dport 547"),
                        "-j ACCEPT");
            }
            if (!accept) {
                add(
                        toHost,
                        new RuleSpec().comment("drop other traffic from endpoints to this host"),
                        "-j DROP");
            }
        }

        private void fromEndpointChain(Endpoint e) {
            String chain = names.fromEndpointChain(e.interfaceName());
            chain(filter, chain);
            if (!e.isActive()) {
                add(chain, new RuleSpec().comment(about(e, "is inactive")), "-j DROP");
                return;
            }
            add(
                    chain,
                    new RuleSpec()
                            .comment(about(e, "source MAC is not " + e.mac()))
                            .match("-m mac ! --mac-source " + e.mac()),
                    "-j DROP");
            List<Cidr> nets = e.nets(version);
            String spoofed = about(e, "spoofed source address");
            if (nets.isEmpty()) {
                add(
                        chain,
                        new RuleSpec().comment(about(e, "has no " + version + " address")),
                        "-j DROP");
                return;
            } else if (nets.size() == 1) {
                add(
                        chain,
                        new RuleSpec().notSource(nets.get(0).toString()).comment(spoofed),
                        "-j DROP");
            } else {
                add(chain, new RuleSpec().comment(spoofed), CLEAR_MARK);
                for (Cidr net : nets) {
                    add(chain, new RuleSpec().source(net.toString()).comment(spoofed), MARK_ACCEPT);
                }
                add(
                        chain,
                        new RuleSpec().comment(spoofed).match("-m mark --mark 0x0/" + ACCEPT_MARK),
                        "-j DROP");
            }
            profileJumps(e, chain, Direction.OUTBOUND);
        }

        private void toEndpointChain(Endpoint e) {
            String chain = names.toEndpointChain(e.interfaceName());
            chain(filter, chain);
            if (!e.isActive()) {
                add(chain, new RuleSpec().comment(about(e, "is inactive")), "-j DROP");
                return;
            }
            profileJumps(e, chain, Direction.INBOUND);
        }

        /** Runs the profiles' chains in order: return once one allows, drop after the last. */
        private void profileJumps(Endpoint e, String chain, Direction direction) {
            String policyWord = direction.word() + " policy";
            add(chain, new RuleSpec().comment(about(e, policyWord)), CLEAR_MARK);
            for (String id : e.profileIds()) {
                String comment = about(e, direction.word() + " profile " + id);
                add(
                        chain,
                        new RuleSpec().comment(comment),
                        "-j " + names.profileChain(id, direction));
                add(chain, new RuleSpec().comment(comment).match(IF_MARKED), "-j RETURN");
            }
            add(chain, new RuleSpec().comment(about(e, "no profile allowed it")), "-j DROP");
        }

        private void profileChain(Profile profile, Direction direction) {
            String chain = names.profileChain(profile.id(), direction);
            chain(filter, chain);
            List<Rule> rules = profile.rules(direction);
            int last = -1;
            for (int i = 0; i < rules.size(); i++) {
                if (rules.get(i).appliesTo(version)) {
                    last = i;
                }
            }
            for (int i = 0; i < rules.size(); i++) {
                Rule rule = rules.get(i);
                if (!rule.appliesTo(version)) {
                    continue;
                }
                String comment =
                        where(rule.location())
                                + "profile "
                                + profile.id()
                                + " "
                                + direction.word()
                                + " "
                                + (i + 1);
                for (RuleSpec spec : specs(rule, comment)) {
                    add(chain, spec, rule.action() == Action.ALLOW ? MARK_ACCEPT : "-j DROP");
                }
                if (rule.action() == Action.ALLOW && i != last) {
                    add(chain, new RuleSpec().comment(comment).match(IF_MARKED), "-j RETURN");
                }
            }
        }

        /** The iptables rules matching what {@code rule} matches (several when ports split). */
        private List<RuleSpec> specs(Rule rule, String comment) {
            RuleSpec base = new RuleSpec();
            if (rule.srcNet() != null) {
                base.source(rule.srcNet().toString());
            }
            if (rule.dstNet() != null) {
                base.destination(rule.dstNet().toString());
            }
            if (rule.protocol() != null) {
                base.protocol(protocolName(rule.protocol()));
            }
            base.comment(comment);
            if (rule.srcTag() != null) {
                base.match("-m set --match-set " + tagSet(rule.srcTag()) + " src");
            }
            if (rule.dstTag() != null) {
                base.match("-m set --match-set " + tagSet(rule.dstTag()) + " dst");
            }
            if (rule.icmpType() != null) {
                String typeCode =
                        rule.icmpType() + (rule.icmpCode() == null ? "" : "/" + rule.icmpCode());
                base.match(
                        version == IpVersion.V4
                                ? "-m icmp --icmp-type " + typeCode
                                : "-m icmp6 --icmpv6-type " + typeCode);
            }
            List<RuleSpec> specs = new ArrayList<>();
            for (String sports : multiport(rule.srcPorts(), "--sports")) {
                for (String dports : multiport(rule.dstPorts(), "--dports")) {
                    RuleSpec spec = base.copy();
                    if (sports != null) {
                        spec.match(sports);
                    }
                    if (dports != null) {
                        spec.match(dports);
                    }
                    specs.add(spec);
                }
            }
            return specs;
        }

        private String tagSet(String tag) {
            String name = names.tagSet(tag, version);
            if (!sets.containsKey(name)) {
                SortedSet<Cidr> members = new TreeSet<>();
                for (Cidr member : policy.tagMembers(tag)) {
                    if (member.version() == version) {
                        members.add(member);
                    }
                }
                sets.put(name, Collections.unmodifiableSortedSet(members));
            }
            return name;
        }

        private String protocolName(Protocol protocol) {
            if (protocol.number() == 58) {
                return "ipv6-icmp";
            }
            return protocol.isNamed() ? protocol.name() : Integer.toString(protocol.number());
        }

        private void natChains(List<Endpoint> endpoints) {
            for (Endpoint e : endpoints) {
                if (!e.isActive()) {
                    continue;
                }
                for (Nat mapping : e.nat(version)) {
                    String out = mapping.outIp().toCidr().toString();
                    String in = mapping.inIp().toCidr().toString();
                    String comment = about(e, "NAT " + mapping.outIp() + " to " + mapping.inIp());
                    for (String builtIn : List.of("PREROUTING", "OUTPUT")) {
                        String chain = names.hookChain(builtIn);
                        chain(nat, chain)
                                .add(
                                        new RuleSpec()
                                                .destination(out)
                                                .comment(comment)
                                                .append(
                                                        chain,
                                                        "-j DNAT --to-destination "
                                                                + mapping.inIp()));
                    }
                    String postrouting = names.hookChain("POSTROUTING");
                    chain(nat, postrouting)
                            .add(
                                    new RuleSpec()
                                            .source(in)
                                            .destination(in)
                                            .comment(
                                                    about(
                                                            e,
                                                            "connects to its own NAT address "
                                                                    + mapping.outIp()))
                                            .append(
                                                    postrouting,
                                                    "-j SNAT --to-source " + mapping.outIp()));
                }
            }
        }

        String file(String host, String tool) {
            StringBuilder text = new StringBuilder();
            text.append("# calicoc: ")
                    .append(version)
                    .append(" chains of host ")
                    .append(host)
                    .append(", input for ")
                    .append(tool)
                    .append("-restore --noflush\n");
            table(text, "filter", filter);
            table(text, "nat", nat);
            return text.toString();
        }

        private void table(
                StringBuilder text, String table, SortedMap<String, List<String>> chains) {
            text.append('*').append(table).append('\n');
            for (String chain : chains.keySet()) {
                text.append(':').append(chain).append(" - [0:0]\n");
            }
            for (List<String> rules : chains.values()) {
                for (String rule : rules) {
                    text.append(rule).append('\n');
                }
            }
            text.append("COMMIT\n");
        }
    }

    /** Groups of at most 15 ports (a range counts two), each as a multiport match. */
    private static List<String> multiport(List<PortRange> ports, String option) {
        List<String> groups = new ArrayList<>();
        if (ports.isEmpty()) {
            groups.add(null);
            return groups;
        }
        StringBuilder group = new StringBuilder();
        int weight = 0;
        for (PortRange port : ports) {
            if (weight + port.multiportWeight() > MULTIPORT_LIMIT) {
                groups.add("-m multiport " + option + " " + group);
                group.setLength(0);
                weight = 0;
            }
            group.append(group.length() == 0 ? "" : ",").append(port);
            weight += port.multiportWeight();
        }
        groups.add("-m multiport " + option + " " + group);
        return groups;
    }

    /** {@code file:line endpoint workload/endpoint what}. */
    private static String about(Endpoint e, String what) {
        return where(e.location())
                + "endpoint "
                + e.key().workload()
                + "/"
                + e.key().endpoint()
                + " "
                + what;
    }

    /** {@code file:line } for a rule written in a source file, nothing otherwise. */
    private static String where(SourceLocation location) {
        if (location.line() <= 0) {
            return "";
        }
        return location.file() + ":" + location.line() + " ";
    }
}
