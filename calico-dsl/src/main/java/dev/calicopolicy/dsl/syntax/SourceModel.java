package dev.calicopolicy.dsl.syntax;

import dev.calicopolicy.dsl.model.Action;
import dev.calicopolicy.dsl.model.SourceLocation;
import java.util.List;

/**
 * What one source file says, with names still unresolved and values still text, each with its
 * position. Parse trees and YAML documents both become these records; the checker resolves them
 * into the policy model.
 */
public final class SourceModel {
    private SourceModel() {}

    /** The declarations of one file. */
    public record SourceFile(
            String displayPath,
            List<ImportDecl> imports,
            List<NetDecl> nets,
            List<PortsDecl> portSets,
            List<ProfileDecl> profiles,
            List<EndpointDecl> endpoints) {
        public SourceFile {
            imports = List.copyOf(imports);
            nets = List.copyOf(nets);
            portSets = List.copyOf(portSets);
            profiles = List.copyOf(profiles);
            endpoints = List.copyOf(endpoints);
        }
    }

    /** {@code import "path";}: the path as written, relative to the importing file. */
    public record ImportDecl(Located<String> path) {}

    /** {@code net NAME = CIDR, ...;} */
    public record NetDecl(Located<String> name, List<Located<String>> values) {
        public NetDecl {
            values = List.copyOf(values);
        }
    }

    /** {@code ports NAME = PORT, N:M, ...;} */
    public record PortsDecl(Located<String> name, List<Located<String>> values) {
        public PortsDecl {
            values = List.copyOf(values);
        }
    }

    /** {@code profile NAME { tags ...; inbound {...} outbound {...} }} */
    public record ProfileDecl(
            Located<String> name,
            List<Located<String>> tags,
            List<RuleDecl> inbound,
            List<RuleDecl> outbound) {
        public ProfileDecl {
            tags = List.copyOf(tags);
            inbound = List.copyOf(inbound);
            outbound = List.copyOf(outbound);
        }
    }

    /**
     * One source rule. {@code protocol}, {@code icmpType} and {@code icmpCode} are null when
     * absent; {@code from} and {@code to} are {@link MatchClause#EMPTY} when absent.
     */
    public record RuleDecl(
            Action action,
            Located<String> protocol,
            MatchClause from,
            MatchClause to,
            Located<String> icmpType,
            Located<String> icmpCode,
            SourceLocation location) {}

    /**
     * The matches of one side ({@code from} or {@code to}); each list is empty when that kind of
     * match is absent.
     */
    public record MatchClause(
            List<Located<String>> tags, List<Located<String>> nets, List<Located<String>> ports) {
        public static final MatchClause EMPTY = new MatchClause(List.of(), List.of(), List.of());

        public MatchClause {
            tags = List.copyOf(tags);
            nets = List.copyOf(nets);
            ports = List.copyOf(ports);
        }
    }

    /**
     * One endpoint, from a {@code host} block or an inventory. Single-valued fields are null when
     * absent.
     */
    public record EndpointDecl(
            Located<String> host,
            Located<String> orchestrator,
            Located<String> workload,
            Located<String> id,
            Located<String> interfaceName,
            Located<String> mac,
            Located<String> state,
            List<Located<String>> profiles,
            List<Located<String>> ipv4,
            List<Located<String>> ipv6,
            List<Located<String>> gateways,
            List<NatDecl> nats) {
        public EndpointDecl {
            profiles = List.copyOf(profiles);
            ipv4 = List.copyOf(ipv4);
            ipv6 = List.copyOf(ipv6);
            gateways = List.copyOf(gateways);
            nats = List.copyOf(nats);
        }
    }

    /** {@code nat OUT -> IN;} */
    public record NatDecl(Located<String> outIp, Located<String> inIp) {}
}
