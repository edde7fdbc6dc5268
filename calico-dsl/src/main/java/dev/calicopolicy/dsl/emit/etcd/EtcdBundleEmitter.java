package dev.calicopolicy.dsl.emit.etcd;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.calicopolicy.dsl.emit.etcd.EtcdBundle.Entry;
import dev.calicopolicy.dsl.model.Cidr;
import dev.calicopolicy.dsl.model.Endpoint;
import dev.calicopolicy.dsl.model.IpAddress;
import dev.calicopolicy.dsl.model.Nat;
import dev.calicopolicy.dsl.model.Policy;
import dev.calicopolicy.dsl.model.PortRange;
import dev.calicopolicy.dsl.model.Profile;
import dev.calicopolicy.dsl.model.Rule;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Emits the Calico v1 etcd data model for a policy: for each profile its {@code rules} and {@code
 * tags} keys, for each endpoint its endpoint key. Values are compact JSON with fields in the order
 * the data model lists them; absent optional fields are left out.
 */
public final class EtcdBundleEmitter {
    private static final JsonFactory JSON = new JsonFactory();

    private EtcdBundleEmitter() {}

    public static EtcdBundle emit(Policy policy) {
        List<Entry> entries = new ArrayList<>();
        for (Profile p : policy.profiles()) {
            String base = EtcdBundle.PREFIX + "/policy/profile/" + p.id();
            entries.add(new Entry(base + "/rules", rulesValue(p)));
            entries.add(new Entry(base + "/tags", tagsValue(p)));
        }
        for (Endpoint e : policy.endpoints()) {
            entries.add(new Entry(EtcdBundle.PREFIX + "/" + e.key().path(), endpointValue(e)));
        }
        entries.sort(Comparator.comparing(Entry::key));
        return new EtcdBundle(entries);
    }

    /** The value of {@code /calico/v1/policy/profile/<id>/rules}. */
    public static String rulesValue(Profile profile) {
        return write(
                g -> {
                    g.writeStartObject();
                    g.writeArrayFieldStart("inbound_rules");
                    for (Rule r : profile.inboundRules()) {
                        writeRule(g, r);
                    }
                    g.writeEndArray();
                    g.writeArrayFieldStart("outbound_rules");
                    for (Rule r : profile.outboundRules()) {
                        writeRule(g, r);
                    }
                    g.writeEndArray();
                    g.writeEndObject();
                });
    }

    /** The value of {@code /calico/v1/policy/profile/<id>/tags}. */
    public static String tagsValue(Profile profile) {
        return write(
                g -> {
                    g.writeStartArray();
                    for (String tag : profile.tags()) {
                        g.writeString(tag);
                    }
                    g.writeEndArray();
                });
    }

    /** The value of an endpoint key. */
    public static String endpointValue(Endpoint e) {
        return write(
                g -> {
                    g.writeStartObject();
                    g.writeStringField("state", e.state().word());
                    g.writeStringField("name", e.interfaceName());
                    g.writeStringField("mac", e.mac());
                    g.writeArrayFieldStart("profile_ids");
                    for (String id : e.profileIds()) {
                        g.writeString(id);
                    }
                    g.writeEndArray();
                    writeNat(g, "ipv4_nat", e.ipv4Nat());
                    writeNets(g, "ipv4_nets", e.ipv4Nets());
                    writeNat(g, "ipv6_nat", e.ipv6Nat());
                    writeNets(g, "ipv6_nets", e.ipv6Nets());
                    writeAddress(g, "ipv4_gateway", e.ipv4Gateway());
                    writeAddress(g, "ipv6_gateway", e.ipv6Gateway());
                    g.writeEndObject();
                });
    }

    private static void writeRule(JsonGenerator g, Rule r) throws IOException {
        g.writeStartObject();
        if (r.protocol() != null) {
            if (r.protocol().isNamed()) {
                g.writeStringField("protocol", r.protocol().name());
            } else {
                g.writeNumberField("protocol", r.protocol().number());
            }
        }
        if (r.srcTag() != null) {
            g.writeStringField("src_tag", r.srcTag());
        }
        if (r.srcNet() != null) {
            g.writeStringField("src_net", r.srcNet().toString());
        }
        writePorts(g, "src_ports", r.srcPorts());
        if (r.dstTag() != null) {
            g.writeStringField("dst_tag", r.dstTag());
        }
        if (r.dstNet() != null) {
            g.writeStringField("dst_net", r.dstNet().toString());
        }
        writePorts(g, "dst_ports", r.dstPorts());
        if (r.icmpType() != null) {
            g.writeNumberField("icmp_type", r.icmpType());
        }
        if (r.icmpCode() != null) {
            g.writeNumberField("icmp_code", r.icmpCode());
        }
        g.writeStringField("action", r.action().dataModelName());
        g.writeEndObject();
    }

    private static void writePorts(JsonGenerator g, String field, List<PortRange> ports)
            throws IOException {
        if (ports.isEmpty()) {
            return;
        }
        g.writeArrayFieldStart(field);
        for (PortRange p : ports) {
            if (p.isSingle()) {
                g.writeNumber(p.first());
            } else {
                g.writeString(p.toString());
            }
        }
        g.writeEndArray();
    }

    private static void writeNat(JsonGenerator g, String field, List<Nat> nats) throws IOException {
        if (nats.isEmpty()) {
            return;
        }
        g.writeArrayFieldStart(field);
        for (Nat n : nats) {
            g.writeStartObject();
            g.writeStringField("in_ip", n.inIp().text());
            g.writeStringField("out_ip", n.outIp().text());
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static void writeNets(JsonGenerator g, String field, List<Cidr> nets)
            throws IOException {
        if (nets.isEmpty()) {
            return;
        }
        g.writeArrayFieldStart(field);
        for (Cidr c : nets) {
            g.writeString(c.toString());
        }
        g.writeEndArray();
    }

    private static void writeAddress(JsonGenerator g, String field, IpAddress address)
            throws IOException {
        if (address != null) {
            g.writeStringField(field, address.text());
        }
    }

    private interface JsonBody {
        void write(JsonGenerator g) throws IOException;
    }

    private static String write(JsonBody body) {
        StringWriter out = new StringWriter(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON to a string cannot fail", e);
        }
        return out.toString();
    }
}
