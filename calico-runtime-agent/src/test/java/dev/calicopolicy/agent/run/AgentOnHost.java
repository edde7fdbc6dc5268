package dev.calicopolicy.agent.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.calicopolicy.agent.cli.CalicoAgent;
import dev.calicopolicy.dsl.Compilation;
import dev.calicopolicy.dsl.CompileOptions;
import dev.calicopolicy.dsl.OutputWriter;
import dev.calicopolicy.dsl.PolicyCompiler;
import dev.calicopolicy.testkit.EtcdServer;
import dev.calicopolicy.testkit.LoopbackBridge;
import dev.calicopolicy.testkit.NetworkNamespaces;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code calico-agent run} as a separate process in a host's network namespace, which reaches the
 * test's etcd at the same URLs through a {@link LoopbackBridge}; with the test's side of things:
 * compiling and publishing policy, reading the host's status, and the namespace's kernel rules.
 * Closing it stops the agent (and the bridge) even when a test failed, and prints the agent's log.
 */
final class AgentOnHost implements AutoCloseable {
    static final String HOST = "compute-01";

    private static final Pattern REVISION = Pattern.compile("revision (\\d+)");

    final EtcdServer etcd;
    final NetworkNamespaces netns;
    final String ns;
    final LoopbackBridge bridge;
    private final Path work;
    private final Path log;
    private Process agent;
    private int compiles;
    private boolean printLog = true;

    AgentOnHost(EtcdServer etcd, NetworkNamespaces netns, String ns, Path work) {
        this.etcd = etcd;
        this.netns = netns;
        this.ns = ns;
        this.work = work;
        this.log = work.resolve("agent.log");
        this.bridge = LoopbackBridge.forEtcd(netns, ns, etcd);
    }

    /** A policy of one endpoint on the agent's host that lets tag web reach {@code port}. */
    static String webPolicy(int port) {
        return """
                profile web {
                  tags web;
                  inbound { allow tcp from tag web to port %d; }
                  outbound { allow; }
                }
                host compute-01 {
                  workload test w1 {
                    endpoint e {
                      interface tap-w1; mac 02:00:00:00:00:11; profiles web;
                      ipv4 198.51.100.11/32; ipv6 2001:db8::11/128;
                    }
                  }
                }
                """
                .formatted(port);
    }

    /** The rule {@link #webPolicy(int)} gives, as iptables-save prints it. */
    static String webRule(int port) {
        return "-m set --match-set cali-v4-web src -m multiport --dports " + port + " -j MARK";
    }

    /** Leaves the agent's log out of the output when closing (it is printed by default). */
    void quiet() {
        printLog = false;
    }

    /** Starts {@code calico-agent run --host compute-01 --etcd URLS} in the namespace. */
    void startAgent(String... extra) {
        List<String> args = new ArrayList<>(List.of("run", "--host", HOST));
        args.addAll(List.of("--etcd", etcd.clientUrls()));
        args.addAll(List.of(extra));
        agent = netns.startJava(ns, log, CalicoAgent.class.getName(), args.toArray(String[]::new));
    }

    Process agent() {
        return agent;
    }

