package dev.calicopolicy.dsl.syntax;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.calicopolicy.dsl.Diagnostic;
import dev.calicopolicy.dsl.model.SourceLocation;
import dev.calicopolicy.dsl.syntax.SourceModel.EndpointDecl;
import dev.calicopolicy.dsl.syntax.SourceModel.NatDecl;
import dev.calicopolicy.dsl.syntax.SourceModel.SourceFile;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads an endpoint inventory ({@code *.calico.yaml}): hosts, workloads and endpoints as an
 * orchestrator would export them, with the same fields as {@code host} blocks. Every value keeps
 * its line and column, so the checker's messages point into the YAML file.
 *
 * <pre>
 * hosts:
 *   - name: compute-01
 *     workloads:
 *       - orchestrator: openstack
 *         id: vm-0001
 *         endpoints:
 *           - id: ep1
 *             interface: tap0001
 *             mac: "02:00:00:00:00:01"
 *             profiles: [web, ssh]
 *             ipv4: [198.51.100.17/32]
 *             nat: [{out: 203.0.113.17, in: 198.51.100.17}]
 * </pre>
 */
public final class InventoryReader {
    private static final YAMLFactory YAML = new YAMLFactory();
    private static final Set<String> ENDPOINT_FIELDS =
            Set.of(
                    "id",
                    "interface",
                    "mac",
                    "state",
                    "profiles",
                    "ipv4",
                    "ipv6",
                    "gateway",
                    "gateways",
                    "nat");

    private final String displayPath;
    private final List<Diagnostic> diagnostics = new ArrayList<>();

    private InventoryReader(String displayPath) {
        this.displayPath = displayPath;
    }

    public static PolicyParser.Result read(String displayPath, String text) {
        InventoryReader reader = new InventoryReader(displayPath);
        Node root;
        try (JsonParser parser = YAML.createParser(text)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                return new PolicyParser.Result(Optional.of(reader.emptyFile()), List.of());
            }
            root = reader.readNode(parser);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            SourceLocation loc =
                    at == null
                            ? new SourceLocation(displayPath, 1, 1)
                            : new SourceLocation(
                                    displayPath,
                                    Math.max(1, at.getLineNr()),
                                    Math.max(1, at.getColumnNr()));
            return new PolicyParser.Result(
                    Optional.empty(),
                    List.of(Diagnostic.error(loc, "invalid YAML: " + e.getOriginalMessage())));
        } catch (IOException e) {
            throw new IllegalStateException("reading a string cannot fail", e);
        }

