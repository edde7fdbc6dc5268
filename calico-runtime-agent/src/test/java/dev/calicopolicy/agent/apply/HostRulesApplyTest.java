package dev.calicopolicy.agent.apply;

import static org.assertj.core.api.Assertions.assertThat;

import dev.calicopolicy.agent.apply.HostTopology.Workload;
import dev.calicopolicy.testkit.NetworkNamespaces;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code calico-agent apply} in a host namespace: it changes only what differs, keeps other
 * software's rules, removes what the files no longer have, and leaves the namespace exactly as it
 * was when the kernel rejects a file.
 */
class HostRulesApplyTest {
    /** The policy of {@link HostTopology} with less allowed: port 80 only, no fallback. */
    static final String CHANGED_POLICY =
            HostTopology.POLICY
                    .replace(
                            "allow tcp from tag client to ports web;",
                            "allow tcp from tag client to port 80;")
                    .replace("    allow tcp from tag web to port 22;\n", "")
                    .replace("profiles client, fallback;", "profiles client;");

    @TempDir Path dir;
    private HostTopology topology;

    @BeforeEach
    void buildHost() {
        topology = HostTopology.build();
    }

    @AfterEach
    void deleteHost() {
        topology.close();
    }

    private String host(String... command) {
        return topology.netns.exec(topology.host, command);
    }

    @Test
    void spoofedSourceAddressAndMacPassWithoutTheRulesAndAreDroppedWithThem() throws IOException {
        Workload w2 = topology.w("w2");
        topology.netns.exec(w2.ns(), "ip", "addr", "add", "198.51.100.99/32", "dev", "eth0");
        host("ip", "route", "add", "198.51.100.99/32", "dev", w2.iface());

        // Without the rules, both spoofs get through: the kernel alone does not stop them.
        assertThat(w2.probe().connect(HostTopology.EXT4, 5000, "198.51.100.99", 1000))
                .isEqualTo(topology.ext + " 198.51.100.99");
        spoofMac(w2, "02:00:00:00:99:12");
        assertThat(topology.tcp(w2.probe(), HostTopology.EXT4, 5000)).isNotNull();
        spoofMac(w2, w2.mac());

        topology.applyOk(HostTopology.compile(HostTopology.POLICY, dir));

        assertThat(w2.probe().connect(HostTopology.EXT4, 5000, "198.51.100.99", 1000)).isNull();
        assertThat(w2.probe().connect(HostTopology.EXT4, 5000, w2.v4(), 1000)).isNotNull();
        spoofMac(w2, "02:00:00:00:99:12");
        assertThat(topology.tcp(w2.probe(), HostTopology.EXT4, 5000)).isNull();
        assertThat(topology.tcp(w2.probe(), HostTopology.EXT6, 5000)).isNull();
        spoofMac(w2, w2.mac());
        assertThat(topology.tcp(w2.probe(), HostTopology.EXT4, 5000)).isNotNull();
        assertThat(topology.tcp(w2.probe(), HostTopology.EXT6, 5000)).isNotNull();
    }

    private void spoofMac(Workload w, String mac) {
        topology.netns.exec(w.ns(), "ip", "link", "set", "eth0", "address", mac);
        host("ip", "neigh", "flush", "dev", w.iface());
        host("ip", "-6", "neigh", "flush", "dev", w.iface());
    }

    @Test
    void applyingTheSameFilesAgainChangesNothingAndOtherRulesSurvive() throws IOException {
        addForeignRules();
        Path out = HostTopology.compile(HostTopology.POLICY, dir);

        assertThat(topology.applyOk(out)).contains("created").contains("jumps fixed: 10");
        String first = topology.kernelState();
        assertThat(topology.applyOk(out)).contains("no changes");
        assertThat(topology.kernelState()).isEqualTo(first);

        assertForeignRulesAndOneJumpEach();
    }

    @Test
    void applyingAChangedPolicyReplacesChainsAndRemovesWhatIsGone() throws IOException {
        addForeignRules();
        Workload w1 = topology.w("w1");
        Workload w2 = topology.w("w2");
        topology.applyOk(HostTopology.compile(HostTopology.POLICY, dir.resolve("a")));
        assertThat(topology.tcp(w2.probe(), w1.v4(), 8080)).isNotNull();
        assertThat(topology.tcp(topology.extProbe, w2.v6(), 9001)).isNotNull();
        assertThat(host("iptables-save", "-t", "filter")).contains(":cali-pi-fallback");
        assertThat(host("ipset", "list", "-n")).contains("cali-v4-web");

        Path changed = HostTopology.compile(CHANGED_POLICY, dir.resolve("b"));
        assertThat(topology.applyOk(changed)).contains("removed");

        assertThat(topology.tcp(w2.probe(), w1.v4(), 80)).isNotNull();
        assertThat(topology.tcp(w2.probe(), w1.v4(), 8080)).isNull();
        assertThat(topology.tcp(w2.probe(), w1.v6(), 8080)).isNull();
        assertThat(topology.tcp(topology.extProbe, w2.v6(), 9001)).isNull();
        assertThat(host("iptables-save", "-t", "filter")).doesNotContain("cali-pi-fallback");
        assertThat(host("ip6tables-save", "-t", "filter")).doesNotContain("cali-pi-fallback");
        assertThat(host("ipset", "list", "-n")).doesNotContain("cali-v4-web");
        assertThat(topology.applyOk(changed)).contains("no changes");
        assertForeignRulesAndOneJumpEach();
    }