    /** What the agent has logged so far. */
    String log() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Compiles {@code policy} with the real compiler; the output directory. */
    Path compile(String policy) {
        try {
            // One source folder for every compile, so that host files, whose comments name the
            // source, differ only where the policy does.
            Path src = work.resolve("src");
            Files.createDirectories(src);
            Files.writeString(src.resolve("policy.calico"), policy, StandardCharsets.UTF_8);
            Compilation c = new PolicyCompiler(work).compile(List.of(src));
            assertThat(c.hasErrors()).as(c.diagnostics().toString()).isFalse();
            Path out = work.resolve("out-" + ++compiles);
            OutputWriter.write(c, CompileOptions.DEFAULTS, out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Compiles and publishes {@code policy}; the revision of the publish. */
    long publish(String policy) {
        return publish(compile(policy));
    }

    /** Publishes a compile output directory with {@code calico-agent publish}; its revision. */
    long publish(Path out) {
        StringWriter stdout = new StringWriter();
        StringWriter stderr = new StringWriter();
        int code =
                CalicoAgent.run(
                        new String[] {"publish", "--etcd", etcd.clientUrls(), out.toString()},
                        new PrintWriter(stdout, true),
                        new PrintWriter(stderr, true));
        assertThat(code).as("publish: %s%s", stdout, stderr).isZero();
        Matcher m = REVISION.matcher(stdout.toString());
        assertThat(m.find()).as(stdout.toString()).isTrue();
        return Long.parseLong(m.group(1));
    }

    /** The digest the last publish gave the host, from its index in etcd. */
    String publishedDigest() {
        String index =
                etcd.etcdctl(
                        "get", "/calico-policy/hosts/" + HOST + "/digest", "--print-value-only");
        Matcher m = Pattern.compile("\"digest\":\"(sha256:[0-9a-f]{64})\"").matcher(index);
        assertThat(m.find()).as("host index: %s", index).isTrue();
        return m.group(1);
    }

    /** The host's status as etcd holds it now, if there is one. */
    Optional<HostStatus> status() {
        return statusAt(0);
    }

    /** The host's status at {@code revision} (0: the latest). */
    Optional<HostStatus> statusAt(long revision) {
        List<String> args =
                new ArrayList<>(List.of("get", HostStatus.key(HOST), "--print-value-only"));
        if (revision != 0) {
            args.add("--rev=" + revision);
        }
        String value = etcd.etcdctl(args.toArray(String[]::new)).strip();
        if (value.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(HostStatus.parse(value.getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new AssertionError("the status is not valid: " + value, e);
        }
    }

    /** Waits until the status satisfies {@code condition}; fails after {@code timeout}. */
    HostStatus awaitStatus(String what, Duration timeout, Predicate<HostStatus> condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Optional<HostStatus> last = Optional.empty();
        while (System.nanoTime() < deadline) {
            assertThat(agent.isAlive()).as("the agent is running; its log:\n%s", log()).isTrue();
            last = status();
            if (last.isPresent() && condition.test(last.get())) {
                return last.get();
            }
            pause(100);
        }
        throw new AssertionError(
                "within "
                        + timeout.toSeconds()
                        + " s, the status did not become "
                        + what
                        + "; it is "
                        + last.map(s -> new String(s.toJson(), StandardCharsets.UTF_8))
                                .orElse("absent")
                        + "\nagent log:\n"
                        + log());
    }

    /** Waits until the status reports {@code digest} as applied. */
    HostStatus awaitApplied(String digest, Duration timeout) {
        return awaitStatus(
                "applied " + digest,
                timeout,
                s ->
                        s.state() == HostStatus.State.APPLIED
                                && s.applied().map(a -> a.digest().equals(digest)).orElse(false));
    }

    /** Waits until the agent has logged {@code text}; fails after {@code timeout}. */
    void awaitLog(String text, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!log().contains(text)) {
            assertThat(System.nanoTime())
                    .as("the agent logs '%s' within %s; its log:\n%s", text, timeout, log())
                    .isLessThan(deadline);
            pause(100);
        }
    }

    /** The namespace's filter and nat rules of both families, without counters. */
    String kernelRules() {
        StringBuilder rules = new StringBuilder();
        for (String tool : List.of("iptables-save", "ip6tables-save")) {
            for (String table : List.of("filter", "nat")) {
                for (String line : netns.exec(ns, tool, "-t", table).split("\n")) {
                    if (!line.startsWith("#")) {
                        rules.append(line.replaceAll("\\[[0-9]+:[0-9]+\\]", "")).append('\n');
                    }
                }
            }
        }
        return rules.toString();
    }

    /** Stops the agent with SIGTERM; its exit code, or fails if it has not ended in time. */
    int terminate(Duration timeout) throws InterruptedException {
        agent.destroy();
        assertThat(agent.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS))
                .as("the agent ends within %s after SIGTERM; its log:\n%s", timeout, log())
                .isTrue();
        return agent.exitValue();
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    @Override
    public void close() {
        try {
            if (agent != null && agent.isAlive()) {
                agent.destroy();
                if (!agent.waitFor(10, TimeUnit.SECONDS)) {
                    agent.destroyForcibly().waitFor();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            bridge.close();
            if (printLog) {
                System.out.println("--- calico-agent run log (" + ns + "):\n" + log());
            }
        }
    }
}
