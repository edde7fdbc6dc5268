package dev.calicopolicy.dsl;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One test per check of the language: the exact message, line and column. */
class PolicyCheckerTest {
    @TempDir Path dir;

    private static final String ENDPOINT_FIELDS =
            "interface tap1; mac 02:00:00:00:00:01; profiles p; ipv4 198.51.100.1/32;";

    private Sources sources() {
        return new Sources(dir);
    }

    private static String host(String endpointBody) {
        return "profile p {}\nhost h1 {\n  workload k8s w1 {\n    endpoint e1 { "
                + endpointBody
                + " }\n  }\n}\n";
    }

    @Test
    void acceptsEveryFormOfTheLanguage() {
        Compilation c =
                sources()
                        .file(
                                "common/nets.calico",
                                """
                                net office = 203.0.113.0/24;
                                net resolvers = 192.0.2.53/32, 2001:db8::53/128;
                                ports web = 80, 443, 8000:8080;
                                """)
                        .file(
                                "web.calico",
                                """
                                // line comment; # line comment; /* block comment */
                                import "common/nets.calico";
                                # hash comment
                                /* block
                                   comment */
                                profile web {
                                  tags web, frontend;
                                  inbound {
                                    allow tcp from tag lb to ports web;
                                    allow tcp from net office to port 22;
                                    allow icmp type 8;
                                    allow icmpv6 type 128 code 0;
                                    deny udp from net 198.51.100.0/24;
                                    allow 47;
                                    allow;
                                  }
                                  outbound {
                                    allow udp to net resolvers port 53;
                                    allow tcp to tag db port 5432;
                                  }
                                }
                                profile lb { tags lb, db; }
                                host compute-01 {
                                  workload openstack vm-0001 {
                                    endpoint ep1 {
                                      interface tap0001;
                                      mac 02:00:00:00:00:01;
                                      state active;
                                      profiles web, lb;
                                      ipv4 198.51.100.17/32;
                                      ipv6 2001:db8::17/128;
                                      gateway 198.51.100.1;
                                      gateway 2001:db8::1;
                                      nat 203.0.113.17 -> 198.51.100.17;
                                    }
                                  }
                                }
                                """)
                        .compile();

        assertThat(c.diagnostics()).isEmpty();
        var web = c.policy().orElseThrow().profile("web");
        assertThat(web.inboundRules()).hasSize(7);
        assertThat(web.outboundRules()).hasSize(3);
        assertThat(web.outboundRules().get(1).dstNet()).hasToString("2001:db8::53/128");
    }

    @Test
    void reportsOneClearMessageForASyntaxError() {
        assertThat(
                        sources()
                                .file(
                                        "a.calico",
                                        "profile web {\n  inbound {\n    allow tcp to port 80\n  }\n}\n")
                                .messages())
                .containsExactly("a.calico:4:3: error: expected ';' but found '}'");
    }

    @Test
    void reportsAnUnexpectedCharacter() {
        assertThat(sources().file("a.calico", "net x = 192.0.2.0/24 @;\n").messages())
                .containsExactly("a.calico:1:22: error: unexpected character '@'");
    }

    @Test
    void reportsSyntaxErrorsOfEveryFile() {
        assertThat(
                        sources()
                                .file("a.calico", "profile {}\n")
                                .file("b.calico", "net x 192.0.2.0/24;\n")
                                .messages())
                .containsExactly(
                        "a.calico:1:9: error: expected a name or value but found '{'",
                        "b.calico:1:7: error: expected '=' but found '192.0.2.0/24'");
    }

    @Test
    void rejectsInvalidIdentifiers() {
        assertThat(sources().file("a.calico", "profile we/b {}\n").messages())
                .containsExactly(
                        "a.calico:1:9: error: invalid profile name 'we/b': use only letters,"
                                + " digits, '_', '.' and '-'");
    }

    @Test
    void rejectsAnInvalidMacAndPrintsValidOnesCanonically() {
        assertThat(
                        sources()
                                .file(
                                        "a.calico",
                                        host("interface tap1; mac 02:00:00:00:00; profiles p;"))
                                .messages())
                .containsExactly(
                        "a.calico:4:39: error: invalid MAC address '02:00:00:00:00': expected six"
                                + " pairs of hex digits such as 02:00:00:00:00:01");

        Compilation ok =
                sources()
                        .file(
                                "a.calico",
                                host("interface tap1; mac 02-AB-00-00-00-0F; profiles p;"))
                        .compile();
        assertThat(ok.policy().orElseThrow().endpoints().get(0).mac())
                .isEqualTo("02:ab:00:00:00:0f");
    }

