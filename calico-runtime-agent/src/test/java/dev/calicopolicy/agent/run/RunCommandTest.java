package dev.calicopolicy.agent.run;

import static dev.calicopolicy.agent.run.AgentOnHost.HOST;
import static org.assertj.core.api.Assertions.assertThat;

import dev.calicopolicy.agent.apply.HostTopology;
import dev.calicopolicy.agent.apply.HostTopology.Workload;
import dev.calicopolicy.testkit.EtcdServer;
import dev.calicopolicy.testkit.NetworkNamespaces;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code calico-agent run} as a process in a host's network namespace, against a real etcd: it
 * applies what is published for its host, follows every later publish, keeps the last good rules
 * when new ones fail, rides out the loss of an etcd member, a restart of etcd, a cut connection and
 * a compaction, and ends with 0 on SIGTERM.
 */
class RunCommandTest {
    private static String web(int port) {
        return AgentOnHost.webPolicy(port);
    }

    private static String webRule(int port) {
        return AgentOnHost.webRule(port);
    }

    /** The policy of the topology with less allowed: clients reach port 80 only. */
    private static final String NARROWED =
            HostTopology.POLICY.replace(
                    "allow tcp from tag client to ports web;",
                    "allow tcp from tag client to port 80;");

    private static final Duration SOON = Duration.ofSeconds(10);
    private static final Duration AFTER_RECOVERY = Duration.ofSeconds(45);

    @TempDir Path work;

    @Test
    void waitsForFilesThenEnforcesEachPublishWithinSecondsAndReportsItsDigest() throws Exception {
        try (EtcdServer etcd = EtcdServer.start();
                HostTopology topology = HostTopology.build();
                AgentOnHost host = new AgentOnHost(etcd, topology.netns, topology.host, work)) {
            Workload w1 = topology.w("w1");
            Workload w2 = topology.w("w2");

            // Nothing is published yet: the agent says so, and changes nothing.
            host.startAgent();
            HostStatus waiting =
                    host.awaitStatus("no-files", SOON, s -> s.state() == HostStatus.State.NO_FILES);
            assertThat(waiting.host()).isEqualTo(HOST);
            assertThat(waiting.digest()).isEmpty();
            assertThat(waiting.applied()).isEmpty();
            assertThat(topology.tcp(w2.probe(), w1.v4(), 5000)).isNotNull();

            long first = host.publish(HostTopology.POLICY);
            String digest = host.publishedDigest();
            HostStatus applied = host.awaitApplied(digest, SOON);
            assertThat(applied.digest()).contains(digest);
            assertThat(applied.revision()).isGreaterThanOrEqualTo(first);
            assertThat(applied.applied().orElseThrow().revision()).isEqualTo(applied.revision());
            assertThat(applied.error()).isEmpty();
            assertThat(topology.tcp(w2.probe(), w1.v4(), 8080)).isNotNull();
            assertThat(topology.tcp(w2.probe(), w1.v4(), 5000)).isNull();

            // A changed policy is in the kernel a few seconds after its publish.
            long second = host.publish(NARROWED);
            String narrowed = host.publishedDigest();
            assertThat(narrowed).isNotEqualTo(digest);
            HostStatus changed = host.awaitApplied(narrowed, SOON);
            assertThat(changed.revision()).isGreaterThanOrEqualTo(second);
            assertThat(changed.time()).isAfterOrEqualTo(applied.time());
            assertThat(topology.tcp(w2.probe(), w1.v4(), 8080)).isNull();
            assertThat(topology.tcp(w2.probe(), w1.v4(), 80)).isNotNull();
            assertThat(host.log())
                    .contains("no host files are published for host compute-01")
                    .contains("applied host compute-01 files " + digest)
                    .contains("applied host compute-01 files " + narrowed);
        }
    }

