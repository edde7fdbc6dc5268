package dev.calicopolicy.dsl.syntax;

import dev.calicopolicy.dsl.Diagnostic;
import dev.calicopolicy.dsl.model.Action;
import dev.calicopolicy.dsl.model.SourceLocation;
import dev.calicopolicy.dsl.syntax.SourceModel.EndpointDecl;
import dev.calicopolicy.dsl.syntax.SourceModel.ImportDecl;
import dev.calicopolicy.dsl.syntax.SourceModel.MatchClause;
import dev.calicopolicy.dsl.syntax.SourceModel.NatDecl;
import dev.calicopolicy.dsl.syntax.SourceModel.NetDecl;
import dev.calicopolicy.dsl.syntax.SourceModel.PortsDecl;
import dev.calicopolicy.dsl.syntax.SourceModel.ProfileDecl;
import dev.calicopolicy.dsl.syntax.SourceModel.RuleDecl;
import dev.calicopolicy.dsl.syntax.SourceModel.SourceFile;
import dev.calicopolicy.dsl.syntax.antlr.CalicoParser;
import java.util.ArrayList;
import java.util.List;
import org.antlr.v4.runtime.ParserRuleContext;
import org.antlr.v4.runtime.Token;

/**
 * Turns the parse tree of one file into its {@link SourceFile}. It checks only what the tree shows
 * (a field given twice, say); values are checked by the policy checker, the same way for {@code
 * .calico} files and YAML inventories.
 */
final class SourceModelBuilder {
    private final String displayPath;
    private final List<Diagnostic> diagnostics = new ArrayList<>();

    SourceModelBuilder(String displayPath) {
        this.displayPath = displayPath;
    }

    List<Diagnostic> diagnostics() {
        return List.copyOf(diagnostics);
    }

    SourceFile build(CalicoParser.PolicyFileContext tree) {
        List<ImportDecl> imports = new ArrayList<>();
        List<NetDecl> nets = new ArrayList<>();
        List<PortsDecl> portSets = new ArrayList<>();
        List<ProfileDecl> profiles = new ArrayList<>();
        List<EndpointDecl> endpoints = new ArrayList<>();
        for (CalicoParser.StatementContext s : tree.statement()) {
            if (s.importDecl() != null) {
                imports.add(new ImportDecl(toImportPath(s.importDecl().STRING().getSymbol())));
            } else if (s.netDecl() != null) {
                nets.add(new NetDecl(toName(s.netDecl().name()), toValues(s.netDecl().values())));
            } else if (s.portsDecl() != null) {
                portSets.add(
                        new PortsDecl(
                                toName(s.portsDecl().name()), toValues(s.portsDecl().values())));
            } else if (s.profileDecl() != null) {
                profiles.add(toProfile(s.profileDecl()));
            } else if (s.hostDecl() != null) {
                addEndpoints(s.hostDecl(), endpoints);
            }
        }
        return new SourceFile(displayPath, imports, nets, portSets, profiles, endpoints);
    }

    private ProfileDecl toProfile(CalicoParser.ProfileDeclContext ctx) {
        List<Located<String>> tags = new ArrayList<>();
        List<RuleDecl> inbound = new ArrayList<>();
        List<RuleDecl> outbound = new ArrayList<>();
        ParserRuleContext seenTags = null;
        ParserRuleContext seenInbound = null;
        ParserRuleContext seenOutbound = null;
        for (CalicoParser.ProfileItemContext item : ctx.profileItem()) {
            if (item.tagsDecl() != null) {
                seenTags = once(seenTags, item.tagsDecl(), "tags");
                tags.addAll(toNames(item.tagsDecl().names()));
            } else if (item.inboundBlock() != null) {
                seenInbound = once(seenInbound, item.inboundBlock(), "inbound");
                item.inboundBlock().policyRule().forEach(r -> inbound.add(toRule(r)));
            } else if (item.outboundBlock() != null) {
                seenOutbound = once(seenOutbound, item.outboundBlock(), "outbound");
                item.outboundBlock().policyRule().forEach(r -> outbound.add(toRule(r)));
            }
        }
        return new ProfileDecl(toName(ctx.name()), tags, inbound, outbound);
    }

    private RuleDecl toRule(CalicoParser.PolicyRuleContext ctx) {
        Action action = ctx.action().ALLOW() != null ? Action.ALLOW : Action.DENY;
        Located<String> protocol = ctx.protocol() == null ? null : located(ctx.protocol().WORD());
        MatchClause from =
                ctx.fromClause() == null
                        ? MatchClause.EMPTY
                        : toMatch(ctx.fromClause().match(), "from");
        MatchClause to =
                ctx.toClause() == null ? MatchClause.EMPTY : toMatch(ctx.toClause().match(), "to");
        Located<String> icmpType = null;
        Located<String> icmpCode = null;
        if (ctx.icmpSpec() != null) {
            icmpType = located(ctx.icmpSpec().value(0).WORD());
            if (ctx.icmpSpec().value().size() > 1) {
                icmpCode = located(ctx.icmpSpec().value(1).WORD());
            }
        }
        return new RuleDecl(
                action, protocol, from, to, icmpType, icmpCode, location(ctx.getStart()));
    }