    @Test
    void aFileTheKernelRejectsLeavesTheNamespaceExactlyAsItWas() throws IOException {
        addForeignRules();
        topology.applyOk(HostTopology.compile(HostTopology.POLICY, dir.resolve("a")));
        String before = topology.kernelState();

        // A rule iptables-restore --test passes but the kernel refuses (DNAT outside nat), in
        // files that also change sets and chains before it.
        Path out = HostTopology.compile(CHANGED_POLICY, dir.resolve("b"));
        Path rules = out.resolve("hosts/compute-01/iptables.rules");
        int line =
                insertAfter(
                        rules,
                        "-A cali-pi-web ",
                        "-A cali-pi-web -j DNAT --to-destination 192.0.2.1");
        NetworkNamespaces.Result result = topology.apply(out);
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr())
                .contains(
                        "calico-agent: error: "
                                + rules.getParent()
                                + "/iptables.rules:"
                                + line
                                + ": ");
        assertThat(topology.kernelState()).isEqualTo(before);

        // A line iptables-restore --test refuses.
        Path out2 = HostTopology.compile(CHANGED_POLICY, dir.resolve("c"));
        Path rules2 = out2.resolve("hosts/compute-01/ip6tables.rules");
        int line2 =
                insertAfter(
                        rules2, "-A cali-pi-web ", "-A cali-pi-web -p tcp --dport 70000 -j DROP");
        result = topology.apply(out2);
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr()).contains("/ip6tables.rules:" + line2 + ": ");
        assertThat(topology.kernelState()).isEqualTo(before);

        // A set member ipset refuses.
        Path out3 = HostTopology.compile(CHANGED_POLICY, dir.resolve("d"));
        Path sets = out3.resolve("hosts/compute-01/ipset.rules");
        int line3 = insertAfter(sets, "add cali-v4-client ", "add cali-v4-client 2001:db8::5");
        result = topology.apply(out3);
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr()).contains("/ipset.rules:" + line3 + ": ");
        assertThat(topology.kernelState()).isEqualTo(before);

        // And the policy still holds, packet by packet.
        assertThat(topology.tcp(topology.w("w2").probe(), topology.w("w1").v4(), 8080)).isNotNull();
        assertForeignRulesAndOneJumpEach();
    }

    /** Inserts {@code text} after the first line starting with {@code start}; its line number. */
    private static int insertAfter(Path file, String start, String text) throws IOException {
        List<String> lines = new ArrayList<>(Arrays.asList(Files.readString(file).split("\n")));
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(start)) {
                lines.add(i + 1, text);
                Files.writeString(file, String.join("\n", lines) + "\n");
                return i + 2;
            }
        }
        throw new AssertionError("no line starts with " + start + " in " + file);
    }

    private void addForeignRules() {
        host(
                "iptables",
                "-A",
                "FORWARD",
                "-s",
                "192.0.2.99/32",
                "-m",
                "comment",
                "--comment",
                "foreign",
                "-j",
                "ACCEPT");
        host(
                "ip6tables",
                "-A",
                "FORWARD",
                "-s",
                "2001:db8:2::99/128",
                "-m",
                "comment",
                "--comment",
                "foreign",
                "-j",
                "ACCEPT");
        host(
                "iptables",
                "-t",
                "nat",
                "-A",
                "POSTROUTING",
                "-s",
                "192.0.2.0/24",
                "-m",
                "comment",
                "--comment",
                "foreign",
                "-j",
                "RETURN");
        host("ipset", "create", "foreign", "hash:ip");
    }

    private void assertForeignRulesAndOneJumpEach() {
        String v4 = host("iptables-save", "-t", "filter") + host("iptables-save", "-t", "nat");
        String v6 = host("ip6tables-save", "-t", "filter") + host("ip6tables-save", "-t", "nat");
        assertThat(v4)
                .contains("-A FORWARD -s 192.0.2.99/32 -m comment --comment foreign -j ACCEPT")
                .contains("-A POSTROUTING -s 192.0.2.0/24 -m comment --comment foreign -j RETURN");
        assertThat(v6)
                .contains(
                        "-A FORWARD -s 2001:db8:2::99/128 -m comment --comment foreign -j ACCEPT");
        assertThat(host("ipset", "list", "-n")).contains("foreign");
        for (String save : List.of(v4, v6)) {
            for (String hook : List.of("INPUT", "FORWARD", "PREROUTING", "OUTPUT", "POSTROUTING")) {
                String jump = "-A " + hook + " -j cali-" + hook + "\n";
                assertThat(save.split(java.util.regex.Pattern.quote(jump), -1))
                        .as("jumps from " + hook)
                        .hasSize(2);
            }
        }
    }
}
