package dev.calicopolicy.agent.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.calicopolicy.agent.etcd.EtcdSettings;
import dev.calicopolicy.testkit.EtcdServer;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Publishing against a real single-member etcd, read back with etcdctl. */
class PublishTest {
    static final String V1 =
            """
            profile web {
              tags web;
              inbound { allow tcp from tag web to port 80; }
              outbound { allow; }
            }
            profile db {
              tags db;
              inbound { allow tcp from tag web to port 5432; }
              outbound { allow; }
            }
            host compute-01 {
              workload openstack vm-1 {
                endpoint ep1 {
                  interface tap1; mac 02:00:00:00:00:01; profiles web; ipv4 198.51.100.1/32;
                }
              }
              workload openstack vm-2 {
                endpoint ep2 {
                  interface tap2; mac 02:00:00:00:00:02; profiles db; ipv4 198.51.100.2/32;
                }
              }
            }
            """;

    /** V1 with the web profile's port changed. */
    static final String V1_WEB_CHANGED = V1.replace("to port 80;", "to port 8080;");

    /** V1 without the db profile and the endpoint that used it. */
    static final String V1_WITHOUT_DB =
            """
            profile web {
              tags web;
              inbound { allow tcp from tag web to port 80; }
              outbound { allow; }
            }
            host compute-01 {
              workload openstack vm-1 {
                endpoint ep1 {
                  interface tap1; mac 02:00:00:00:00:01; profiles web; ipv4 198.51.100.1/32;
                }
              }
            }
            """;

    static final String EP2 = "/calico/v1/host/compute-01/workload/openstack/vm-2/endpoint/ep2";
    static final String WEB_RULES = "/calico/v1/policy/profile/web/rules";

    static EtcdServer etcd;
    static Client client;

    @TempDir Path work;

    @BeforeAll
    static void startEtcd() throws IOException {
        etcd = EtcdServer.start();
        client = EtcdSettings.of(etcd.clientUrls()).connect();
    }

