package dev.calicopolicy.agent.run;

import dev.calicopolicy.agent.etcd.EtcdSettings;
import dev.calicopolicy.testkit.EtcdServer;
import dev.calicopolicy.testkit.NetworkNamespaces;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.watch.WatchEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * How closely {@code calico-agent run} follows etcd: the time from starting the agent (a fresh JVM
 * in a network namespace) to its first apply, the time from the end of each publish of a changed
 * policy to the agent's status saying it is enforced (taken from a watch of the status key, so the
 * figures do not depend on polling), and the time from SIGTERM to the end of the process. Run as
 * root with {@code scripts/bench-run.sh [CHANGES]} (default 20); prints the figures.
 */
public final class RunBenchmark {
    private record Seen(long nanos, HostStatus status) {}

    private RunBenchmark() {}

    public static void main(String[] args) throws Exception {
        int changes = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        Path work = Files.createTempDirectory("calico-bench-run-");
        try (EtcdServer etcd = EtcdServer.start();
                NetworkNamespaces netns = NetworkNamespaces.create();
                AgentOnHost host = new AgentOnHost(etcd, netns, netns.add("bench"), work);
                Client client = EtcdSettings.of(etcd.clientUrls()).connect()) {
            host.quiet();
            BlockingQueue<Seen> statuses = new LinkedBlockingQueue<>();
            Watch.Watcher watcher =
                    client.getWatchClient()
                            .watch(
                                    ByteSequence.from(
                                            HostStatus.key(AgentOnHost.HOST),
                                            StandardCharsets.UTF_8),
                                    response -> {
                                        long now = System.nanoTime();
                                        for (WatchEvent e : response.getEvents()) {
                                            statuses.add(new Seen(now, parse(e)));
                                        }
                                    });
            run(host, statuses, changes);
            watcher.close();
        } finally {
            try (Stream<Path> files = Files.walk(work)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void run(AgentOnHost host, BlockingQueue<Seen> statuses, int changes)
            throws Exception {
        host.publish(AgentOnHost.webPolicy(1000));
        long start = System.nanoTime();
        host.startAgent();
        Seen first = appliedAfter(statuses, null);
        System.out.printf(
                "agent start to first apply (new JVM, connect, read, apply, status): %d ms%n",
                (first.nanos() - start) / 1_000_000);

        List<Long> publishMillis = new ArrayList<>();
        List<Long> followMillis = new ArrayList<>();
        String digest = first.status().applied().orElseThrow().digest();
        for (int i = 1; i <= changes; i++) {
            long before = System.nanoTime();
            host.publish(AgentOnHost.webPolicy(1000 + i));
            long published = System.nanoTime();
            Seen applied = appliedAfter(statuses, digest);
            digest = applied.status().applied().orElseThrow().digest();
            publishMillis.add((published - before) / 1_000_000);
            followMillis.add((applied.nanos() - published) / 1_000_000);
        }
        System.out.printf(
                "%d publishes of a changed profile (in-process calico-agent publish): %s%n",
                changes, figures(publishMillis));
        System.out.printf(
                "end of publish to status 'applied' (watch event, read, apply, status): %s%n",
                figures(followMillis));

        long stop = System.nanoTime();
        int code = host.terminate(Duration.ofSeconds(30));
        System.out.printf(
                "SIGTERM to process end: %d ms (exit code %d)%n",
                (System.nanoTime() - stop) / 1_000_000, code);
    }

    /** Waits for a status that reports applied files other than {@code digest}. */
    private static Seen appliedAfter(BlockingQueue<Seen> statuses, String digest)
            throws InterruptedException {
        while (true) {
            Seen seen = statuses.poll(60, TimeUnit.SECONDS);
            if (seen == null) {
                throw new IllegalStateException("the agent reported nothing for 60 s");
            }
            HostStatus s = seen.status();
            if (s.state() == HostStatus.State.FAILED) {
                throw new IllegalStateException("the agent failed: " + s.error().orElse(""));
            }
            if (s.state() == HostStatus.State.APPLIED
                    && s.applied().isPresent()
                    && !s.applied().get().digest().equals(digest)) {
                return seen;
            }
        }
    }

    private static String figures(List<Long> millis) {
        List<Long> sorted = new ArrayList<>(millis);
        sorted.sort(null);
        return String.format(
                "median %d ms, 90th percentile %d ms, max %d ms",
                sorted.get(sorted.size() / 2),
                sorted.get(Math.min(sorted.size() - 1, sorted.size() * 9 / 10)),
                sorted.get(sorted.size() - 1));
    }

    private static HostStatus parse(WatchEvent event) {
        try {
            return HostStatus.parse(event.getKeyValue().getValue().getBytes());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