    @Test
    void rejectsAnInvalidCidr() {
        assertThat(sources().file("a.calico", "net x = 192.0.2.300/24;\n").messages())
                .singleElement()
                .asString()
                .startsWith("a.calico:1:9: error: invalid CIDR '192.0.2.300/24'");
    }

    @Test
    void warnsAboutHostBitsWithTheCanonicalForm() {
        Compilation c =
                sources().file("a.calico", "net x = 192.0.2.7/24, 2001:DB8::1/32;\n").compile();
        assertThat(c.diagnostics().stream().map(Diagnostic::toString))
                .containsExactly(
                        "a.calico:1:9: warning: CIDR '192.0.2.7/24' has host bits set; it means"
                                + " 192.0.2.0/24, write that",
                        "a.calico:1:23: warning: CIDR '2001:DB8::1/32' has host bits set; it means"
                                + " 2001:db8::/32, write that");
        assertThat(c.hasErrors()).isFalse();
    }

    @Test
    void requiresSingleAddressesAsEndpointNets() {
        assertThat(
                        sources()
                                .file("a.calico", host(ENDPOINT_FIELDS + " ipv6 2001:db8::/64;"))
                                .messages())
                .containsExactly(
                        "a.calico:4:97: error: endpoint nets must be single addresses (/128), found"
                                + " 2001:db8::/64");
    }

    @Test
    void rejectsAnAddressOfTheWrongFamily() {
        assertThat(
                        sources()
                                .file("a.calico", host(ENDPOINT_FIELDS + " ipv6 198.51.100.2;"))
                                .messages())
                .containsExactly(
                        "a.calico:4:97: error: 'ipv6' needs an IPv6 address, found IPv4"
                                + " 198.51.100.2/32");
    }

    @Test
    void requiresTheNatInnerAddressToBeOneOfTheEndpointsNets() {
        assertThat(
                        sources()
                                .file(
                                        "a.calico",
                                        host(ENDPOINT_FIELDS + " nat 203.0.113.5 -> 198.51.100.9;"))
                                .messages())
                .containsExactly(
                        "a.calico:4:111: error: NAT inner address 198.51.100.9 is not one of"
                                + " endpoint 'e1''s IPv4 nets (198.51.100.1/32)");
    }

    @Test
    void rejectsANatMappingAcrossFamilies() {
        assertThat(
                        sources()
                                .file(
                                        "a.calico",
                                        host(ENDPOINT_FIELDS + " nat 2001:db8::5 -> 198.51.100.1;"))
                                .messages())
                .containsExactly(
                        "a.calico:4:96: error: NAT maps IPv6 address 2001:db8::5 to IPv4 address"
                                + " 198.51.100.1; both sides must be of one family");
    }

    @Test
    void rejectsAPortOutOfRange() {
        assertThat(
                        sources()
                                .file(
                                        "a.calico",
                                        "profile p { inbound { allow tcp to port 70000; } }\n")
                                .messages())
                .containsExactly("a.calico:1:41: error: port 70000 out of range 0-65535");
    }

    @Test
    void rejectsAPortRangeThatDoesNotGoUp() {
        assertThat(sources().file("a.calico", "ports p = 8080:80;\n").messages())
                .containsExactly(
                        "a.calico:1:11: error: port range 8080:80 must go from a lower to a higher"
                                + " port (N:M with N < M)");
    }

    @Test
    void rejectsPortRangeWithoutProtocol() {
        assertThat(
                        sources()
                                .file(
                                        "a.calico",
                                        "profile p { inbound { allow to port 1000:2000; } }\n")
                                .messages())
                .containsExactly(
                        "a.calico:1:37: error: ports need protocol tcp, udp, sctp or udplite; give"
                                + " one after the action");
    }

    @Test
    void rejectsPortsWithIcmp() {
        assertThat(
                        sources()
                                .file(
                                        "a.calico",
                                        "profile p { inbound { allow icmp to port 80; } }\n")
                                .messages())
                .containsExactly(
                        "a.calico:1:42: error: ports need protocol tcp, udp, sctp or udplite, but"
                                + " the rule's protocol is icmp");
    }