    @AfterAll
    static void stopEtcd() {
        if (client != null) {
            client.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    @BeforeEach
    void emptyEtcd() {
        etcd.etcdctl("del", "", "--from-key");
    }

    private AgentCli publish(Path dir, String... extra) {
        String[] args = new String[extra.length + 4];
        args[0] = "publish";
        args[1] = "--etcd";
        args[2] = etcd.clientUrls();
        System.arraycopy(extra, 0, args, 3, extra.length);
        args[args.length - 1] = dir.toString();
        return AgentCli.run(args);
    }

    @Test
    void publishesExactlyTheBundlesKeysAndValues() throws IOException {
        Path out = OutputFixture.compile(work, "v1", V1);

        AgentCli run = publish(out);

        assertThat(run.exitCode()).as(run.toString()).isZero();
        long revision = EtcdContents.revision(etcd);
        // 6 keys of the bundle; 3 host files of one part each and their index.
        assertThat(run.out())
                .isEqualTo(
                        "published 10 keys (0 deleted) in 1 transaction, revision "
                                + revision
                                + "\n");
        assertThat(EtcdContents.read(etcd, "/calico/v1/").values())
                .isEqualTo(OutputFixture.entriesOf(out));
        assertThat(hostFiles("compute-01"))
                .isEqualTo(OutputFixture.hostFilesOf(out, "compute-01"))
                .containsOnlyKeys("ipset.rules", "iptables.rules", "ip6tables.rules");
        assertThat(EtcdContents.read(etcd, "/calico-policy/").values())
                .containsKey(Keyspace.PUBLISHED)
                .doesNotContainKeys(Keyspace.PENDING, Keyspace.LOCK);
    }

    @Test
    void publishingTheSameBundleAgainWritesNothing() {
        Path out = OutputFixture.compile(work, "v1", V1);
        assertThat(publish(out).exitCode()).isZero();
        long before = EtcdContents.revision(etcd);

        AgentCli again = publish(out);

        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(again.out())
                .isEqualTo(
                        "published 0 keys (0 deleted) in 0 transactions, revision "
                                + before
                                + "\n");
        assertThat(EtcdContents.revision(etcd)).isEqualTo(before);
    }

    @Test
    void changingOneProfileWritesOnlyItsKeys() throws Exception {
        assertThat(publish(OutputFixture.compileBundleOnly(work, "v1", V1)).exitCode()).isZero();
        long before = EtcdContents.revision(etcd);
        Path changed = OutputFixture.compileBundleOnly(work, "v2", V1_WEB_CHANGED);

        PublishResult result =
                new BundlePublisher(client).publish(changed, PublishOptions.defaults());

        assertThat(result.keys()).isEqualTo(1);
        assertThat(result.transactions()).isEqualTo(1);
        assertThat(result.plan().changed()).containsExactly(WEB_RULES);
        EtcdContents now = EtcdContents.read(etcd, "/calico/v1/");
        assertThat(now.changedAfter(before).keySet()).containsExactly(WEB_RULES);
        assertThat(now.values()).isEqualTo(OutputFixture.entriesOf(changed));
        assertThat(now.revision()).isEqualTo(before + 1);
    }

    @Test
    void changingOneProfileRewritesOnlyTheHostFilesThatChange() throws Exception {
        String twoHosts =
                V1.replace(
                        """
                          workload openstack vm-2 {""",
                        """
                        }
                        host compute-02 {
                          workload openstack vm-2 {""");
        Path first = OutputFixture.compile(work, "v1", twoHosts);
        assertThat(publish(first).exitCode()).isZero();
        long before = EtcdContents.revision(etcd);
        Path second =
                OutputFixture.compile(work, "v2", twoHosts.replace("to port 80;", "to port 8080;"));

        AgentCli run = publish(second);

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(EtcdContents.read(etcd, "/calico/v1/").changedAfter(before).keySet())
                .containsExactly(WEB_RULES);
        assertThat(EtcdContents.read(etcd, "/calico-policy/hosts/").changedAfter(before))
                .isNotEmpty()
                .allSatisfy((k, v) -> assertThat(k).startsWith("/calico-policy/hosts/compute-01/"));
        for (String host : new String[] {"compute-01", "compute-02"}) {
            assertThat(hostFiles(host)).isEqualTo(OutputFixture.hostFilesOf(second, host));
        }
        assertThat(OutputFixture.hostFilesOf(first, "compute-01"))
                .isNotEqualTo(OutputFixture.hostFilesOf(second, "compute-01"));
    }

    @Test
    void deletesTheKeysItPublishedThatTheBundleDropped() throws IOException {
        assertThat(publish(OutputFixture.compileBundleOnly(work, "v1", V1)).exitCode()).isZero();
        Path smaller = OutputFixture.compileBundleOnly(work, "v3", V1_WITHOUT_DB);

        AgentCli run = publish(smaller);

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).startsWith("published 3 keys (3 deleted) in 1 transaction");
        assertThat(EtcdContents.read(etcd, "/calico/v1/").values())
                .isEqualTo(OutputFixture.entriesOf(smaller));
    }

    @Test
    void keysWrittenBySomeoneElseUnderCalicoV1SurviveEveryPublish() throws IOException {
        Map<String, String> foreign =
                Map.of(
                        "/calico/v1/policy/profile/theirs/rules", "{\"inbound_rules\":[]}",
                        "/calico/v1/host/other/workload/k8s/pod/endpoint/eth0", "{\"x\":1}",
                        "/calico/v1/config/LogSeverityFile", "none");
        foreign.forEach((k, v) -> etcd.etcdctl("put", k, v));

        for (String source : new String[] {V1, V1_WEB_CHANGED, V1_WITHOUT_DB, ""}) {
            Path out = OutputFixture.compile(work, "p" + source.length(), source);
            AgentCli run = publish(out);
            assertThat(run.exitCode()).as(run.toString()).isZero();

            SortedMap<String, String> expected =
                    OutputFixture.merged(foreign, OutputFixture.entriesOf(out));
            assertThat(EtcdContents.read(etcd, "/calico/v1/").values()).isEqualTo(expected);
        }
    }

    @Test
    void aDroppedKeySomeoneElseChangedIsLeftInPlace() throws Exception {
        assertThat(publish(OutputFixture.compileBundleOnly(work, "v1", V1)).exitCode()).isZero();
        etcd.etcdctl("put", EP2, "{\"changed\":\"by hand\"}");

        PublishResult result =
                new BundlePublisher(client)
                        .publish(
                                OutputFixture.compileBundleOnly(work, "v3", V1_WITHOUT_DB),
                                PublishOptions.defaults());

        assertThat(result.plan().kept()).containsExactly(EP2);
        assertThat(result.plan().removed()).doesNotContain(EP2).hasSize(2);
        assertThat(EtcdContents.read(etcd, "/calico/v1/").values())
                .containsEntry(EP2, "{\"changed\":\"by hand\"}");

        // No longer owned: a later publish without it does not even consider it.
        PublishResult later =
                new BundlePublisher(client)
                        .publish(
                                OutputFixture.compile(work, "empty", ""),
                                PublishOptions.defaults());
        assertThat(later.plan().kept()).isEmpty();
        assertThat(EtcdContents.read(etcd, "/calico/v1/").values()).containsOnlyKeys(EP2);
    }

    @Test
    void verifyRewritesAKeyChangedByHandThatAPlainPublishTrustsTheRecordFor() throws Exception {
        Path out = OutputFixture.compile(work, "v1", V1);
        assertThat(publish(out).exitCode()).isZero();
        etcd.etcdctl("put", WEB_RULES, "{\"inbound_rules\":[],\"outbound_rules\":[]}");

        AgentCli plain = publish(out);
        assertThat(plain.out()).startsWith("published 0 keys");

        AgentCli verified = publish(out, "--verify");
        assertThat(verified.exitCode()).as(verified.toString()).isZero();
        assertThat(verified.out()).startsWith("published 1 key (0 deleted) in 1 transaction");
        assertThat(EtcdContents.read(etcd, "/calico/v1/").values())
                .isEqualTo(OutputFixture.entriesOf(out));
    }

    @Test
    void dryRunPrintsThePlanAndWritesNothing() {
        assertThat(publish(OutputFixture.compileBundleOnly(work, "v1", V1)).exitCode()).isZero();
        long before = EtcdContents.revision(etcd);
        String next =
                V1_WITHOUT_DB
                        + "profile extra { tags extra; inbound { allow; } outbound { allow; } }\n";
        Path out =
                OutputFixture.compileBundleOnly(
                        work, "v4", next.replace("to port 80;", "to port 81;"));

        AgentCli run = publish(out, "--dry-run");

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out())
                .isEqualTo(
                        """
                        plan: 2 added, 1 changed, 3 removed, 0 kept, 2 unchanged; 1 transaction
                        + /calico/v1/policy/profile/extra/rules
                        + /calico/v1/policy/profile/extra/tags
                        ~ /calico/v1/policy/profile/web/rules
                        - /calico/v1/host/compute-01/workload/openstack/vm-2/endpoint/ep2
                        - /calico/v1/policy/profile/db/rules
                        - /calico/v1/policy/profile/db/tags
                        dry run: nothing written
                        """);
        assertThat(EtcdContents.revision(etcd)).isEqualTo(before);
    }

