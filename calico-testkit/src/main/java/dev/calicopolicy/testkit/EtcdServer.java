package dev.calicopolicy.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real etcd process (one member, or a cluster of several) on free loopback ports with data in a
 * temporary directory, deleted on {@link #close()}. Tests talk to it through {@link #clientUrls()}
 * and the real {@code etcdctl} ({@link #etcdctl(String...)}).
 */
public final class EtcdServer implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final Path dataRoot;
    private final List<Member> members;
    private final TlsFiles tls;

    private record Member(
            String name, int clientPort, int peerPort, Path dataDir, Path log, boolean tls) {
        String clientUrl() {
            return (tls ? "https" : "http") + "://127.0.0.1:" + clientPort;
        }

        String peerUrl() {
            return "http://127.0.0.1:" + peerPort;
        }
    }

    private final List<Process> processes = new ArrayList<>();
    private final List<List<String>> commands = new ArrayList<>();
    private final Set<Integer> killed = new HashSet<>();

    private EtcdServer(Path dataRoot, List<Member> members, TlsFiles tls) {
        this.dataRoot = dataRoot;
        this.members = members;
        this.tls = tls;
    }

    /** Starts a single-member etcd. */
    public static EtcdServer start(String... extraArgs) {
        return startCluster(1, extraArgs);
    }

    /** Starts a cluster of {@code size} members on loopback; returns when all are healthy. */
    public static EtcdServer startCluster(int size, String... extraArgs) {
        return start(size, null, extraArgs);
    }

    /**
     * Starts a single member that serves clients over TLS only ({@code https://}) and requires a
     * client certificate signed by the CA of {@code tls}.
     */
    public static EtcdServer startTls(TlsFiles tls, String... extraArgs) {
        return start(1, tls, extraArgs);
    }

    private static EtcdServer start(int size, TlsFiles tls, String... extraArgs) {
        Path etcd = Requirements.program("etcd", "etcd-server");
        Requirements.program("etcdctl", "etcd-client");
        try {
            Path root = Files.createTempDirectory("calico-etcd-");
            List<Member> members = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                members.add(
                        new Member(
                                "m" + i,
                                freePort(),
                                freePort(),
                                root.resolve("m" + i),
                                root.resolve("m" + i + ".log"),
                                tls != null));
            }
            EtcdServer server = new EtcdServer(root, List.copyOf(members), tls);
            String initialCluster =
                    members.stream()
                            .map(m -> m.name() + "=" + m.peerUrl())
                            .collect(Collectors.joining(","));
            for (Member m : members) {
                List<String> cmd = new ArrayList<>();
                cmd.add(etcd.toString());
                cmd.addAll(
                        List.of(
                                "--name", m.name(),
                                "--data-dir", m.dataDir().toString(),
                                "--listen-client-urls", m.clientUrl(),
                                "--advertise-client-urls", m.clientUrl(),
                                "--listen-peer-urls", m.peerUrl(),
                                "--initial-advertise-peer-urls", m.peerUrl(),
                                "--initial-cluster", initialCluster,
                                "--initial-cluster-state", "new",
                                "--initial-cluster-token", root.getFileName().toString(),
                                "--log-level", "warn"));
                if (tls != null) {
                    cmd.addAll(
                            List.of(
                                    "--cert-file",
                                    tls.serverCert().toString(),
                                    "--key-file",
                                    tls.serverKey().toString(),
                                    "--trusted-ca-file",
                                    tls.ca().toString(),
                                    "--client-cert-auth"));
                }
                cmd.addAll(List.of(extraArgs));
                server.commands.add(List.copyOf(cmd));
                server.processes.add(launch(cmd, m.log()));
            }
            server.awaitHealthy();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start etcd", e);
        }
    }

    private static Process launch(List<String> cmd, Path log) throws IOException {
        return new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
    }

    /** The client URLs of all members, comma-separated, as {@code --etcd} takes them. */
    public String clientUrls() {
        return members.stream().map(Member::clientUrl).collect(Collectors.joining(","));
    }

    /** The client URL of one member. */
    public String clientUrl(int member) {
        return members.get(member).clientUrl();
    }

    public int size() {
        return members.size();
    }

    /** Kills one member's process (SIGKILL), as a crash would. */
    public void kill(int member) {
        killed.add(member);
        Process p = processes.get(member);
        p.destroyForcibly();
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** True while the member's process runs. */
    public boolean isAlive(int member) {
        return processes.get(member).isAlive();
    }

    /** Starts a killed member again on its data, and waits until it is healthy. */
    public void restart(int member) {
        if (processes.get(member).isAlive()) {
            throw new IllegalStateException("member " + member + " is still running");
        }
        try {
            processes.set(member, launch(commands.get(member), members.get(member).log()));
            killed.remove(member);
            awaitHealthy();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restart etcd member " + member, e);
        }
    }

    /** The index of the member that is the leader now, among the live ones. */
    public int leader() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            for (int i = 0; i < members.size(); i++) {
                if (!processes.get(i).isAlive()) {
                    continue;
                }
                String status;
                try {
                    status =
                            etcdctlAt(
                                    members.get(i).clientUrl(),
                                    null,
                                    "endpoint",
                                    "status",
                                    "-w",
                                    "json");
                } catch (IllegalStateException e) {
                    continue;
                }
                Matcher member = Pattern.compile("\"member_id\":(\\d+)").matcher(status);
                Matcher leader = Pattern.compile("\"leader\":(\\d+)").matcher(status);
                if (member.find() && leader.find() && member.group(1).equals(leader.group(1))) {
                    return i;
                }
            }
            sleep(100);
        }
        throw new IllegalStateException("no etcd member is the leader");
    }

    /** Runs {@code etcdctl} (API v3) against the cluster and returns its standard output. */
    public String etcdctl(String... args) {
        return etcdctlWithInput(null, args);
    }

    /** Runs {@code etcdctl} with {@code input} on its standard input. */
    public String etcdctlWithInput(String input, String... args) {
        return etcdctlAt(liveClientUrls(), input, args);
    }

    private String etcdctlAt(String endpoints, String input, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("etcdctl");
        cmd.add("--endpoints=" + endpoints);
        if (tls != null) {
            cmd.add("--cacert=" + tls.ca());
            cmd.add("--cert=" + tls.clientCert());
            cmd.add("--key=" + tls.clientKey());
        }
        cmd.addAll(List.of(args));
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().put("ETCDCTL_API", "3");
            Path err = Files.createTempFile("etcdctl-", ".err");
            pb.redirectError(err.toFile());
            Process p = pb.start();
            if (input != null) {
                p.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
            }
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int rc = p.waitFor();
            String errText = Files.readString(err);
            Files.deleteIfExists(err);
            if (rc != 0) {
                throw new IllegalStateException(
                        "etcdctl " + String.join(" ", args) + " failed (" + rc + "): " + errText);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String liveClientUrls() {
        List<String> urls = new ArrayList<>();
        for (int i = 0; i < members.size(); i++) {
            if (processes.get(i).isAlive()) {
                urls.add(members.get(i).clientUrl());
            }
        }
        return String.join(",", urls);
    }

    private void awaitHealthy() throws IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        for (int i = 0; i < members.size(); i++) {
            Member m = members.get(i);
            if (killed.contains(i)) {
                continue;
            }
            while (!healthy(m)) {
                if (!processes.get(i).isAlive() || System.nanoTime() > deadline) {
                    String log = Files.exists(m.log()) ? Files.readString(m.log()) : "";
                    close();
                    throw new IllegalStateException(
                            "etcd member " + m.name() + " did not become healthy:\n" + log);
                }
                sleep(50);
            }
        }
    }

    private boolean healthy(Member m) {
        if (tls != null) {
            try {
                etcdctlAt(m.clientUrl(), null, "endpoint", "health");
                return true;
            } catch (IllegalStateException e) {
                return false;
            }
        }
        try {
            HttpURLConnection c =
                    (HttpURLConnection)
                            URI.create(m.clientUrl() + "/health").toURL().openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(2000);
            try {
                return c.getResponseCode() == 200
                        && new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                                .contains("true");
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try (Stream<Path> files = Files.walk(dataRoot)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dataRoot, e);
        }
    }
}
