package dev.calicopolicy.agent.publish;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class OwnedKeysTest {
    private static SortedMap<String, String> keys(int count, String variant) {
        SortedMap<String, String> digests = new TreeMap<>();
        for (int i = 0; i < count; i++) {
            digests.put("/calico/v1/key/" + i, "d" + variant + i);
        }
        return digests;
    }

    @Test
    void theBucketCountDependsOnlyOnHowManyKeysThereAre() {
        assertThat(OwnedKeys.bucketCount(0)).isEqualTo(1);
        assertThat(OwnedKeys.bucketCount(512)).isEqualTo(1);
        assertThat(OwnedKeys.bucketCount(513)).isEqualTo(2);
        assertThat(OwnedKeys.bucketCount(100_000)).isEqualTo(256);
        assertThat(OwnedKeys.of(keys(3000, "a")).shardNames()).hasSize(8);
    }

    @Test
    void changingOneValueChangesOnlyTheShardOfItsBucket() {
        SortedMap<String, String> before = keys(5000, "a");
        SortedMap<String, String> after = new TreeMap<>(before);
        after.put("/calico/v1/key/77", "changed");

        List<String> a = OwnedKeys.of(before).shardNames();
        List<String> b = OwnedKeys.of(after).shardNames();

        List<Integer> differing = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            if (!a.get(i).equals(b.get(i))) {
                differing.add(i);
            }
        }
        assertThat(differing).containsExactly(OwnedKeys.bucketOf("/calico/v1/key/77", a.size()));
        assertThat(OwnedKeys.of(before).digest()).isNotEqualTo(OwnedKeys.of(after).digest());
    }

    @Test
    void equalSetsGiveEqualShardsAndDigests() {
        assertThat(OwnedKeys.of(keys(2000, "a")).shardNames())
                .isEqualTo(OwnedKeys.of(keys(2000, "a")).shardNames());
        assertThat(OwnedKeys.of(keys(2000, "a")).digest())
                .isEqualTo(OwnedKeys.of(keys(2000, "a")).digest());
    }

    @Test
    void aShardReadsBackAsTheKeysItHolds() throws IOException {
        OwnedKeys owned = OwnedKeys.of(keys(1500, "a"));
        SortedMap<String, String> all = new TreeMap<>();
        for (OwnedKeys.Shard s : owned.shards(List.of(0, 1, 2, 3))) {
            SortedMap<String, String> read = OwnedKeys.parseShard(s.value());
            assertThat(read).isEqualTo(s.digests());
            assertThat(OwnedKeys.shardName(read)).isEqualTo(s.name());
            all.putAll(read);
        }
        assertThat(all).isEqualTo(keys(1500, "a"));
    }

    @Test
    void theRecordRoundTripsThroughItsJson() throws IOException {
        OwnedKeys owned = OwnedKeys.of(keys(700, "a"));
        OwnershipRecord record =
                new OwnershipRecord(
                        owned.digest(),
                        "sha256:b",
                        owned.size(),
                        owned.shardNames(),
                        "id-1",
                        "2025-01-01T00:00:00Z",
                        "calico-agent test");

        assertThat(OwnershipRecord.parse(record.toJson())).isEqualTo(record);
        assertThat(new String(record.toJson()))
                .startsWith("{\"format\":1,\"digest\":\"" + owned.digest() + "\"");
    }
}