    @Test
    void hostFilesArePublishedUnderCalicoPolicyForHostsToFetch() throws Exception {
        Path out = OutputFixture.compileBundleOnly(work, "v1", V1);
        OutputFixture.hostFile(out, "compute-01", "iptables.rules", "*filter\n:cali-INPUT -\n");
        OutputFixture.hostFile(out, "compute-01", "ipset.rules", "create cali-x hash:ip\n");
        OutputFixture.hostFile(out, "compute-02", "iptables.rules", "*filter\nCOMMIT\n");
        assertThat(publish(out).exitCode()).isZero();

        assertThat(hostFiles("compute-01"))
                .containsOnlyKeys("iptables.rules", "ipset.rules")
                .containsEntry("iptables.rules", "*filter\n:cali-INPUT -\n");
        assertThat(hostFiles("compute-02")).containsOnlyKeys("iptables.rules");

        // One file changes: its new part and the host's index are written, the old part deleted.
        long before = EtcdContents.revision(etcd);
        OutputFixture.hostFile(out, "compute-01", "iptables.rules", "*filter\n:cali-FORWARD -\n");
        PublishResult changed = new BundlePublisher(client).publish(out, PublishOptions.defaults());
        assertThat(changed.keys()).isEqualTo(3);
        assertThat(changed.deleted()).isEqualTo(1);
        assertThat(EtcdContents.read(etcd, "/calico-policy/hosts/").changedAfter(before).keySet())
                .allMatch(k -> k.startsWith("/calico-policy/hosts/compute-01/"));
        assertThat(hostFiles("compute-01"))
                .containsEntry("iptables.rules", "*filter\n:cali-FORWARD -\n");

        // A host that is gone loses all its keys.
        Files.delete(out.resolve("hosts/compute-02/iptables.rules"));
        Files.delete(out.resolve("hosts/compute-02"));
        assertThat(publish(out).exitCode()).isZero();
        assertThat(EtcdContents.read(etcd, "/calico-policy/hosts/compute-02/").values()).isEmpty();
        assertThat(EtcdContents.read(etcd, "/calico/v1/").values())
                .isEqualTo(OutputFixture.entriesOf(out));
    }

