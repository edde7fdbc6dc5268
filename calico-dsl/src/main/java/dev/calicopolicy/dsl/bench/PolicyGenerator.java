package dev.calicopolicy.dsl.bench;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Writes a synthetic but realistic policy repository of a given size: named nets and port sets,
 * profiles with tags and rules of every kind, and hosts with workloads and endpoints (one host file
 * in four as a YAML inventory). The same size and seed always give the same files.
 *
 * <p>IPv4 endpoint addresses come from 198.18.0.0/15 (the benchmarking range), IPv6 ones from
 * 2001:db8::/32; the policy is for compiling, not for carrying traffic.
 */
public final class PolicyGenerator {
    /** How big a policy to write. */
    public record Size(int hosts, int endpoints, int profiles, int rulesPerProfile) {
        public Size {
            if (hosts < 1 || endpoints < hosts || profiles < 1 || rulesPerProfile < 0) {
                throw new IllegalArgumentException(
                        "need at least one host, one endpoint per host and one profile");
            }
            if (endpoints > 131_000) {
                throw new IllegalArgumentException("at most 131,000 endpoints (198.18.0.0/15)");
            }
        }

        /** This size scaled by {@code factor} (at least one of each). */
        public Size scaled(double factor) {
            return new Size(
                    Math.max(1, (int) Math.round(hosts * factor)),
                    Math.max(1, (int) Math.round(endpoints * factor)),
                    Math.max(1, (int) Math.round(profiles * factor)),
                    rulesPerProfile);
        }

        public int tags() {
            return Math.max(1, profiles / 4);
        }
    }

    private static final int NETS = 20;
    private static final int PORT_SETS = 10;
    private static final int PROFILES_PER_FILE = 100;
    private static final int HOSTS_PER_FILE = 25;

    private final Size size;
    private final Random random;

    private PolicyGenerator(Size size, long seed) {
        this.size = size;
        this.random = new Random(seed);
    }

    /** Writes the policy into {@code dir} (which should be empty). */
    public static void write(Size size, long seed, Path dir) throws IOException {
        new PolicyGenerator(size, seed).writeAll(dir);
    }

    private void writeAll(Path dir) throws IOException {
        Files.createDirectories(dir);
        writeCommon(dir.resolve("common.calico"));
        for (int first = 0; first < size.profiles(); first += PROFILES_PER_FILE) {
            int last = Math.min(size.profiles(), first + PROFILES_PER_FILE);
            writeProfiles(
                    dir.resolve(String.format("profiles-%04d.calico", first / PROFILES_PER_FILE)),
                    first,
                    last);
        }
        int fileIndex = 0;
        for (int first = 0; first < size.hosts(); first += HOSTS_PER_FILE, fileIndex++) {
            int last = Math.min(size.hosts(), first + HOSTS_PER_FILE);
            if (fileIndex % 4 == 3) {
                writeInventory(
                        dir.resolve(String.format("hosts-%04d.calico.yaml", fileIndex)),
                        first,
                        last);
            } else {
                writeHosts(dir.resolve(String.format("hosts-%04d.calico", fileIndex)), first, last);
            }
        }
    }

