package dev.calicopolicy.agent.publish;

import static org.assertj.core.api.Assertions.assertThat;

import dev.calicopolicy.agent.etcd.EtcdSettings;
import dev.calicopolicy.testkit.EtcdServer;
import io.etcd.jetcd.Client;
import java.nio.file.Path;
import java.util.SortedMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Publishing to a 3-member cluster that loses a member (its process killed) half way. */
class ClusterPublishTest {
    @TempDir Path work;

    @Test
    void aBatchedPublishGoesOnWhenTheLeaderIsKilledHalfWay() throws Exception {
        publishWhileKilling(true);
    }

    @Test
    void aBatchedPublishGoesOnWhenAFollowerIsKilledHalfWay() throws Exception {
        publishWhileKilling(false);
    }

    private void publishWhileKilling(boolean leader) throws Exception {
        try (EtcdServer etcd = EtcdServer.startCluster(3, "--max-txn-ops", "16");
                Client client = EtcdSettings.of(etcd.clientUrls()).connect()) {
            SortedMap<String, String> keys = OutputFixture.generated(10, 500, "a");
            Path out = OutputFixture.bundle(work.resolve("a"), keys);
            int victim = leader ? etcd.leader() : (etcd.leader() + 1) % 3;
            AtomicInteger killedAt = new AtomicInteger();
            PublishListener killer =
                    new PublishListener() {
                        @Override
                        public void committed(PublishProgress progress) {
                            if (progress.transactions() == 10) {
                                etcd.kill(victim);
                                killedAt.set(progress.transactions());
                            }
                        }
                    };

            PublishResult result =
                    new BundlePublisher(client)
                            .publish(
                                    out,
                                    PublishOptions.defaults()
                                            .withMaxTxnOps(16)
                                            .withListener(killer));

            assertThat(killedAt.get()).isEqualTo(10);
            assertThat(result.transactions()).isGreaterThan(20);
            assertThat(result.keys()).isEqualTo(keys.size());
            assertThat(EtcdContents.read(etcd, "/calico/v1/").values()).isEqualTo(keys);
            assertThat(EtcdContents.read(etcd, "/calico-policy/").values())
                    .containsKey(Keyspace.PUBLISHED)
                    .doesNotContainKeys(Keyspace.PENDING, Keyspace.LOCK);

            // The member comes back and catches up with what was published without it.
            etcd.restart(victim);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!EtcdContents.readLocal(etcd, victim, "/calico/v1/").values().equals(keys)) {
                assertThat(System.nanoTime())
                        .as("member %d catches up", victim)
                        .isLessThan(deadline);
                Thread.sleep(200);
            }
        }
    }
}
