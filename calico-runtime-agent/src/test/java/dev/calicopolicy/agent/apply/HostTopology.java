package dev.calicopolicy.agent.apply;

import static org.assertj.core.api.Assertions.assertThat;

import dev.calicopolicy.agent.cli.CalicoAgent;
import dev.calicopolicy.dsl.Compilation;
import dev.calicopolicy.dsl.CompileOptions;
import dev.calicopolicy.dsl.OutputWriter;
import dev.calicopolicy.dsl.PolicyCompiler;
import dev.calicopolicy.testkit.NetworkNamespaces;
import dev.calicopolicy.testkit.NetworkNamespaces.Probe;
import dev.calicopolicy.testkit.Requirements;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A compute host built as Calico builds one, in network namespaces: a "host" namespace that
 * forwards, one namespace per workload joined to it by a veth pair whose host end bears the
 * endpoint's interface name (with the gateway addresses on it and a /32 and /128 route to the
 * workload through it), the workload end bearing the endpoint's MAC and addresses with a default
 * route via the gateway; and an "ext" namespace standing for the network outside (192.0.2.0/24,
 * 2001:db8:2::/64). Every namespace runs a {@link Probe} listening on {@link #PORTS}.
 */
public final class HostTopology implements AutoCloseable {
    public static final String HOST_NAME = "compute-01";
    static final int[] PORTS = {22, 80, 5000, 8080, 9000, 9001, 9002};
    static final String GATEWAY4 = "198.51.100.1";
    static final String GATEWAY6 = "2001:db8::1";
    static final String EXT4 = "192.0.2.10";
    static final String EXT6 = "2001:db8:2::10";
    static final String HOST_EXT4 = "192.0.2.1";

    /** The policy the traffic tests enforce. */
    public static final String POLICY =
            """
            net office = 192.0.2.0/24;
            net office6 = 2001:db8:2::/64;
            ports web = 80, 8000:8080;

            profile web {
              tags web;
              inbound {
                allow tcp from tag client to ports web;
                allow tcp from net office to port 22;
                allow tcp from tag web to port 22;
                allow icmp type 8;
                allow icmpv6 from net office6 type 128;
              }
              outbound {
                allow;
              }
            }

            profile client {
              tags client;
              inbound {
                deny tcp to port 9000;
              }
              outbound {
                allow;
              }
            }

            profile fallback {
              inbound {
                allow tcp to ports 9000, 9001;
              }
              outbound {
                allow;
              }
            }

            host compute-01 {
              workload test w1 {
                endpoint e {
                  interface tap-w1;
                  mac 02:00:00:00:00:11;
                  profiles web;
                  ipv4 198.51.100.11/32;
                  ipv6 2001:db8::11/128;
                  gateway 198.51.100.1;
                  gateway 2001:db8::1;
                  nat 203.0.113.11 -> 198.51.100.11;
                }
              }
              workload test w2 {
                endpoint e {
                  interface tap-w2;
                  mac 02:00:00:00:00:12;
                  profiles client, fallback;
                  ipv4 198.51.100.12/32;
                  ipv6 2001:db8::12/128;
                  gateway 198.51.100.1;
                  gateway 2001:db8::1;
                }
              }
              workload test w3 {
                endpoint e {
                  interface tap-w3;
                  mac 02:00:00:00:00:13;
                  state inactive;
                  profiles web;
                  ipv4 198.51.100.13/32;
                  ipv6 2001:db8::13/128;
                  gateway 198.51.100.1;
                  gateway 2001:db8::1;
                }
              }
            }
            """;

    /** A workload of the topology: its namespace, probe and addresses. */
    public record Workload(
            String ns, Probe probe, String v4, String v6, String iface, String mac) {}

    public final NetworkNamespaces netns;
    public final String host;
    final String ext;
    final Probe hostProbe;
    final Probe extProbe;
    final Map<String, Workload> workloads = new LinkedHashMap<>();

    private HostTopology(NetworkNamespaces netns) {
        this.netns = netns;
        Requirements.program("ping", "iputils-ping");
        Requirements.program("ipset", "ipset");
        Requirements.program("iptables-restore", "iptables");

        host = netns.add("host");
        netns.exec(host, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        netns.exec(host, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1");
        // Hairpin traffic leaves by the interface it came in by; no redirects for it.
        netns.exec(host, "sysctl", "-q", "-w", "net.ipv4.conf.all.send_redirects=0");

        ext = netns.add("ext");
        netns.veth(host, "ext0", ext, "eth0");
        netns.exec(host, "ip", "addr", "add", HOST_EXT4 + "/24", "dev", "ext0");
        netns.exec(host, "ip", "-6", "addr", "add", "2001:db8:2::1/64", "dev", "ext0", "nodad");
        netns.exec(ext, "ip", "addr", "add", EXT4 + "/24", "dev", "eth0");
        netns.exec(ext, "ip", "-6", "addr", "add", EXT6 + "/64", "dev", "eth0", "nodad");
        netns.exec(ext, "ip", "route", "add", "default", "via", HOST_EXT4);
        netns.exec(ext, "ip", "-6", "route", "add", "default", "via", "2001:db8:2::1");

        workload("w1", "tap-w1", "02:00:00:00:00:11", "198.51.100.11", "2001:db8::11");
        workload("w2", "tap-w2", "02:00:00:00:00:12", "198.51.100.12", "2001:db8::12");
        workload("w3", "tap-w3", "02:00:00:00:00:13", "198.51.100.13", "2001:db8::13");

        hostProbe = listening(host);
        extProbe = listening(ext);
    }

    public static HostTopology build() {
        NetworkNamespaces netns = NetworkNamespaces.create();
        try {
            return new HostTopology(netns);
        } catch (RuntimeException | Error e) {
            netns.close();
            throw e;
        }
    }

    private void workload(String name, String iface, String mac, String v4, String v6) {
        String ns = netns.add(name);
        netns.veth(host, iface, ns, "eth0");
        netns.exec(ns, "ip", "link", "set", "eth0", "address", mac);
        netns.exec(ns, "ip", "addr", "add", v4 + "/32", "dev", "eth0");
        netns.exec(ns, "ip", "-6", "addr", "add", v6 + "/128", "dev", "eth0", "nodad");
        netns.exec(ns, "ip", "route", "add", GATEWAY4, "dev", "eth0");
        netns.exec(ns, "ip", "route", "add", "default", "via", GATEWAY4);
        netns.exec(ns, "ip", "-6", "route", "add", GATEWAY6, "dev", "eth0");
        netns.exec(ns, "ip", "-6", "route", "add", "default", "via", GATEWAY6);

        netns.exec(host, "ip", "addr", "add", GATEWAY4 + "/32", "dev", iface);
        netns.exec(host, "ip", "-6", "addr", "add", GATEWAY6 + "/128", "dev", iface, "nodad");
        netns.exec(host, "ip", "route", "add", v4 + "/32", "dev", iface);
        netns.exec(host, "ip", "-6", "route", "add", v6 + "/128", "dev", iface);

        workloads.put(name, new Workload(ns, listening(ns), v4, v6, iface, mac));
    }

    private Probe listening(String ns) {
        Probe probe = netns.probe(ns);
        for (int port : PORTS) {
            probe.listen(port);
        }
        return probe;
    }

    public Workload w(String name) {
        return workloads.get(name);
    }

    /** Compiles {@code policy} into {@code out} with the default options. */
    static Path compile(String policy, Path dir) throws IOException {
        Path src = dir.resolve("src");
        Files.createDirectories(src);
        Files.writeString(src.resolve("policy.calico"), policy);
        Compilation c = new PolicyCompiler(src).compile(List.of(src));
        assertThat(c.hasErrors()).as(c.diagnostics().toString()).isFalse();
        Path out = dir.resolve("out");
        OutputWriter.write(c, CompileOptions.DEFAULTS, out);
        return out;
    }

    /** Runs {@code calico-agent apply --host compute-01 OUT} in the host namespace. */
    NetworkNamespaces.Result apply(Path out) {
        return netns.runJava(
                host, CalicoAgent.class.getName(), "apply", "--host", HOST_NAME, out.toString());
    }

    /** Applies and fails the test unless it worked; returns what the agent printed. */
    String applyOk(Path out) {
        NetworkNamespaces.Result r = apply(out);
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        return r.stdout();
    }

    /**
     * True when {@code from} makes a TCP connection to {@code address:port} that reaches a probe.
     */
    public String tcp(Probe from, String address, int port) {
        return from.connect(address, port, null, 1000);
    }

    /** True when one ping from namespace {@code ns} to {@code address} is answered. */
    boolean ping(String ns, String address) {
        List<String> cmd = new ArrayList<>(List.of("ping", "-c", "1", "-W", "1", "-n"));
        if (address.contains(":")) {
            cmd.add("-6");
        }
        cmd.add(address);
        return netns.tryExec(ns, "", cmd.toArray(String[]::new)).ok();
    }

    /**
     * The host namespace's kernel state that apply may touch: the ipsets (members sorted, without
     * their random seeds) and the filter and nat tables of both families, without counters.
     */
    String kernelState() {
        StringBuilder state = new StringBuilder();
        List<String> sets = new ArrayList<>();
        for (String line : netns.exec(host, "ipset", "save").split("\n")) {
            sets.add(line.replaceAll(" initval 0x[0-9a-f]+", ""));
        }
        sets.sort(null);
        state.append(String.join("\n", sets)).append('\n');
        for (String tool : List.of("iptables-save", "ip6tables-save")) {
            for (String table : List.of("filter", "nat")) {
                for (String line : netns.exec(host, tool, "-t", table).split("\n")) {
                    if (!line.startsWith("#")) {
                        state.append(line.replaceAll("\\[[0-9]+:[0-9]+\\]", "")).append('\n');
                    }
                }
            }
        }
        return state.toString();
    }

    @Override
    public void close() {
        netns.close();
    }
}
