package dev.calicopolicy.agent.publish;

import dev.calicopolicy.agent.etcd.EtcdSettings;
import dev.calicopolicy.testkit.EtcdServer;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Publishing speed: 100,000 endpoint keys into an empty etcd, then a one-profile change, beside
 * {@code etcdctl txn} loading the same keys in transactions of the server's maximum size (128).
 * Every load gets a fresh etcd with default settings. Run with {@code scripts/bench-publish.sh
 * [ENDPOINTS]}; prints the figures.
 */
public final class PublishBenchmark {
    private static final int TXN_OPS = 128;

    private PublishBenchmark() {}

    public static void main(String[] args) throws Exception {
        int endpoints = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int profiles = 100;
        Path work = Files.createTempDirectory("calico-bench-");
        try {
            run(work, profiles, endpoints);
        } finally {
            try (Stream<Path> files = Files.walk(work)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void run(Path work, int profiles, int endpoints) throws Exception {
        SortedMap<String, String> keys = OutputFixture.generated(profiles, endpoints, "a");
        Path full = OutputFixture.bundle(work.resolve("full"), keys);
        long bundleBytes = Files.size(full.resolve("etcd/bundle.json"));
        System.out.printf(
                "bundle: %d keys (%d endpoints, %d profiles), bundle.json %.1f MiB%n",
                keys.size(), endpoints, profiles, bundleBytes / 1048576.0);

        // etcdctl: one 'etcdctl txn' per 128 puts, fed from files written beforehand.
        Path txns = Files.createDirectories(work.resolve("txns"));
        writeTxnFiles(keys, txns);
        double etcdctl;
        try (EtcdServer etcd = EtcdServer.start()) {
            String loop =
                    "for f in "
                            + txns
                            + "/*.txn; do etcdctl --endpoints="
                            + etcd.clientUrls()
                            + " txn < \"$f\" > /dev/null || exit 1; done";
            long t0 = System.nanoTime();
            Process p =
                    new ProcessBuilder("bash", "-c", loop)
                            .redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                            .start();
            p.getOutputStream().close();
            if (p.waitFor() != 0) {
                throw new IllegalStateException("etcdctl load failed");
            }
            etcdctl = seconds(t0);
            check(etcd, keys.size(), "etcdctl");
        }
        int txnCount = (keys.size() + TXN_OPS - 1) / TXN_OPS;
        System.out.printf(
                "etcdctl txn x %d (128 puts each, one process per txn): %.2f s%n",
                txnCount, etcdctl);

        // The floor: the same transactions sent back to back by one jetcd client.
        double floor;
        try (EtcdServer etcd = EtcdServer.start();
                Client client = EtcdSettings.of(etcd.clientUrls()).connect()) {
            warmUp(client);
            long t0 = System.nanoTime();
            List<Op> ops = new ArrayList<>();
            for (Map.Entry<String, String> e : keys.entrySet()) {
                ops.add(
                        Op.put(
                                ByteSequence.from(e.getKey(), StandardCharsets.UTF_8),
                                ByteSequence.from(e.getValue(), StandardCharsets.UTF_8),
                                PutOption.DEFAULT));
                if (ops.size() == TXN_OPS) {
                    client.getKVClient().txn().Then(ops.toArray(Op[]::new)).commit().get();
                    ops.clear();
                }
            }
            if (!ops.isEmpty()) {
                client.getKVClient().txn().Then(ops.toArray(Op[]::new)).commit().get();
            }
            floor = seconds(t0);
            check(etcd, keys.size(), "jetcd");
        }
        System.out.printf(
                "jetcd txn x %d back to back, no diff (floor): %.2f s%n", txnCount, floor);

        // calico-agent publish as a library call, then a one-profile change.
        try (EtcdServer etcd = EtcdServer.start();
                Client client = EtcdSettings.of(etcd.clientUrls()).connect()) {
            warmUp(client);
            BundlePublisher publisher = new BundlePublisher(client);
            long t0 = System.nanoTime();
            PublishResult loaded = publisher.publish(full, PublishOptions.defaults());
            double load = seconds(t0);
            check(etcd, keys.size(), "publish");
            System.out.printf(
                    "BundlePublisher.publish, full load: %.2f s (%s), %.2fx etcdctl%n",
                    load, loaded.summary(), load / etcdctl);

            SortedMap<String, String> current = new TreeMap<>(keys);
            for (int p = 7; p <= 9; p++) {
                Path changed = changeProfile(work, current, p);
                long t1 = System.nanoTime();
                PublishResult one = publisher.publish(changed, PublishOptions.defaults());
                System.out.printf(
                        "BundlePublisher.publish, one profile changed (p%d): %.3f s (%s)%n",
                        p, seconds(t1), one.summary());
            }

            Path changed = changeProfile(work, current, 11);
            long t2 = System.nanoTime();
            String summary = cli(etcd.clientUrls(), changed);
            System.out.printf(
                    "calico-agent publish (new JVM), one profile changed: %.2f s (%s)%n",
                    seconds(t2), summary);
        }

        // calico-agent publish as a command, full load, JVM start included.
        try (EtcdServer etcd = EtcdServer.start()) {
            long t0 = System.nanoTime();
            String summary = cli(etcd.clientUrls(), full);
            double load = seconds(t0);
            check(etcd, keys.size(), "calico-agent");
            System.out.printf(
                    "calico-agent publish (new JVM), full load: %.2f s (%s), %.2fx etcdctl%n",
                    load, summary, load / etcdctl);
        }
    }

    /** Changes one profile's rules in {@code keys} and writes the bundle. */
    private static Path changeProfile(Path work, SortedMap<String, String> keys, int profile) {
        keys.put(OutputFixture.profileKey(profile, "rules"), OutputFixture.rules(profile, "b"));
        return OutputFixture.bundle(work.resolve("p" + profile), keys);
    }

    private static String cli(String urls, Path dir) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p =
                new ProcessBuilder(
                                java,
                                "-cp",
                                System.getProperty("java.class.path"),
                                "dev.calicopolicy.agent.cli.CalicoAgent",
                                "publish",
                                "--etcd",
                                urls,
                                dir.toString())
                        .redirectError(ProcessBuilder.Redirect.DISCARD)
                        .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("calico-agent publish failed: " + out);
        }
        return out;
    }

    private static void warmUp(Client client) throws Exception {
        client.getKVClient().get(ByteSequence.from("/", StandardCharsets.UTF_8)).get();
    }

    private static void writeTxnFiles(SortedMap<String, String> keys, Path dir) throws IOException {
        StringBuilder txn = new StringBuilder("\n");
        int count = 0;
        int file = 0;
        for (Map.Entry<String, String> e : keys.entrySet()) {
            txn.append("put ").append(e.getKey()).append(" \"");
            txn.append(e.getValue().replace("\\", "\\\\").replace("\"", "\\\"")).append("\"\n");
            if (++count == TXN_OPS) {
                Files.writeString(dir.resolve(String.format("%06d.txn", file++)), txn + "\n\n");
                txn = new StringBuilder("\n");
                count = 0;
            }
        }
        if (count > 0) {
            Files.writeString(dir.resolve(String.format("%06d.txn", file)), txn + "\n\n");
        }
    }

    private static void check(EtcdServer etcd, int expected, String who) {
        String count = etcd.etcdctl("get", "--prefix", "/calico/v1/", "--limit=1", "-w", "json");
        if (!count.contains("\"count\":" + expected)) {
            throw new IllegalStateException(who + " did not load every key: " + count);
        }
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