    @Test
    void rejectsIcmpTypeWithoutIcmp() {
        assertThat(
                        sources()
                                .file("a.calico", "profile p { inbound { allow tcp type 8; } }\n")
                                .messages())
                .containsExactly(
                        "a.calico:1:38: error: 'type' needs protocol icmp or icmpv6, but the rule's"
                                + " protocol is tcp");
    }

    @Test
    void rejectsIcmpTypeOutOfRange() {
        assertThat(
                        sources()
                                .file(
                                        "a.calico",
                                        "profile p { inbound { allow icmp type 255 code 300; } }\n")
                                .messages())
                .containsExactly(
                        "a.calico:1:39: error: ICMP type 255 out of range 0-254",
                        "a.calico:1:48: error: ICMP code 300 out of range 0-254");
    }

    @Test
    void rejectsARuleMixingIpv4AndIpv6() {
        assertThat(
                        sources()
                                .file(
                                        "a.calico",
                                        "profile p { inbound { allow from net 192.0.2.0/24 to net 2001:db8::/32; } }\n")
                                .messages())
                .containsExactly(
                        "a.calico:1:23: error: rule mixes IPv4 and IPv6: source net 192.0.2.0/24 is"
                                + " IPv4 but destination net 2001:db8::/32 is IPv6");
    }

    @Test
    void rejectsIcmpWithIpv6Nets() {
        assertThat(
                        sources()
                                .file(
                                        "a.calico",
                                        "profile p { inbound { allow icmp from net 2001:db8::/32; } }\n")
                                .messages())
                .containsExactly(
                        "a.calico:1:23: error: protocol icmp is IPv4 only, but net 2001:db8::/32 is"
                                + " IPv6 (use icmpv6)");
    }

    @Test
    void expandsNamedListsOfBothFamiliesPerFamily() {
        Compilation c =
                sources()
                        .file(
                                "a.calico",
                                """
                                net dns = 192.0.2.53/32, 2001:db8::53/128;
                                net clients = 198.51.100.0/24;
                                profile p { outbound { allow udp from net clients to net dns port 53; } }
                                """)
                        .compile();
        assertThat(c.diagnostics()).isEmpty();
        assertThat(c.policy().orElseThrow().profile("p").outboundRules())
                .singleElement()
                .satisfies(r -> assertThat(r.dstNet()).hasToString("192.0.2.53/32"));
    }

    @Test
    void expandsSeveralTagsAndNetsInOrder() {
        Compilation c =
                sources()
                        .file(
                                "a.calico",
                                """
                                profile a { tags x, y; }
                                profile p { inbound { allow tcp from tag x, y net 192.0.2.0/25, 192.0.2.128/25; } }
                                """)
                        .compile();
        assertThat(c.policy().orElseThrow().profile("p").inboundRules())
                .extracting(r -> r.srcTag() + " " + r.srcNet())
                .containsExactly(
                        "x 192.0.2.0/25", "x 192.0.2.128/25", "y 192.0.2.0/25", "y 192.0.2.128/25");
    }

    @Test
    void suggestsTheNearestNameForAnUnknownProfile() {
        assertThat(
                        sources()
                                .file(
                                        "a.calico",
                                        "profile web {}\nhost h { workload o w { endpoint e { interface"
                                                + " tap1; mac 02:00:00:00:00:01; profiles webb; } } }\n")
                                .messages())
                .containsExactly(
                        "a.calico:2:86: error: unknown profile 'webb' (did you mean 'web'?)");
    }

    @Test
    void suggestsTheNearestNameForAnUnknownNetAndPortSet() {
        assertThat(
                        sources()
                                .file(
                                        "a.calico",
                                        """
                                        net office = 203.0.113.0/24;
                                        ports web = 80, 443;
                                        profile p { inbound { allow tcp from net ofice to ports wbe; } }
                                        """)
                                .messages())
                .containsExactly(
                        "a.calico:3:42: error: unknown net 'ofice' (did you mean 'office'?)",
                        "a.calico:3:57: error: unknown port set 'wbe' (did you mean 'web'?)");
    }

