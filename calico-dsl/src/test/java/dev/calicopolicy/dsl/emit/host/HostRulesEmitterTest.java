package dev.calicopolicy.dsl.emit.host;

import static org.assertj.core.api.Assertions.assertThat;

import dev.calicopolicy.dsl.Compilation;
import dev.calicopolicy.dsl.CompileOptions;
import dev.calicopolicy.dsl.PolicyCompiler;
import dev.calicopolicy.dsl.model.Direction;
import dev.calicopolicy.dsl.model.IpVersion;
import dev.calicopolicy.dsl.model.Policy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostRulesEmitterTest {
    @TempDir Path dir;

    private static final String PROFILES =
            """
            profile web {
              tags web;
              inbound { allow tcp from tag client to port 80; }
            }
            profile client { tags client; outbound { allow; } }
            """;

    private Policy compile(String source) throws IOException {
        Files.writeString(dir.resolve("policy.calico"), source);
        Compilation c = new PolicyCompiler(dir).compile(List.of(dir));
        assertThat(c.hasErrors()).as(c.diagnostics().toString()).isFalse();
        return c.policy().orElseThrow();
    }

    private static String endpoint(String host, int n, String profiles) {
        return "host "
                + host
                + " { workload o w"
                + n
                + " { endpoint e { interface tap"
                + n
                + "; mac 02:00:00:00:"
                + String.format("%02x:%02x", n / 256, n % 256)
                + "; profiles "
                + profiles
                + "; ipv4 198.51."
                + (100 + n / 250)
                + "."
                + (n % 250 + 1)
                + "/32; } } }\n";
    }

    private static long rules(String file) {
        return Arrays.stream(file.split("\n")).filter(l -> l.startsWith("-A ")).count();
    }

    @Test
    void ruleCountDoesNotGrowWithTagMembers() throws IOException {
        StringBuilder few = new StringBuilder(PROFILES).append(endpoint("h1", 1, "web"));
        few.append(endpoint("h2", 2, "client"));
        StringBuilder many = new StringBuilder(PROFILES).append(endpoint("h1", 1, "web"));
        for (int n = 2; n < 1000; n++) {
            many.append(endpoint("h2", n, "client"));
        }

        HostRules small =
                HostRulesEmitter.emit(compile(few.toString()), CompileOptions.DEFAULTS, "h1");
        HostRules large =
                HostRulesEmitter.emit(compile(many.toString()), CompileOptions.DEFAULTS, "h1");

        assertThat(rules(large.iptablesRules())).isEqualTo(rules(small.iptablesRules()));
        assertThat(large.iptablesRules()).isEqualTo(small.iptablesRules());
        assertThat(large.ipsetRules()).contains("add cali-v4-client 198.51.103.249");
        assertThat(large.ipsetRules().lines().filter(l -> l.startsWith("add cali-v4-client")))
                .hasSize(998);
    }

    @Test
    void hostFilesCarryOnlyTheSetsTheirRulesUse() throws IOException {
        Policy policy = compile(PROFILES + endpoint("h1", 1, "web") + endpoint("h2", 2, "client"));

        HostRules h1 = HostRulesEmitter.emit(policy, CompileOptions.DEFAULTS, "h1");
        HostRules h2 = HostRulesEmitter.emit(policy, CompileOptions.DEFAULTS, "h2");

        assertThat(h1.ipsetRules())
                .contains("create cali-v4-client hash:net family inet maxelem 65536")
                .contains("create cali-v6-client hash:net family inet6 maxelem 65536")
                .contains("add cali-v4-client 198.51.100.3")
                .doesNotContain("cali-v4-web");
        assertThat(h2.ipsetRules()).doesNotContain("create ");
    }

    @Test
    void splitsPortListsOverFifteenPortsCountingARangeAsTwo() throws IOException {
        Policy policy =
                compile(
                        """
                        profile p { inbound { allow tcp to ports 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                            11, 12, 13, 14, 20:30, 40; } }
                        """
                                + endpoint("h1", 1, "p"));

        String rules = HostRulesEmitter.emit(policy, CompileOptions.DEFAULTS, "h1").iptablesRules();

        assertThat(rules)
                .contains("-m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14 -j MARK")
                .contains("-m multiport --dports 20:30,40 -j MARK");
    }

    @Test
    void leavesRulesOfTheOtherFamilyOutOfEachFile() throws IOException {
        Policy policy =
                compile(
                        """
                        profile p { inbound {
                          allow tcp from net 192.0.2.0/24;
                          allow tcp from net 2001:db8::/32;
                          allow icmp type 8;
                          allow icmpv6 type 128;
                        } }
                        """
                                + endpoint("h1", 1, "p"));

        HostRules rules = HostRulesEmitter.emit(policy, CompileOptions.DEFAULTS, "h1");

        assertThat(rules.iptablesRules())
                .contains("-s 192.0.2.0/24 -p tcp", "-m icmp --icmp-type 8")
                .doesNotContain("2001:db8::/32", "icmp6");
        assertThat(rules.ip6tablesRules())
                .contains("-s 2001:db8::/32 -p tcp", "-m icmp6 --icmpv6-type 128")
                .doesNotContain("192.0.2.0/24", "--icmp-type");
    }

    @Test
    void filesDeclareOnlyPrefixedChainsAndNoJumpsFromBuiltInChains() throws IOException {
        Policy policy = compile(PROFILES + endpoint("h1", 1, "web"));
        CompileOptions options = new CompileOptions("felix-", CompileOptions.WorkloadToHost.DROP);

        HostRules rules = HostRulesEmitter.emit(policy, options, "h1");

        for (String file : List.of(rules.iptablesRules(), rules.ip6tablesRules())) {
            for (String line : file.split("\n")) {
                if (line.startsWith(":") || line.startsWith("-A ")) {
                    assertThat(line.substring(line.startsWith(":") ? 1 : 3)).startsWith("felix-");
                }
            }
        }
    }

    @Test
    void commentsPointBackToTheSourceLineAndRulePosition() throws IOException {
        Policy policy = compile(PROFILES + endpoint("h1", 1, "web"));

        String rules = HostRulesEmitter.emit(policy, CompileOptions.DEFAULTS, "h1").iptablesRules();

        assertThat(rules)
                .contains(
                        "-A cali-pi-web -p tcp -m comment --comment \"policy.calico:3 profile web"
                                + " inbound 1\" -m set --match-set cali-v4-client src");
    }

    @Test
    void namesOverTheKernelLimitsAreShortenedByAStableHash() {
        KernelNames names = new KernelNames("cali-");
        String longProfile = "a-profile-with-a-name-far-longer-than-iptables-allows";

        String inbound = names.profileChain(longProfile, Direction.INBOUND);
        String set = names.tagSet(longProfile, IpVersion.V6);

        assertThat(inbound)
                .hasSize(KernelNames.MAX_CHAIN)
                .startsWith("cali-pi-a-profile")
                .contains("~");
        assertThat(set).hasSize(KernelNames.MAX_SET).startsWith("cali-v6-a-profile").contains("~");
        assertThat(names.profileChain(longProfile, Direction.INBOUND)).isEqualTo(inbound);
        assertThat(names.profileChain(longProfile + "x", Direction.INBOUND)).isNotEqualTo(inbound);
        assertThat(names.profileChain("web", Direction.OUTBOUND)).isEqualTo("cali-po-web");
        assertThat(names.tagSet("web", IpVersion.V4)).isEqualTo("cali-v4-web");
    }
}