    @Test
    void filesTheKernelRefusesLeaveTheLastGoodRulesAndAreReportedUntilAGoodPublish()
            throws Exception {
        try (EtcdServer etcd = EtcdServer.start();
                NetworkNamespaces netns = NetworkNamespaces.create();
                AgentOnHost host = new AgentOnHost(etcd, netns, netns.add("host"), work)) {
            host.publish(web(80));
            String good = host.publishedDigest();
            host.startAgent();
            host.awaitApplied(good, SOON);
            String before = host.kernelRules();
            assertThat(before).contains(webRule(80));

            // Publish output whose iptables.rules has a rule the kernel refuses at restore time
            // (DNAT is for the nat table), written by hand: the compiler would never emit it.
            Path broken = host.compile(web(8080));
            Path rules = broken.resolve("hosts/" + HOST + "/iptables.rules");
            int line =
                    insertAfter(
                            rules,
                            "-A cali-pi-web ",
                            "-A cali-pi-web -j DNAT --to-destination 192.0.2.1");
            Files.delete(broken.resolve("manifest.json"));
            long revision = host.publish(broken);
            String bad = host.publishedDigest();

            HostStatus failed =
                    host.awaitStatus("failed", SOON, s -> s.state() == HostStatus.State.FAILED);
            assertThat(failed.digest()).contains(bad);
            assertThat(failed.revision()).isGreaterThanOrEqualTo(revision);
            assertThat(failed.error().orElseThrow())
                    .startsWith(
                            "/calico-policy/hosts/compute-01/files/iptables.rules:" + line + ": ");
            assertThat(failed.applied().orElseThrow().digest()).isEqualTo(good);
            assertThat(host.kernelRules()).isEqualTo(before);
            assertThat(host.log())
                    .contains(
                            "cannot apply host compute-01 files "
                                    + bad
                                    + " (revision "
                                    + failed.revision()
                                    + "): /calico-policy/hosts/compute-01/files/iptables.rules:"
                                    + line)
                    .contains("the kernel keeps the files applied last, " + good);

            // The agent goes on watching: the next good publish is applied.
            host.publish(web(8443));
            String fixed = host.publishedDigest();
            HostStatus recovered = host.awaitApplied(fixed, SOON);
            assertThat(recovered.error()).isEmpty();
            assertThat(host.kernelRules()).contains(webRule(8443)).doesNotContain(webRule(80));
            assertThat(host.agent().isAlive()).isTrue();
        }
    }

    @Test
    void keepsFollowingWhenTheClusterMemberThatDeliversItsWatchIsKilled() throws Exception {
        try (EtcdServer etcd = EtcdServer.startCluster(3);
                NetworkNamespaces netns = NetworkNamespaces.create();
                AgentOnHost host = new AgentOnHost(etcd, netns, netns.add("host"), work)) {
            long published = host.publish(web(80));
            host.startAgent();
            host.awaitApplied(host.publishedDigest(), SOON);
            host.awaitLog("from revision " + (published + 1), SOON);

            // The member that first answers the agent after a publish is the one that delivers
            // its watch events: that is the one to kill.
            host.bridge.mark();
            host.publish(web(8080));
            host.awaitApplied(host.publishedDigest(), SOON);
            int victim = memberOf(etcd, host.bridge.firstAnswerAfterMark());
            etcd.kill(victim);

            host.publish(web(8443));
            String digest = host.publishedDigest();
            host.awaitApplied(digest, AFTER_RECOVERY);
            assertThat(host.kernelRules()).contains(webRule(8443)).doesNotContain(webRule(8080));

            // And the agent keeps following with the member gone.
            host.publish(web(9443));
            host.awaitApplied(host.publishedDigest(), SOON);
            assertThat(host.kernelRules()).contains(webRule(9443));
        }
    }

    @Test
    void endsWithExitCodeZeroPromptlyOnSigtermAndLeavesTheRulesInPlace() throws Exception {
        try (EtcdServer etcd = EtcdServer.start();
                NetworkNamespaces netns = NetworkNamespaces.create();
                AgentOnHost host = new AgentOnHost(etcd, netns, netns.add("host"), work)) {
            host.publish(web(80));
            host.startAgent();
            host.awaitApplied(host.publishedDigest(), SOON);

            int code = host.terminate(Duration.ofSeconds(10));

            assertThat(code).as(host.log()).isZero();
            assertThat(host.log())
                    .contains("stopping on a signal")
                    .contains("stopped keeping host compute-01 in step");
            assertThat(host.kernelRules()).contains(webRule(80));
        }
    }

    @Test
    void resumesAfterEtcdRestartsAndAppliesWhatWasPublishedWhileItWasCutOff() throws Exception {
        try (EtcdServer etcd = EtcdServer.start();
                NetworkNamespaces netns = NetworkNamespaces.create();
                AgentOnHost host = new AgentOnHost(etcd, netns, netns.add("host"), work)) {
            long published = host.publish(web(80));
            String first = host.publishedDigest();
            host.startAgent();
            host.awaitApplied(first, SOON);
            String watching = "watching /calico-policy/hosts/compute-01/ from revision ";
            host.awaitLog(watching + (published + 1), SOON);

            // etcd goes down and comes back while the agent cannot reach it; a publish is made
            // before the agent can reach it again.
            host.bridge.cut();
            etcd.kill(0);
            etcd.restart(0);
            host.publish(web(8080));
            String second = host.publishedDigest();
            assertThat(host.status().orElseThrow().applied().orElseThrow().digest())
                    .isEqualTo(first);
            host.bridge.mend();

            host.awaitApplied(second, AFTER_RECOVERY);
            assertThat(host.kernelRules()).contains(webRule(8080)).doesNotContain(webRule(80));

            // It resumed its watch from where it was, and read nothing in full again.
            assertThat(host.log())
                    .contains("resuming it from revision " + (published + 1))
                    .doesNotContain("in full again");
            assertThat(host.log().split(watching + (published + 1), -1)).hasSize(3);
        }
    }