        List<EndpointDecl> endpoints = new ArrayList<>();
        Mapping top = reader.mapping(root, "the inventory");
        if (top != null) {
            reader.onlyFields(top, Set.of("hosts"), "the inventory");
            for (Node hostNode : reader.list(top.get("hosts"), "'hosts'")) {
                reader.readHost(hostNode, endpoints);
            }
        }
        if (!reader.diagnostics.isEmpty()) {
            return new PolicyParser.Result(Optional.empty(), List.copyOf(reader.diagnostics));
        }
        return new PolicyParser.Result(
                Optional.of(
                        new SourceFile(
                                displayPath,
                                List.of(),
                                List.of(),
                                List.of(),
                                List.of(),
                                endpoints)),
                List.of());
    }

    private SourceFile emptyFile() {
        return new SourceFile(displayPath, List.of(), List.of(), List.of(), List.of(), List.of());
    }

    private void readHost(Node node, List<EndpointDecl> out) {
        Mapping host = mapping(node, "a host");
        if (host == null) {
            return;
        }
        onlyFields(host, Set.of("name", "workloads"), "a host");
        Located<String> name = scalar(host, "name", "a host");
        for (Node w : list(host.get("workloads"), "'workloads'")) {
            Mapping workload = mapping(w, "a workload");
            if (workload == null) {
                continue;
            }
            onlyFields(workload, Set.of("orchestrator", "id", "endpoints"), "a workload");
            Located<String> orchestrator = scalar(workload, "orchestrator", "a workload");
            Located<String> id = scalar(workload, "id", "a workload");
            for (Node e : list(workload.get("endpoints"), "'endpoints'")) {
                Mapping endpoint = mapping(e, "an endpoint");
                if (endpoint == null) {
                    continue;
                }
                onlyFields(endpoint, ENDPOINT_FIELDS, "an endpoint");
                if (name != null && orchestrator != null && id != null) {
                    out.add(toEndpoint(name, orchestrator, id, endpoint));
                } else {
                    scalar(endpoint, "id", "an endpoint");
                }
            }
        }
    }

    private EndpointDecl toEndpoint(
            Located<String> host,
            Located<String> orchestrator,
            Located<String> workload,
            Mapping e) {
        List<Located<String>> gateways = new ArrayList<>(scalars(e.get("gateway"), "'gateway'"));
        gateways.addAll(scalars(e.get("gateways"), "'gateways'"));
        List<NatDecl> nats = new ArrayList<>();
        for (Node n : list(e.get("nat"), "'nat'")) {
            Mapping nat = mapping(n, "a nat mapping ({out: ADDRESS, in: ADDRESS})");
            if (nat != null) {
                onlyFields(nat, Set.of("out", "in"), "a nat mapping");
                Located<String> outIp = scalar(nat, "out", "a nat mapping");
                Located<String> inIp = scalar(nat, "in", "a nat mapping");
                if (outIp != null && inIp != null) {
                    nats.add(new NatDecl(outIp, inIp));
                }
            }
        }
        Located<String> id = scalar(e, "id", "an endpoint");
        return new EndpointDecl(
                host,
                orchestrator,
                workload,
                id == null ? new Located<>("", e.location()) : id,
                optionalScalar(e, "interface"),
                optionalScalar(e, "mac"),
                optionalScalar(e, "state"),
                scalars(e.get("profiles"), "'profiles'"),
                scalars(e.get("ipv4"), "'ipv4'"),
                scalars(e.get("ipv6"), "'ipv6'"),
                gateways,
                nats);
    }

    // A small located tree of YAML nodes: Jackson's own tree does not keep positions.

    private sealed interface Node permits Scalar, Sequence, Mapping {
        SourceLocation location();
    }

    private record Scalar(String text, SourceLocation location) implements Node {}

    private record Sequence(List<Node> items, SourceLocation location) implements Node {}

    private record Mapping(
            Map<String, Node> fields, Map<String, SourceLocation> keys, SourceLocation location)
            implements Node {
        Node get(String key) {
            return fields.get(key);
        }
    }

    private Node readNode(JsonParser p) throws IOException {
        SourceLocation at = location(p.currentTokenLocation());
        JsonToken t = p.currentToken();
        if (t == JsonToken.START_OBJECT) {
            Map<String, Node> fields = new LinkedHashMap<>();
            Map<String, SourceLocation> keys = new LinkedHashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                SourceLocation keyAt = location(p.currentTokenLocation());
                p.nextToken();
                Node value = readNode(p);
                if (fields.containsKey(key)) {
                    diagnostics.add(Diagnostic.error(keyAt, "'" + key + "' given twice"));
                }
                fields.put(key, value);
                keys.put(key, keyAt);
            }
            return new Mapping(fields, keys, at);
        }
        if (t == JsonToken.START_ARRAY) {
            List<Node> items = new ArrayList<>();
            while (p.nextToken() != JsonToken.END_ARRAY) {
                items.add(readNode(p));
            }
            return new Sequence(items, at);
        }
        return new Scalar(t == JsonToken.VALUE_NULL ? "" : p.getText(), at);
    }

    private SourceLocation location(JsonLocation l) {
        return new SourceLocation(
                displayPath, Math.max(1, l.getLineNr()), Math.max(1, l.getColumnNr()));
    }

    private Mapping mapping(Node node, String what) {
        if (node instanceof Mapping m) {
            return m;
        }
        if (node != null) {
            diagnostics.add(
                    Diagnostic.error(
                            node.location(), "expected " + what + " as a mapping of fields"));
        }
        return null;
    }

    private List<Node> list(Node node, String what) {
        if (node == null) {
            return List.of();
        }
        if (node instanceof Sequence s) {
            return s.items();
        }
        diagnostics.add(Diagnostic.error(node.location(), "expected a list for " + what));
        return List.of();
    }

    /** A field that may be one scalar or a list of scalars. */
    private List<Located<String>> scalars(Node node, String what) {
        if (node instanceof Scalar s) {
            return List.of(new Located<>(s.text(), s.location()));
        }
        List<Located<String>> out = new ArrayList<>();
        for (Node item : list(node, what)) {
            if (item instanceof Scalar s) {
                out.add(new Located<>(s.text(), s.location()));
            } else {
                diagnostics.add(
                        Diagnostic.error(item.location(), "expected a single value in " + what));
            }
        }
        return out;
    }

    private Located<String> scalar(Mapping m, String field, String what) {
        Node node = m.get(field);
        if (node == null) {
            diagnostics.add(Diagnostic.error(m.location(), what + " needs '" + field + "'"));
            return null;
        }
        if (node instanceof Scalar s) {
            return new Located<>(s.text(), s.location());
        }
        diagnostics.add(
                Diagnostic.error(node.location(), "expected a single value for '" + field + "'"));
        return null;
    }

    private Located<String> optionalScalar(Mapping m, String field) {
        return m.get(field) == null ? null : scalar(m, field, "an endpoint");
    }

    private void onlyFields(Mapping m, Set<String> allowed, String what) {
        for (Map.Entry<String, SourceLocation> key : m.keys().entrySet()) {
            if (!allowed.contains(key.getKey())) {
                String suggestion = Suggestions.closest(key.getKey(), allowed);
                diagnostics.add(
                        Diagnostic.error(
                                key.getValue(),
                                "unknown field '"
                                        + key.getKey()
                                        + "' in "
                                        + what
                                        + (suggestion == null
                                                ? " (expected one of "
                                                        + String.join(
                                                                ", ",
                                                                allowed.stream().sorted().toList())
                                                        + ")"
                                                : " (did you mean '" + suggestion + "'?)")));
            }
        }
    }
}