    private MatchClause toMatch(List<CalicoParser.MatchContext> matches, String side) {
        List<Located<String>> tags = new ArrayList<>();
        List<Located<String>> nets = new ArrayList<>();
        List<Located<String>> ports = new ArrayList<>();
        for (CalicoParser.MatchContext m : matches) {
            if (m.tagMatch() != null) {
                onceIn(tags, m, "tag", side);
                tags.addAll(toNames(m.tagMatch().names()));
            } else if (m.netMatch() != null) {
                onceIn(nets, m, "net", side);
                nets.addAll(toValues(m.netMatch().values()));
            } else if (m.portMatch() != null) {
                onceIn(ports, m, "port", side);
                ports.addAll(toValues(m.portMatch().values()));
            }
        }
        return new MatchClause(tags, nets, ports);
    }

    private void onceIn(List<?> already, ParserRuleContext ctx, String what, String side) {
        if (!already.isEmpty()) {
            error(
                    ctx.getStart(),
                    "'"
                            + what
                            + "' given twice after '"
                            + side
                            + "'; list the values after one '"
                            + what
                            + "', separated by commas");
        }
    }

    private void addEndpoints(CalicoParser.HostDeclContext host, List<EndpointDecl> out) {
        Located<String> hostName = toName(host.name());
        for (CalicoParser.WorkloadDeclContext w : host.workloadDecl()) {
            Located<String> orchestrator = toName(w.name(0));
            Located<String> workload = toName(w.name(1));
            for (CalicoParser.EndpointDeclContext e : w.endpointDecl()) {
                out.add(toEndpoint(hostName, orchestrator, workload, e));
            }
        }
    }

    private EndpointDecl toEndpoint(
            Located<String> host,
            Located<String> orchestrator,
            Located<String> workload,
            CalicoParser.EndpointDeclContext ctx) {
        Located<String> interfaceName = null;
        Located<String> mac = null;
        Located<String> state = null;
        List<Located<String>> profiles = new ArrayList<>();
        ParserRuleContext seenProfiles = null;
        List<Located<String>> ipv4 = new ArrayList<>();
        List<Located<String>> ipv6 = new ArrayList<>();
        List<Located<String>> gateways = new ArrayList<>();
        List<NatDecl> nats = new ArrayList<>();
        for (CalicoParser.EndpointItemContext item : ctx.endpointItem()) {
            if (item instanceof CalicoParser.InterfaceItemContext i) {
                interfaceName = single(interfaceName, toName(i.name()), "interface");
            } else if (item instanceof CalicoParser.MacItemContext i) {
                mac = single(mac, located(i.value().WORD()), "mac");
            } else if (item instanceof CalicoParser.StateItemContext i) {
                state = single(state, toName(i.name()), "state");
            } else if (item instanceof CalicoParser.ProfilesItemContext i) {
                seenProfiles = once(seenProfiles, i, "profiles");
                profiles.addAll(toNames(i.names()));
            } else if (item instanceof CalicoParser.Ipv4ItemContext i) {
                ipv4.addAll(toValues(i.values()));
            } else if (item instanceof CalicoParser.Ipv6ItemContext i) {
                ipv6.addAll(toValues(i.values()));
            } else if (item instanceof CalicoParser.GatewayItemContext i) {
                gateways.add(located(i.value().WORD()));
            } else if (item instanceof CalicoParser.NatItemContext i) {
                nats.add(new NatDecl(located(i.value(0).WORD()), located(i.value(1).WORD())));
            }
        }
        return new EndpointDecl(
                host,
                orchestrator,
                workload,
                toName(ctx.name()),
                interfaceName,
                mac,
                state,
                profiles,
                ipv4,
                ipv6,
                gateways,
                nats);
    }

    private Located<String> single(Located<String> previous, Located<String> next, String field) {
        if (previous != null) {
            diagnostics.add(
                    Diagnostic.error(
                            next.location(),
                            "'"
                                    + field
                                    + "' given twice (first at line "
                                    + previous.location().line()
                                    + ")"));
            return previous;
        }
        return next;
    }

    private ParserRuleContext once(
            ParserRuleContext previous, ParserRuleContext next, String what) {
        if (previous != null) {
            error(
                    next.getStart(),
                    "'"
                            + what
                            + "' given twice (first at line "
                            + previous.getStart().getLine()
                            + ")");
            return previous;
        }
        return next;
    }

    private Located<String> toImportPath(Token string) {
        String text = string.getText();
        String path =
                text.substring(1, text.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
        return new Located<>(path, location(string));
    }

    private List<Located<String>> toNames(CalicoParser.NamesContext ctx) {
        return ctx.name().stream().map(this::toName).toList();
    }

    private List<Located<String>> toValues(CalicoParser.ValuesContext ctx) {
        return ctx.value().stream().map(v -> located(v.WORD())).toList();
    }

    private Located<String> toName(CalicoParser.NameContext ctx) {
        return new Located<>(ctx.getText(), location(ctx.getStart()));
    }

    private Located<String> located(org.antlr.v4.runtime.tree.TerminalNode node) {
        return new Located<>(node.getText(), location(node.getSymbol()));
    }

    private SourceLocation location(Token token) {
        return new SourceLocation(displayPath, token.getLine(), token.getCharPositionInLine() + 1);
    }

    private void error(Token at, String message) {
        diagnostics.add(Diagnostic.error(location(at), message));
    }
}