    @Test
    void readsEverythingAgainWhenTheRevisionToResumeFromWasCompacted() throws Exception {
        try (EtcdServer etcd = EtcdServer.start();
                NetworkNamespaces netns = NetworkNamespaces.create();
                AgentOnHost host = new AgentOnHost(etcd, netns, netns.add("host"), work)) {
            long published = host.publish(web(80));
            host.startAgent();
            host.awaitApplied(host.publishedDigest(), SOON);
            host.awaitLog("from revision " + (published + 1), SOON);

            host.bridge.cut();
            host.publish(web(8080));
            long last = host.publish(web(8443));
            String digest = host.publishedDigest();
            etcd.etcdctl("compact", Long.toString(last));
            host.bridge.mend();

            host.awaitApplied(digest, AFTER_RECOVERY);
            assertThat(host.kernelRules()).contains(webRule(8443)).doesNotContain(webRule(80));
            assertThat(host.log())
                    .contains(
                            "revision "
                                    + (published + 1)
                                    + " of /calico-policy/hosts/compute-01/ was compacted")
                    .contains("reading host compute-01 in full again");
        }
    }

    @Test
    void startsWhileEtcdIsOutOfReachAndBacksOffUntilItCanApply() throws Exception {
        try (EtcdServer etcd = EtcdServer.start();
                NetworkNamespaces netns = NetworkNamespaces.create();
                AgentOnHost host = new AgentOnHost(etcd, netns, netns.add("host"), work)) {
            host.publish(web(80));
            String digest = host.publishedDigest();
            host.bridge.cut();
            host.startAgent("--request-timeout", "1s");

            // Each attempt fails after the request timeout, and the next waits longer than the
            // one before (up to 10 s): no tight loop.
            long deadline = System.nanoTime() + AFTER_RECOVERY.toNanos();
            List<Long> delays = retryDelays(host.log());
            while (delays.isEmpty() || delays.get(delays.size() - 1) < 1200) {
                assertThat(System.nanoTime()).as(host.log()).isLessThan(deadline);
                AgentOnHost.pause(200);
                delays = retryDelays(host.log());
            }
            assertThat(delays).hasSizeLessThanOrEqualTo(6).isSorted().doesNotHaveDuplicates();
            assertThat(host.log())
                    .contains(
                            "cannot read /calico-policy/hosts/compute-01/: etcd did not answer"
                                    + " within 1000 ms; trying again in ");
            assertThat(host.status()).isEmpty();
            assertThat(host.kernelRules()).doesNotContain("cali-");

            host.bridge.mend();
            host.awaitApplied(digest, AFTER_RECOVERY);
            assertThat(host.kernelRules()).contains(webRule(80));
        }
    }

    private static List<Long> retryDelays(String log) {
        List<Long> delays = new ArrayList<>();
        Matcher m = Pattern.compile("; trying again in (\\d+) ms").matcher(log);
        while (m.find()) {
            delays.add(Long.parseLong(m.group(1)));
        }
        return delays;
    }

    @Test
    void aHostDroppedFromThePolicyKeepsItsRulesAndPublishLeavesItsStatusAlone() throws Exception {
        try (EtcdServer etcd = EtcdServer.start();
                NetworkNamespaces netns = NetworkNamespaces.create();
                AgentOnHost host = new AgentOnHost(etcd, netns, netns.add("host"), work)) {
            host.publish(web(80));
            String digest = host.publishedDigest();
            host.startAgent();
            HostStatus applied = host.awaitApplied(digest, SOON);

            long revision = host.publish(web(80).replace("host compute-01", "host compute-02"));

            // The publish deleted the host's files but not its status, which the agent then
            // rewrote: the host has no files, and its kernel keeps the rules applied last.
            assertThat(host.statusAt(revision)).contains(applied);
            HostStatus waiting =
                    host.awaitStatus("no-files", SOON, s -> s.state() == HostStatus.State.NO_FILES);
            assertThat(waiting.applied()).isEqualTo(applied.applied());
            assertThat(waiting.revision()).isGreaterThanOrEqualTo(revision);
            assertThat(host.kernelRules()).contains(webRule(80));
            assertThat(etcd.etcdctl("get", "--prefix", "/calico-policy/hosts/compute-01/"))
                    .isEmpty();
        }
    }

    /** The member whose client port is {@code port}; the leader when it is not known. */
    private static int memberOf(EtcdServer etcd, OptionalInt port) {
        if (port.isPresent()) {
            for (int i = 0; i < etcd.size(); i++) {
                if (URI.create(etcd.clientUrl(i)).getPort() == port.getAsInt()) {
                    return i;
                }
            }
        }
        return etcd.leader();
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
}