    @Test
    void aLargeHostFileIsStoredInPartsAndFetchedWhole() throws Exception {
        Path out = OutputFixture.compileBundleOnly(work, "v1", V1);
        StringBuilder big = new StringBuilder("create cali-big hash:ip\n");
        for (int i = 0; big.length() < 700_000; i++) {
            big.append("add cali-big 10.").append(i / 65536).append('.');
            big.append((i / 256) % 256).append('.').append(i % 256).append('\n');
        }
        OutputFixture.hostFile(out, "compute-01", "ipset.rules", big.toString());

        assertThat(publish(out).exitCode()).isZero();

        SortedMap<String, String> stored =
                EtcdContents.read(etcd, "/calico-policy/hosts/compute-01/").values();
        assertThat(stored.keySet().stream().filter(k -> k.contains("/files/ipset.rules/")))
                .hasSize(3);
        assertThat(stored.values()).allMatch(v -> v.length() <= HostFileLayout.PART_BYTES);
        assertThat(hostFiles("compute-01")).containsEntry("ipset.rules", big.toString());
    }

    @Test
    void ofTwoPublishersInOneTransactionEachOneWinsAndTheOtherWritesNothing() throws Exception {
        Path x = OutputFixture.compile(work, "x", V1);
        Path y = OutputFixture.compile(work, "y", V1_WITHOUT_DB.replace("port 80", "port 81"));

        List<Object> outcomes = BatchPublishTest.race(client, x, y);

        assertThat(outcomes.stream().filter(o -> o instanceof PublishResult)).hasSize(1);
        PublishException loser =
                (PublishException)
                        outcomes.stream()
                                .filter(o -> o instanceof PublishException)
                                .findFirst()
                                .get();
        assertThat(loser.reason()).isEqualTo(PublishException.Reason.CONFLICT);
        assertThat(loser.getMessage())
                .startsWith("another publisher changed /calico-policy/published")
                .contains("nothing was written");
        Path winner = outcomes.get(0) instanceof PublishResult ? x : y;
        assertThat(EtcdContents.read(etcd, "/calico/v1/").values())
                .isEqualTo(OutputFixture.entriesOf(winner));
    }