    @Test
    void suggestsAProtocol() {
        assertThat(sources().file("a.calico", "profile p { inbound { allow tpc; } }\n").messages())
                .containsExactly(
                        "a.calico:1:29: error: unknown protocol 'tpc' (expected tcp, udp, icmp,"
                                + " icmpv6, sctp, udplite or a number 1-255); did you mean 'tcp'?");
    }

    @Test
    void warnsAboutATagThatNoProfileGives() {
        Compilation c =
                sources()
                        .file(
                                "a.calico",
                                "profile p { tags frontend; inbound { allow from tag frontnd; } }\n")
                        .compile();
        assertThat(c.diagnostics().stream().map(Diagnostic::toString))
                .containsExactly(
                        "a.calico:1:53: warning: tag 'frontnd' is given by no profile, so it"
                                + " matches nothing (did you mean 'frontend'?)");
        assertThat(c.policy()).isPresent();
    }

    @Test
    void rejectsANameDefinedTwiceNamingBothPlaces() {
        assertThat(
                        sources()
                                .file("a.calico", "profile web {}\n")
                                .file("b.calico", "\n  profile web {}\n")
                                .messages())
                .containsExactly(
                        "b.calico:2:11: error: profile 'web' is defined twice (first at"
                                + " a.calico:1:9)");
    }

    @Test
    void rejectsTwoEndpointsClaimingOneAddress() {
        assertThat(
                        sources()
                                .file(
                                        "a.calico",
                                        """
                                        profile p {}
                                        host h {
                                          workload o w1 { endpoint e { interface tap1; mac 02:00:00:00:00:01; profiles p; ipv4 198.51.100.1; } }
                                          workload o w2 { endpoint e { interface tap2; mac 02:00:00:00:00:02; profiles p; ipv4 198.51.100.1; } }
                                        }
                                        """)
                                .messages())
                .containsExactly(
                        "a.calico:4:88: error: address 198.51.100.1/32 is claimed by two endpoints"
                                + " (first at a.calico:3:88)");
    }

    @Test
    void rejectsTwoEndpointsOnOneHostSharingAnInterface() {
        assertThat(
                        sources()
                                .file(
                                        "a.calico",
                                        """
                                        profile p {}
                                        host h {
                                          workload o w1 { endpoint e { interface tap1; mac 02:00:00:00:00:01; profiles p; } }
                                          workload o w2 { endpoint e { interface tap1; mac 02:00:00:00:00:02; profiles p; } }
                                        }
                                        host h2 { workload o w3 { endpoint e { interface tap1; mac 02:00:00:00:00:03; profiles p; } } }
                                        """)
                                .messages())
                .containsExactly(
                        "a.calico:4:42: error: interface 'tap1' is used by two endpoints on host"
                                + " 'h' (first at a.calico:3:42)");
    }

    @Test
    void rejectsAnInterfaceNameOverFifteenCharacters() {
        assertThat(
                        sources()
                                .file(
                                        "a.calico",
                                        host(
                                                "interface tap0123456789abcd; mac 02:00:00:00:00:01; profiles p;"))
                                .messages())
                .containsExactly(
                        "a.calico:4:29: error: interface name 'tap0123456789abcd' is 17 characters"
                                + " long; Linux allows at most 15");
    }

    @Test
    void requiresAnInterfaceAndAMac() {
        assertThat(sources().file("a.calico", host("profiles p;")).messages())
                .containsExactly(
                        "a.calico:4:14: error: endpoint 'e1' needs a 'mac' (Calico's agent rejects"
                                + " endpoints without one)",
                        "a.calico:4:14: error: endpoint 'e1' needs an 'interface' (the name of its"
                                + " Linux interface)");
    }

    @Test
    void rejectsAnUnknownState() {
        assertThat(sources().file("a.calico", host(ENDPOINT_FIELDS + " state down;")).messages())
                .containsExactly(
                        "a.calico:4:98: error: unknown state 'down' (expected active or inactive)");
    }

    @Test
    void rejectsTwoGatewaysOfOneFamily() {
        assertThat(
                        sources()
                                .file(
                                        "a.calico",
                                        host(
                                                ENDPOINT_FIELDS
                                                        + " gateway 198.51.100.254; gateway 198.51.100.253;"))
                                .messages())
                .containsExactly(
                        "a.calico:4:124: error: endpoint 'e1' has two IPv4 gateways; give one per"
                                + " family");
    }

