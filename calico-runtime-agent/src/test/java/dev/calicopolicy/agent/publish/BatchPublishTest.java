package dev.calicopolicy.agent.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.calicopolicy.agent.etcd.EtcdSettings;
import dev.calicopolicy.testkit.EtcdServer;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Publishes too large for one transaction, against an etcd started with {@code --max-txn-ops 16}:
 * ordered batches, publishes that die half way, concurrent publishers.
 */
class BatchPublishTest {
    static final String FOREIGN = "/calico/v1/policy/profile/theirs/rules";

    static EtcdServer etcd;
    static Client client;

    @TempDir Path work;

    @BeforeAll
    static void startEtcd() throws IOException {
        etcd = EtcdServer.start("--max-txn-ops", "16");
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
    void emptyEtcdButForAForeignKey() {
        etcd.etcdctl("del", "", "--from-key");
        etcd.etcdctl("put", FOREIGN, "{\"inbound_rules\":[],\"outbound_rules\":[]}");
    }

    private static PublishOptions options() {
        return PublishOptions.defaults().withLockTtl(java.time.Duration.ofSeconds(3));
    }

    private SortedMap<String, String> policyKeys() {
        SortedMap<String, String> keys = EtcdContents.read(etcd, "/calico/v1/").values();
        keys.remove(FOREIGN);
        return keys;
    }

    private void assertTidy() {
        SortedMap<String, String> records = EtcdContents.read(etcd, "/calico-policy/").values();
        assertThat(records).containsKey(Keyspace.PUBLISHED);
        assertThat(records).doesNotContainKeys(Keyspace.PENDING, Keyspace.LOCK);
        assertThat(EtcdContents.read(etcd, "/calico/v1/").values()).containsKey(FOREIGN);
    }

    @Test
    void aServerThatTakesSmallTransactionsGetsBatchesWithTheSameResult() throws Exception {
        SortedMap<String, String> keys = OutputFixture.generated(20, 260, "a");
        Path out = OutputFixture.bundle(work.resolve("a"), keys);

        // The agent is not told the server's limit: the server's refusals teach it.
        PublishResult result = new BundlePublisher(client).publish(out, options());

        assertThat(result.plan().mode()).isEqualTo(PublishPlan.Mode.BATCHES);
        assertThat(result.keys()).isEqualTo(keys.size());
        assertThat(result.transactions()).isGreaterThan(keys.size() / 16);
        assertThat(policyKeys()).isEqualTo(keys);
        assertTidy();

        PublishResult again = new BundlePublisher(client).publish(out, options());
        assertThat(again.transactions()).isZero();
    }

    @Test
    void theCommandLineWithTheServersLimitBatchesAndEndsWithOneSummaryLine() {
        SortedMap<String, String> keys = OutputFixture.generated(10, 190, "a");
        Path out = OutputFixture.bundle(work.resolve("a"), keys);

        AgentCli run =
                AgentCli.run(
                        "publish",
                        "--etcd",
                        etcd.clientUrls(),
                        "--max-txn-ops",
                        "16",
                        out.toString());

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out())
                .matches(
                        "published 210 keys \\(0 deleted\\) in \\d+ transactions, revision \\d+\n");
        assertThat(run.err()).doesNotContain("refused");
        assertThat(policyKeys()).isEqualTo(keys);
        assertTidy();
    }

    @Test
    void everyRevisionOfABatchedPublishKeepsEveryReferenceValid() throws Exception {
        SortedMap<String, String> first = OutputFixture.generated(0, 6, 0, 60, "a");
        Path a = OutputFixture.bundle(work.resolve("a"), first);
        OutputFixture.hostFile(a, "compute-1", "iptables.rules", "*filter\nCOMMIT\n");
        new BundlePublisher(client).publish(a, options().withMaxTxnOps(16));
        long before = EtcdContents.revision(etcd);

        // New profiles, new endpoints using them; the old endpoints and profiles go.
        SortedMap<String, String> second = OutputFixture.generated(6, 6, 60, 60, "b");
        Path b = OutputFixture.bundle(work.resolve("b"), second);
        OutputFixture.hostFile(b, "compute-1", "iptables.rules", "*filter\n:cali-INPUT -\n");
        OutputFixture.hostFile(b, "compute-2", "ipset.rules", "create x hash:ip\n");
        PublishResult result = new BundlePublisher(client).publish(b, options().withMaxTxnOps(16));

        long after = EtcdContents.revision(etcd);
        assertThat(result.plan().mode()).isEqualTo(PublishPlan.Mode.BATCHES);
        assertThat(after - before).isGreaterThan(10);
        for (long rev = before; rev <= after; rev++) {
            assertReferencesValid(rev);
        }
        assertThat(policyKeys()).isEqualTo(second);
        assertTidy();
    }

