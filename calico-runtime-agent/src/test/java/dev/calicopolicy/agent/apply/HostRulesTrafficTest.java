package dev.calicopolicy.agent.apply;

import static org.assertj.core.api.Assertions.assertThat;

import dev.calicopolicy.agent.apply.HostTopology.Workload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Real TCP connections and pings, IPv4 and IPv6, through a host namespace after {@code calico-agent
 * apply} has loaded the files calicoc wrote for {@link HostTopology#POLICY}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostRulesTrafficTest {
    private HostTopology topology;
    private Path dir;
    private Workload w1;
    private Workload w2;
    private Workload w3;

    @BeforeAll
    void applyThePolicyToANewHost() throws IOException {
        dir = Files.createTempDirectory("calico-traffic-");
        topology = HostTopology.build();
        w1 = topology.w("w1");
        w2 = topology.w("w2");
        w3 = topology.w("w3");
        topology.applyOk(HostTopology.compile(HostTopology.POLICY, dir));
    }

    @AfterAll
    void deleteTheNamespaces() throws IOException {
        if (topology != null) {
            topology.close();
        }
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void tagAndPortListWithRangeDecideTcpBetweenWorkloadsInBothFamilies() {
        // w2 carries tag client: web allows it on ports 80 and 8000:8080.
        assertThat(topology.tcp(w2.probe(), w1.v4(), 80)).isEqualTo(w1.ns() + " " + w2.v4());
        assertThat(topology.tcp(w2.probe(), w1.v6(), 80)).isEqualTo(w1.ns() + " " + w2.v6());
        assertThat(topology.tcp(w2.probe(), w1.v4(), 8080)).isNotNull();
        assertThat(topology.tcp(w2.probe(), w1.v6(), 8080)).isNotNull();

        // Not on other ports, and not from outside, which lacks the tag.
        assertThat(topology.tcp(w2.probe(), w1.v4(), 9000)).isNull();
        assertThat(topology.tcp(w2.probe(), w1.v6(), 22)).isNull();
        assertThat(topology.tcp(topology.extProbe, w1.v4(), 80)).isNull();
        assertThat(topology.tcp(topology.extProbe, w1.v6(), 80)).isNull();
    }

    @Test
    void netsDecideTcpFromOutside() {
        // office (192.0.2.0/24) may reach port 22; office is IPv4 only, so IPv6 may not.
        assertThat(topology.tcp(topology.extProbe, w1.v4(), 22))
                .isEqualTo(w1.ns() + " " + HostTopology.EXT4);
        assertThat(topology.tcp(topology.extProbe, w1.v6(), 22)).isNull();
        // w2 is not in office and not in tag web.
        assertThat(topology.tcp(w2.probe(), w1.v4(), 22)).isNull();
    }

    @Test
    void icmpTypesDecidePings() {
        // IPv4 echo request (type 8) is allowed from anywhere.
        assertThat(topology.ping(w2.ns(), w1.v4())).isTrue();
        assertThat(topology.ping(topology.ext, w1.v4())).isTrue();
        // ICMPv6 echo request (128) only from office6.
        assertThat(topology.ping(topology.ext, w1.v6())).isTrue();
        assertThat(topology.ping(w2.ns(), w1.v6())).isFalse();
        // w2's profiles allow no ICMP inbound at all.
        assertThat(topology.ping(w1.ns(), w2.v4())).isFalse();
    }

    @Test
    void profilesRunInOrderFallThroughAndEndInADrop() {
        // client (first) denies 9000 although fallback (second) allows it.
        assertThat(topology.tcp(topology.extProbe, w2.v4(), 9000)).isNull();
        assertThat(topology.tcp(topology.extProbe, w2.v6(), 9000)).isNull();
        // 9001 falls through client to fallback, which allows it.
        assertThat(topology.tcp(topology.extProbe, w2.v4(), 9001)).isNotNull();
        assertThat(topology.tcp(topology.extProbe, w2.v6(), 9001)).isNotNull();
        // 9002 matches no rule of either: dropped after the last profile.
        assertThat(topology.tcp(topology.extProbe, w2.v4(), 9002)).isNull();
        assertThat(topology.tcp(topology.extProbe, w2.v6(), 9002)).isNull();
    }

    @Test
    void inactiveEndpointNeitherReceivesNorSends() {
        // w3 has profile web, which would let w2 in on port 80, but it is inactive.
        assertThat(topology.tcp(w2.probe(), w3.v4(), 80)).isNull();
        assertThat(topology.tcp(w2.probe(), w3.v6(), 80)).isNull();
        assertThat(topology.tcp(w3.probe(), HostTopology.EXT4, 80)).isNull();
        assertThat(topology.ping(w3.ns(), HostTopology.EXT6)).isFalse();
    }

    @Test
    void outboundTrafficPassesAfterAntiSpoofing() {
        // Outbound policy of every active profile here is allow: w1 reaches outside in both
        // families.
        assertThat(topology.tcp(w1.probe(), HostTopology.EXT4, 5000))
                .isEqualTo(topology.ext + " " + w1.v4());
        assertThat(topology.tcp(w1.probe(), HostTopology.EXT6, 5000))
                .isEqualTo(topology.ext + " " + w1.v6());
    }

    @Test
    void connectionsToTheNatAddressReachTheEndpoint() {
        assertThat(topology.tcp(topology.extProbe, "203.0.113.11", 22))
                .isEqualTo(w1.ns() + " " + HostTopology.EXT4);
        // The policy still applies behind the NAT address: port 80 is for tag client only.
        assertThat(topology.tcp(topology.extProbe, "203.0.113.11", 80)).isNull();
        // An endpoint reaching its own NAT address comes back from that address (hairpin SNAT).
        assertThat(topology.tcp(w1.probe(), "203.0.113.11", 22))
                .isEqualTo(w1.ns() + " 203.0.113.11");
    }

    @Test
    void endpointTrafficToTheHostIsDroppedButOtherTrafficToTheHostIsNot() {
        assertThat(topology.tcp(w1.probe(), HostTopology.HOST_EXT4, 5000)).isNull();
        assertThat(topology.tcp(w1.probe(), HostTopology.GATEWAY6, 5000)).isNull();
        assertThat(topology.tcp(topology.extProbe, HostTopology.HOST_EXT4, 5000))
                .isEqualTo(topology.host + " " + HostTopology.EXT4);
    }
}