    @Test
    void rejectsAnImportCycle() {
        assertThat(
                        sources()
                                .file("a.calico", "import \"b.calico\";\n")
                                .file("b.calico", "import \"a.calico\";\n")
                                .messages())
                .containsExactly(
                        "b.calico:1:8: error: import cycle: a.calico -> b.calico -> a.calico");
    }

    @Test
    void rejectsAMissingImport() {
        assertThat(sources().file("a.calico", "import \"nets/none.calico\";\n").messages())
                .containsExactly(
                        "a.calico:1:8: error: cannot import 'nets/none.calico': no such file"
                                + " (nets/none.calico)");
    }

    @Test
    void readsAnImportedFileOnceEvenWhenAlsoGiven() {
        Compilation c =
                sources()
                        .file("a.calico", "import \"b.calico\";\nprofile a {}\n")
                        .file("b.calico", "profile b {}\n")
                        .compile();
        assertThat(c.diagnostics()).isEmpty();
        assertThat(c.inputs())
                .extracting(Compilation.InputFile::displayPath)
                .containsExactly("a.calico", "b.calico");
    }

    @Test
    void reportsEveryErrorOfAFileSortedByPosition() {
        assertThat(
                        sources()
                                .file(
                                        "a.calico",
                                        """
                                        profile p {
                                          inbound {
                                            allow tcp to port 70000;
                                            allow udp from net nowhere;
                                            allow icmp to port 1;
                                          }
                                        }
                                        """)
                                .messages())
                .containsExactly(
                        "a.calico:3:23: error: port 70000 out of range 0-65535",
                        "a.calico:4:24: error: unknown net 'nowhere'",
                        "a.calico:5:24: error: ports need protocol tcp, udp, sctp or udplite, but"
                                + " the rule's protocol is icmp");
    }

    @Test
    void readsEndpointsFromAYamlInventory() {
        Compilation c =
                sources()
                        .file("p.calico", "profile web { tags web; }\n")
                        .file(
                                "hosts.calico.yaml",
                                """
                                hosts:
                                  - name: compute-02
                                    workloads:
                                      - orchestrator: k8s
                                        id: shop.web-1
                                        endpoints:
                                          - id: eth0
                                            interface: cali1234
                                            mac: 02:00:00:00:00:0a
                                            profiles: [web]
                                            ipv4: [198.51.100.20/32]
                                            ipv6: ["2001:db8::20/128"]
                                            gateway: [198.51.100.1]
                                            nat: [{out: 203.0.113.20, in: 198.51.100.20}]
                                """)
                        .compile();
        assertThat(c.diagnostics()).isEmpty();
        var e = c.policy().orElseThrow().endpoints().get(0);
        assertThat(e.key().path())
                .isEqualTo("host/compute-02/workload/k8s/shop.web-1/endpoint/eth0");
        assertThat(e.ipv4Nat())
                .singleElement()
                .hasToString("Nat[outIp=203.0.113.20, inIp=198.51.100.20]");
    }

    @Test
    void reportsYamlInventoryProblemsAtTheirPosition() {
        assertThat(
                        sources()
                                .file("p.calico", "profile web {}\n")
                                .file(
                                        "hosts.calico.yaml",
                                        """
                                        hosts:
                                          - name: compute-02
                                            workloads:
                                              - orchestrator: k8s
                                                id: w
                                                endpoints:
                                                  - id: eth0
                                                    interfce: cali1
                                                    mac: 02:00:00:00:00:0a
                                                    profiles: [webb]
                                        """)
                                .messages())
                .containsExactly(
                        "hosts.calico.yaml:8:13: error: unknown field 'interfce' in an endpoint (did"
                                + " you mean 'interface'?)");
    }

    @Test
    void checksInventoryValuesLikeHostBlocks() {
        assertThat(
                        sources()
                                .file("p.calico", "profile web {}\n")
                                .file(
                                        "hosts.calico.yaml",
                                        """
                                        hosts:
                                          - name: compute-02
                                            workloads:
                                              - orchestrator: k8s
                                                id: w
                                                endpoints:
                                                  - id: eth0
                                                    interface: cali1
                                                    mac: 02:00:00:00:00:0a
                                                    profiles: [webb]
                                        """)
                                .messages())
                .containsExactly(
                        "hosts.calico.yaml:10:24: error: unknown profile 'webb' (did you mean"
                                + " 'web'?)");
    }
}