    @Test
    void aPublishStoppedBetweenBatchesIsCompletedByTheNextRun() throws Exception {
        SortedMap<String, String> keys = OutputFixture.generated(10, 200, "a");
        Path out = OutputFixture.bundle(work.resolve("a"), keys);

        assertThatThrownBy(
                        () ->
                                new BundlePublisher(client)
                                        .publish(out, options().withListener(dieAfter(5))))
                .isInstanceOf(PublisherDied.class);

        SortedMap<String, String> records = EtcdContents.read(etcd, "/calico-policy/").values();
        assertThat(records).containsKey(Keyspace.PENDING).doesNotContainKey(Keyspace.PUBLISHED);
        assertThat(policyKeys()).isNotEmpty().hasSizeLessThan(keys.size());
        assertReferencesValid(0);

        PublishResult next = new BundlePublisher(client).publish(out, options());

        assertThat(next.plan().completes()).isPresent();
        assertThat(policyKeys()).isEqualTo(keys);
        assertTidy();
        assertOnlyRecordedShardsRemain();
    }

    @Test
    void keysADeadRunWroteAreDeletedWhenTheNextBundleDropsThem() throws Exception {
        SortedMap<String, String> base = OutputFixture.generated(0, 4, 0, 40, "a");
        Path a = OutputFixture.bundle(work.resolve("a"), base);
        new BundlePublisher(client).publish(a, options());

        SortedMap<String, String> grown =
                OutputFixture.merged(base, OutputFixture.generated(4, 4, 40, 120, "a"));
        Path b = OutputFixture.bundle(work.resolve("b"), grown);
        assertThatThrownBy(
                        () ->
                                new BundlePublisher(client)
                                        .publish(b, options().withListener(dieAfter(8))))
                .isInstanceOf(PublisherDied.class);
        SortedMap<String, String> written = policyKeys();
        written.keySet().removeAll(base.keySet());
        assertThat(written).as("keys the dead run wrote").isNotEmpty();

        // The next publish goes back to the first bundle: what the dead run wrote goes away,
        // what someone else wrote stays.
        PublishResult back = new BundlePublisher(client).publish(a, options());

        assertThat(back.plan().removed()).containsAll(written.keySet());
        assertThat(policyKeys()).isEqualTo(base);
        assertTidy();
        assertOnlyRecordedShardsRemain();
    }

    @Test
    void aPublisherKilledWithSigkillMidPublishIsCompletedByTheNextRun() throws Exception {
        SortedMap<String, String> keys = OutputFixture.generated(50, 4000, "a");
        Path out = OutputFixture.bundle(work.resolve("a"), keys);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process agent =
                new ProcessBuilder(
                                java,
                                "-cp",
                                System.getProperty("java.class.path"),
                                "dev.calicopolicy.agent.cli.CalicoAgent",
                                "publish",
                                "--etcd",
                                etcd.clientUrls(),
                                "--max-txn-ops",
                                "16",
                                "--lock-ttl",
                                "5s",
                                out.toString())
                        .redirectErrorStream(true)
                        .redirectOutput(work.resolve("agent.log").toFile())
                        .start();
        try {
            // Kill it once it has written a few batches under the lock.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (lockBatch() < 20) {
                assertThat(agent.isAlive())
                        .as("the agent should still run at batch 20: make the bundle larger")
                        .isTrue();
                assertThat(System.nanoTime()).isLessThan(deadline);
                Thread.sleep(5);
            }
            agent.destroyForcibly().waitFor(); // SIGKILL
        } finally {
            agent.destroyForcibly();
        }
        assertThat(agent.exitValue()).isEqualTo(137);
        assertThat(EtcdContents.read(etcd, "/calico-policy/").values())
                .containsKeys(Keyspace.PENDING, Keyspace.LOCK)
                .doesNotContainKey(Keyspace.PUBLISHED);

        // While the dead publisher's lease lives, a new publish is refused.
        assertThatThrownBy(() -> new BundlePublisher(client).publish(out, options()))
                .isInstanceOf(PublishException.class)
                .hasMessageContaining("another publish is in progress");

        // Then the lock expires with its lease and the next run completes the publish.
        long expiry = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (EtcdContents.read(etcd, Keyspace.LOCK).values().containsKey(Keyspace.LOCK)) {
            assertThat(System.nanoTime()).isLessThan(expiry);
            Thread.sleep(100);
        }
        PublishResult next = new BundlePublisher(client).publish(out, options());