    @Test
    void aDirectoryWithoutABundleFailsNamingTheFileAndWritesNothing() throws IOException {
        long before = EtcdContents.revision(etcd);
        Path empty = Files.createDirectories(work.resolve("empty"));

        AgentCli run = publish(empty);

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err())
                .startsWith("calico-agent: error: " + empty.resolve("etcd/bundle.json"))
                .contains("no such file");
        assertThat(EtcdContents.revision(etcd)).isEqualTo(before);
    }

    @Test
    void aBundleChangedAfterCompilingIsRefused() throws IOException {
        Path out = OutputFixture.compile(work, "v1", V1);
        Path bundle = out.resolve("etcd/bundle.json");
        Files.writeString(
                bundle, Files.readString(bundle).replace("5432", "5433"), StandardCharsets.UTF_8);
        long before = EtcdContents.revision(etcd);

        AgentCli withManifest = publish(out);
        Files.delete(out.resolve("manifest.json"));
        AgentCli withoutManifest = publish(out);

        assertThat(withManifest.exitCode()).isEqualTo(1);
        assertThat(withManifest.err())
                .contains(bundle.toString())
                .contains("differs from " + out.resolve("manifest.json"));
        assertThat(withoutManifest.exitCode()).isEqualTo(1);
        assertThat(withoutManifest.err())
                .contains(bundle.toString())
                .contains("does not match its entries");
        assertThat(EtcdContents.revision(etcd)).isEqualTo(before);
    }

    @Test
    void aHostFileThatDiffersFromTheManifestIsRefused() throws IOException {
        Path out = OutputFixture.compile(work, "v1", V1);
        Path file = out.resolve("hosts/compute-01/iptables.rules");
        Files.writeString(file, Files.readString(file) + "# edited by hand\n");

        AgentCli run = publish(out);

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err())
                .contains(file.toString())
                .contains("differs from " + out.resolve("manifest.json"))
                .contains("mixes outputs of different compiles");
        assertThat(EtcdContents.read(etcd, "/").values()).isEmpty();
    }

    @Test
    void anUnexpectedFileInAHostFolderIsRefused() {
        Path out = OutputFixture.compile(work, "v1", V1);
        OutputFixture.hostFile(out, "compute-01", "notes.txt", "hello\n");

        AgentCli run = publish(out);

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("notes.txt: unexpected entry");
    }

    @Test
    void aPublishFromAnotherDirectoryOnTopIsADiffNotAReload() throws Exception {
        SortedMap<String, String> first = OutputFixture.generated(3, 50, "a");
        SortedMap<String, String> second = new TreeMap<>(first);
        second.put(OutputFixture.endpointKey(7), OutputFixture.endpoint(7, "p1", "b"));
        Path a = OutputFixture.bundle(work.resolve("a"), first);
        Path b = OutputFixture.bundle(work.resolve("b"), second);
        new BundlePublisher(client).publish(a, PublishOptions.defaults());

        PublishPlan plan = new BundlePublisher(client).plan(b, PublishOptions.defaults());

        assertThat(plan.changed()).containsExactly(OutputFixture.endpointKey(7));
        assertThat(plan.added()).isEmpty();
        assertThat(plan.removed()).isEmpty();
        assertThat(plan.unchanged()).isEqualTo(first.size() - 1);
        assertThat(plan.mode()).isEqualTo(PublishPlan.Mode.ONE_TRANSACTION);
    }

    @Test
    void aRecordWrittenByHandThatCannotBeReadStopsThePublishWithAClearMessage() {
        etcd.etcdctl("put", Keyspace.PUBLISHED, "not json");
        Path out = OutputFixture.compile(work, "v1", V1);

        assertThatThrownBy(
                        () -> new BundlePublisher(client).publish(out, PublishOptions.defaults()))
                .isInstanceOf(PublishException.class)
                .hasMessageContaining("cannot read the tool's records under /calico-policy/")
                .hasMessageContaining("not valid JSON");
    }

    private SortedMap<String, String> hostFiles(String host) throws IOException {
        Map<String, byte[]> raw = new TreeMap<>();
        EtcdContents.read(etcd, HostFileLayout.prefix(host))
                .values()
                .forEach((k, v) -> raw.put(k, v.getBytes(StandardCharsets.UTF_8)));
        SortedMap<String, String> files = new TreeMap<>();
        HostFileLayout.assemble(host, raw)
                .orElseThrow()
                .files()
                .forEach((k, v) -> files.put(k, new String(v, StandardCharsets.UTF_8)));
        return files;
    }
}
