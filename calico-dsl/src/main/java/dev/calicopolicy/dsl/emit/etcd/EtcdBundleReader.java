package dev.calicopolicy.dsl.emit.etcd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.calicopolicy.dsl.emit.etcd.EtcdBundle.Entry;
import dev.calicopolicy.dsl.model.Action;
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
import dev.calicopolicy.dsl.model.Protocol;
import dev.calicopolicy.dsl.model.Rule;
import dev.calicopolicy.dsl.model.SourceLocation;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a bundle back into the policy model (without source positions): the inverse of {@link
 * EtcdBundleEmitter}, for tools that start from what is in etcd and for tests that the bundle says
 * all the model says.
 */
public final class EtcdBundleReader {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PROFILE_KEY =
            Pattern.compile("/calico/v1/policy/profile/([^/]+)/(rules|tags)");
    private static final Pattern ENDPOINT_KEY =
            Pattern.compile("/calico/v1/host/([^/]+)/workload/([^/]+)/([^/]+)/endpoint/([^/]+)");

    private EtcdBundleReader() {}

    /**
     * The policy the bundle describes.
     *
     * @throws IOException if a key or value does not follow the v1 data model
     */
    public static Policy read(EtcdBundle bundle) throws IOException {
        Map<String, JsonNode> rules = new TreeMap<>();
        Map<String, JsonNode> tags = new TreeMap<>();
        List<Endpoint> endpoints = new ArrayList<>();
        for (Entry e : bundle.entries()) {
            JsonNode value = JSON.readTree(e.value());
            Matcher profile = PROFILE_KEY.matcher(e.key());
            Matcher endpoint = ENDPOINT_KEY.matcher(e.key());
            if (profile.matches()) {
                (profile.group(2).equals("rules") ? rules : tags).put(profile.group(1), value);
            } else if (endpoint.matches()) {
                endpoints.add(
                        endpoint(
                                new EndpointKey(
                                        endpoint.group(1),
                                        endpoint.group(2),
                                        endpoint.group(3),
                                        endpoint.group(4)),
                                value));
            } else {
                throw new IOException("not a key of the v1 data model: " + e.key());
            }
        }
        List<Profile> profiles = new ArrayList<>();
        for (Map.Entry<String, JsonNode> r : rules.entrySet()) {
            List<String> tagList = new ArrayList<>();
            tags.getOrDefault(r.getKey(), JSON.createArrayNode())
                    .forEach(t -> tagList.add(t.asText()));
            profiles.add(
                    new Profile(
                            r.getKey(),
                            tagList,
                            rules(r.getValue().path("inbound_rules")),
                            rules(r.getValue().path("outbound_rules")),
                            SourceLocation.NONE));
        }
        return new Policy(profiles, endpoints);
    }

    private static List<Rule> rules(JsonNode list) {
        List<Rule> rules = new ArrayList<>();
        for (JsonNode r : list) {
            JsonNode protocol = r.get("protocol");
            rules.add(
                    new Rule(
                            "deny".equals(r.path("action").asText("allow"))
                                    ? Action.DENY
                                    : Action.ALLOW,
                            protocol == null
                                    ? null
                                    : Protocol.parse(protocol.asText()).orElseThrow(),
                            text(r, "src_tag"),
                            cidr(text(r, "src_net")),
                            ports(r.path("src_ports")),
                            text(r, "dst_tag"),
                            cidr(text(r, "dst_net")),
                            ports(r.path("dst_ports")),
                            r.has("icmp_type") ? r.get("icmp_type").asInt() : null,
                            r.has("icmp_code") ? r.get("icmp_code").asInt() : null,
                            SourceLocation.NONE));
        }
        return rules;
    }

    private static Endpoint endpoint(EndpointKey key, JsonNode v) {
        List<String> profileIds = new ArrayList<>();
        v.path("profile_ids").forEach(p -> profileIds.add(p.asText()));
        return new Endpoint(
                key,
                "inactive".equals(v.path("state").asText())
                        ? EndpointState.INACTIVE
                        : EndpointState.ACTIVE,
                v.path("name").asText(),
                v.path("mac").asText(),
                profileIds,
                nat(v.path("ipv4_nat"), IpVersion.V4),
                nets(v.path("ipv4_nets")),
                nat(v.path("ipv6_nat"), IpVersion.V6),
                nets(v.path("ipv6_nets")),
                address(text(v, "ipv4_gateway"), IpVersion.V4),
                address(text(v, "ipv6_gateway"), IpVersion.V6),
                SourceLocation.NONE);
    }

    private static List<PortRange> ports(JsonNode list) {
        List<PortRange> ports = new ArrayList<>();
        for (JsonNode p : list) {
            if (p.isInt()) {
                ports.add(PortRange.single(p.asInt()));
            } else {
                String[] range = p.asText().split(":");
                ports.add(new PortRange(Integer.parseInt(range[0]), Integer.parseInt(range[1])));
            }
        }
        return ports;
    }

    private static List<Nat> nat(JsonNode list, IpVersion version) {
        List<Nat> nats = new ArrayList<>();
        for (JsonNode n : list) {
            nats.add(
                    new Nat(
                            address(n.path("out_ip").asText(), version),
                            address(n.path("in_ip").asText(), version)));
        }
        return nats;
    }

    private static List<Cidr> nets(JsonNode list) {
        List<Cidr> nets = new ArrayList<>();
        list.forEach(n -> nets.add(cidr(n.asText())));
        return nets;
    }

    private static Cidr cidr(String text) {
        if (text == null) {
            return null;
        }
        int slash = text.indexOf('/');
        String address = text.substring(0, slash);
        return new Cidr(
                address,
                Integer.parseInt(text.substring(slash + 1)),
                address.contains(":") ? IpVersion.V6 : IpVersion.V4);
    }

    private static IpAddress address(String text, IpVersion version) {
        return text == null ? null : new IpAddress(text, version);
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null ? null : v.asText();
    }
}