        assertThat(next.plan().completes()).isPresent();
        assertThat(policyKeys()).isEqualTo(keys);
        assertTidy();
        assertOnlyRecordedShardsRemain();
    }

    @Test
    void aPublishThatTakesLongerThanItsLockTtlKeepsTheLockAlive() throws Exception {
        SortedMap<String, String> keys = OutputFixture.generated(4, 100, "a");
        Path out = OutputFixture.bundle(work.resolve("a"), keys);
        PublishListener slow =
                new PublishListener() {
                    @Override
                    public void committed(PublishProgress progress) {
                        sleep(400);
                    }
                };

        long start = System.nanoTime();
        PublishResult result =
                new BundlePublisher(client)
                        .publish(
                                out,
                                options()
                                        .withMaxTxnOps(16)
                                        .withLockTtl(java.time.Duration.ofSeconds(2))
                                        .withListener(slow));

        assertThat(System.nanoTime() - start).isGreaterThan(TimeUnit.SECONDS.toNanos(4));
        assertThat(result.keys()).isEqualTo(keys.size());
        assertThat(policyKeys()).isEqualTo(keys);
        assertTidy();
    }

    @Test
    void aPublisherStalledLongerThanItsLockTtlStopsAndTheNextRunCompletes() throws Exception {
        SortedMap<String, String> keys = OutputFixture.generated(4, 100, "a");
        Path out = OutputFixture.bundle(work.resolve("a"), keys);
        PublishListener stall =
                new PublishListener() {
                    @Override
                    public void committed(PublishProgress progress) {
                        if (progress.transactions() == 3) {
                            sleep(6000);
                        }
                    }
                };

        assertThatThrownBy(
                        () ->
                                new BundlePublisher(client)
                                        .publish(
                                                out,
                                                options()
                                                        .withMaxTxnOps(16)
                                                        .withLockTtl(
                                                                java.time.Duration.ofSeconds(2))
                                                        .withListener(stall)))
                .isInstanceOf(PublishException.class)
                .hasMessageStartingWith("the publish lock is gone (its lease expired) after 3")
                .hasMessageContaining("run publish again to complete it");

        PublishResult next = new BundlePublisher(client).publish(out, options());
        assertThat(next.plan().completes()).isPresent();
        assertThat(policyKeys()).isEqualTo(keys);
        assertTidy();
    }

    @Test
    void ofTwoBatchedPublishersStartingTogetherOneWinsAndTheOtherWritesNothing() throws Exception {
        SortedMap<String, String> x = OutputFixture.generated(0, 5, 0, 100, "x");
        SortedMap<String, String> y = OutputFixture.generated(5, 5, 100, 100, "y");
        List<Object> outcomes =
                race(
                        client,
                        OutputFixture.bundle(work.resolve("x"), x),
                        OutputFixture.bundle(work.resolve("y"), y));

        assertThat(outcomes).hasSize(2);
        long winners = outcomes.stream().filter(o -> o instanceof PublishResult).count();
        assertThat(winners).isEqualTo(1);
        PublishException loser =
                (PublishException)
                        outcomes.stream()
                                .filter(o -> o instanceof PublishException)
                                .findFirst()
                                .get();
        assertThat(loser.reason())
                .isIn(PublishException.Reason.LOCKED, PublishException.Reason.CONFLICT);
        assertThat(loser.getMessage()).contains("nothing was written");
        boolean xWon = outcomes.get(0) instanceof PublishResult;
        assertThat(policyKeys()).isEqualTo(xWon ? x : y);
        assertTidy();
    }

    @Test
    void aPublishStartedWhileAnotherIsBetweenBatchesFailsCleanlyAndTheFirstFinishes()
            throws Exception {
        SortedMap<String, String> first = OutputFixture.generated(0, 5, 0, 100, "x");
        SortedMap<String, String> second = OutputFixture.generated(5, 5, 100, 100, "y");
        Path a = OutputFixture.bundle(work.resolve("a"), first);
        Path b = OutputFixture.bundle(work.resolve("b"), second);
        CountDownLatch paused = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        PublishListener pauseAtThird =
                new PublishListener() {
                    @Override
                    public void committed(PublishProgress progress) {
                        if (progress.transactions() == 3) {
                            paused.countDown();
                            await(resume);
                        }
                    }
                };
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<PublishResult> running =
                    pool.submit(
                            () ->
                                    new BundlePublisher(client)
                                            .publish(a, options().withListener(pauseAtThird)));
            assertThat(paused.await(30, TimeUnit.SECONDS)).isTrue();

            assertThatThrownBy(() -> new BundlePublisher(client).publish(b, options()))
                    .isInstanceOf(PublishException.class)
                    .hasMessageContaining("another publish is in progress")
                    .hasMessageContaining("nothing was written");

            resume.countDown();
            assertThat(running.get(60, TimeUnit.SECONDS).keys()).isEqualTo(first.size());
        } finally {
            resume.countDown();
            pool.shutdownNow();
        }
        assertThat(policyKeys()).isEqualTo(first);
        assertTidy();
    }

    /** Runs two publishes that both plan before either writes; returns result or exception. */
    static List<Object> race(Client client, Path x, Path y) throws Exception {
        CyclicBarrier bothPlanned = new CyclicBarrier(2);
        PublishListener meet =
                new PublishListener() {
                    @Override
                    public void planned(PublishPlan plan) {
                        try {
                            bothPlanned.await(30, TimeUnit.SECONDS);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }
                };
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Object>> futures = new ArrayList<>();
            for (Path dir : List.of(x, y)) {
                futures.add(
                        pool.submit(
                                () -> {
                                    try {
                                        return new BundlePublisher(client)
                                                .publish(dir, options().withListener(meet));
                                    } catch (PublishException e) {
                                        return e;
                                    }
                                }));
            }
            List<Object> outcomes = new ArrayList<>();
            for (Future<Object> f : futures) {
                outcomes.add(f.get(60, TimeUnit.SECONDS));
            }
            return outcomes;
        } finally {
            pool.shutdownNow();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Thrown by a listener to stop a publish where it is. */
    static final class PublisherDied extends RuntimeException {
        private static final long serialVersionUID = 1L;

        PublisherDied() {
            super("simulated death of the publisher");
        }
    }

    static PublishListener dieAfter(int transactions) {
        return new PublishListener() {
            @Override
            public void committed(PublishProgress progress) {
                if (progress.transactions() >= transactions) {
                    throw new PublisherDied();
                }
            }
        };
    }

    private int lockBatch() throws IOException {
        String value = EtcdContents.read(etcd, Keyspace.LOCK).values().get(Keyspace.LOCK);
        return value == null ? -1 : new ObjectMapper().readTree(value).path("batch").asInt();
    }

    /** Every endpoint names existing profiles, and every host index its files, at a revision. */
    private void assertReferencesValid(long revision) throws IOException {
        ObjectMapper json = new ObjectMapper();
        SortedMap<String, String> policy =
                EtcdContents.read(etcd, "/calico/v1/", revision).values();
        for (Map.Entry<String, String> e : policy.entrySet()) {
            if (!e.getKey().contains("/endpoint/")) {
                continue;
            }
            JsonNode endpoint = json.readTree(e.getValue());
            for (JsonNode profile : endpoint.path("profile_ids")) {
                assertThat(policy)
                        .as("at revision %d, %s names profile %s", revision, e.getKey(), profile)
                        .containsKeys(
                                "/calico/v1/policy/profile/" + profile.asText() + "/rules",
                                "/calico/v1/policy/profile/" + profile.asText() + "/tags");
            }
        }
        SortedMap<String, String> hosts =
                EtcdContents.read(etcd, "/calico-policy/hosts/", revision).values();
        for (String key : hosts.keySet()) {
            if (key.endsWith("/" + HostFileLayout.INDEX)) {
                String host = key.split("/")[3];
                Map<String, byte[]> raw = new TreeMap<>();
                hosts.forEach((k, v) -> raw.put(k, v.getBytes(StandardCharsets.UTF_8)));
                assertThat(HostFileLayout.assemble(host, raw))
                        .as("at revision %d", revision)
                        .isPresent();
            }
        }
    }

    /** No shard is left over: the stored shards are exactly those the record names. */
    private void assertOnlyRecordedShardsRemain() throws IOException {
        SortedMap<String, String> records = EtcdContents.read(etcd, "/calico-policy/").values();
        OwnershipRecord record =
                OwnershipRecord.parse(
                        records.get(Keyspace.PUBLISHED).getBytes(StandardCharsets.UTF_8));
        List<String> stored =
                records.keySet().stream()
                        .filter(k -> k.startsWith(Keyspace.SHARDS))
                        .map(k -> k.substring(Keyspace.SHARDS.length()))
                        .toList();
        assertThat(stored).containsExactlyInAnyOrderElementsOf(record.shardNames());
    }
}