    private void writeCommon(Path file) throws IOException {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            out.write("// Named networks and port sets shared by every profile.\n");
            for (int i = 0; i < NETS; i++) {
                if (i % 2 == 0) {
                    out.write("net net-" + i + " = 203.0.113." + (i * 8) + "/29;\n");
                } else {
                    out.write("net net-" + i + " = 2001:db8:ff" + i + "::/48;\n");
                }
            }
            for (int i = 0; i < PORT_SETS; i++) {
                out.write(
                        "ports ports-"
                                + i
                                + " = "
                                + (1000 + i)
                                + ", "
                                + (2000 + i * 10)
                                + ":"
                                + (2005 + i * 10)
                                + ", 443;\n");
            }
        }
    }

    private void writeProfiles(Path file, int first, int last) throws IOException {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            out.write("import \"common.calico\";\n\n");
            for (int p = first; p < last; p++) {
                out.write("profile " + profileName(p) + " {\n");
                out.write(
                        "  tags "
                                + tagName(p % size.tags())
                                + ", "
                                + tagName((p * 7 + 3) % size.tags())
                                + ";\n");
                int inbound = (size.rulesPerProfile() + 1) / 2;
                out.write("  inbound {\n");
                for (int r = 0; r < inbound; r++) {
                    out.write("    " + rule(r, inbound) + "\n");
                }
                out.write("  }\n  outbound {\n");
                for (int r = inbound; r < size.rulesPerProfile(); r++) {
                    out.write("    " + rule(r - inbound, size.rulesPerProfile() - inbound) + "\n");
                }
                out.write("  }\n}\n");
            }
        }
    }

    /** A rule of one of several kinds; the last rule of a direction may match everything. */
    private String rule(int index, int count) {
        if (index == count - 1 && random.nextInt(3) == 0) {
            return random.nextBoolean() ? "allow;" : "deny;";
        }
        String action = random.nextInt(5) == 0 ? "deny" : "allow";
        String tag = tagName(random.nextInt(size.tags()));
        int net = random.nextInt(NETS);
        return switch (random.nextInt(8)) {
            case 0 ->
                    action
                            + " tcp from tag "
                            + tag
                            + " to ports ports-"
                            + random.nextInt(PORT_SETS)
                            + ";";
            case 1 ->
                    action
                            + " udp from net net-"
                            + net
                            + " to port "
                            + (1 + random.nextInt(65000))
                            + ";";
            case 2 ->
                    action
                            + " tcp from net 198.51.100."
                            + (random.nextInt(16) * 16)
                            + "/28 to port "
                            + (1024 + random.nextInt(1000))
                            + ":"
                            + (3000 + random.nextInt(1000))
                            + ";";
            case 3 -> action + " icmp type " + (random.nextBoolean() ? 8 : 0) + ";";
            case 4 -> action + " icmpv6 type 128 code 0;";
            case 5 -> action + " tcp to tag " + tag + " port " + (1 + random.nextInt(65000)) + ";";
            case 6 -> action + " sctp from tag " + tag + " net net-" + net + ";";
            default ->
                    action
                            + " 47 from net 2001:db8:"
                            + Integer.toHexString(1 + random.nextInt(0xfff))
                            + "::/48;";
        };
    }

    private void writeHosts(Path file, int first, int last) throws IOException {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (int h = first; h < last; h++) {
                out.write("host " + hostName(h) + " {\n");
                for (int e = firstEndpoint(h); e < firstEndpoint(h + 1); e++) {
                    out.write("  workload openstack " + workloadName(e) + " {\n");
                    out.write("    endpoint eth0 {\n");
                    out.write("      interface " + interfaceName(e) + ";\n");
                    out.write("      mac " + mac(e) + ";\n");
                    if (e % 50 == 7) {
                        out.write("      state inactive;\n");
                    }
                    out.write("      profiles " + String.join(", ", endpointProfiles()) + ";\n");
                    out.write("      ipv4 " + ipv4(e) + ";\n");
                    out.write("      ipv6 " + ipv6(e) + ";\n");
                    out.write("      gateway 198.18.0.1;\n");
                    if (e % 100 == 11) {
                        out.write("      nat " + natIpv6(e) + " -> " + ipv6(e) + ";\n");
                    }
                    out.write("    }\n  }\n");
                }
                out.write("}\n");
            }
        }
    }

    private void writeInventory(Path file, int first, int last) throws IOException {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            out.write("# Endpoints as an orchestrator exports them.\nhosts:\n");
            for (int h = first; h < last; h++) {
                out.write("  - name: " + hostName(h) + "\n    workloads:\n");
                for (int e = firstEndpoint(h); e < firstEndpoint(h + 1); e++) {
                    out.write("      - orchestrator: k8s\n");
                    out.write("        id: " + workloadName(e) + "\n");
                    out.write("        endpoints:\n");
                    out.write("          - id: eth0\n");
                    out.write("            interface: " + interfaceName(e) + "\n");
                    out.write("            mac: \"" + mac(e) + "\"\n");
                    out.write(
                            "            profiles: ["
                                    + String.join(", ", endpointProfiles())
                                    + "]\n");
                    out.write("            ipv4: [" + ipv4(e) + "]\n");
                    out.write("            ipv6: [\"" + ipv6(e) + "\"]\n");
                    if (e % 100 == 11) {
                        out.write(
                                "            nat: [{out: \""
                                        + natIpv6(e)
                                        + "\", in: \""
                                        + ipv6(e)
                                        + "\"}]\n");
                    }
                }
            }
        }
    }

    private String[] endpointProfiles() {
        int count = 1 + random.nextInt(3);
        String[] names = new String[count];
        int start = random.nextInt(size.profiles());
        for (int i = 0; i < count; i++) {
            names[i] = profileName((start + i * 13) % size.profiles());
        }
        return java.util.Arrays.stream(names).distinct().toArray(String[]::new);
    }

    /** Endpoints spread evenly over hosts: host h has endpoints [first(h), first(h+1)). */
    private int firstEndpoint(int host) {
        return (int) ((long) host * size.endpoints() / size.hosts());
    }

    static String profileName(int p) {
        return String.format("prof-%05d", p);
    }

    static String tagName(int t) {
        return String.format("tag-%04d", t);
    }

    static String hostName(int h) {
        return String.format("compute-%04d", h);
    }

    private static String workloadName(int e) {
        return String.format("vm-%06d", e);
    }

    private static String interfaceName(int e) {
        return String.format("tap%06x", e);
    }

    private static String mac(int e) {
        return String.format(
                "02:00:00:%02x:%02x:%02x", (e >> 16) & 0xff, (e >> 8) & 0xff, e & 0xff);
    }

    private static String ipv4(int e) {
        int n = e + 2;
        return "198." + (18 + (n >> 16)) + "." + ((n >> 8) & 0xff) + "." + (n & 0xff) + "/32";
    }

    private static String ipv6(int e) {
        int n = e + 2;
        return "2001:db8:1::"
                + Integer.toHexString(n >> 16)
                + ":"
                + Integer.toHexString(n & 0xffff)
                + "/128";
    }

    private static String natIpv6(int e) {
        int n = e + 2;
        return "2001:db8:2::"
                + Integer.toHexString(n >> 16)
                + ":"
                + Integer.toHexString(n & 0xffff);
    }
}
