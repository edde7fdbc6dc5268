package dev.calicopolicy.agent.publish;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A set of keys, each with the digest of its value ({@link Digests#valueDigest}), split into shards
 * for storage. A key's shard is picked by a hash of the key, among a power-of-two number of buckets
 * that depends only on how many keys there are; so when a publish changes a few values, only their
 * shards change, and two sets with the same bucket count can be compared shard by shard without
 * reading the unchanged ones.
 *
 * <p>A shard's value is a JSON object from key to value digest, sorted by key. Its name is the
 * SHA-256 of its entries (each key, a newline, its digest and a newline, in key order), and it is
 * stored under {@code /calico-policy/owned/<name>}.
 */
final class OwnedKeys {
    /** About how many keys a shard holds: small enough that a change rewrites little. */
    static final int KEYS_PER_SHARD = 512;

    /** One shard: its name, its value and its keys. */
    record Shard(String name, byte[] value, SortedMap<String, String> digests) {}

    private final SortedMap<String, String> digests;
    private final String[] keys;
    private final int[] buckets;
    private final int bucketCount;
    private final List<String> shardNames;
    private final String digest;

    private OwnedKeys(
            SortedMap<String, String> digests,
            String[] keys,
            int[] buckets,
            int bucketCount,
            List<String> shardNames,
            String digest) {
        this.digests = digests;
        this.keys = keys;
        this.buckets = buckets;
        this.bucketCount = bucketCount;
        this.shardNames = shardNames;
        this.digest = digest;
    }

    /** The set of these keys (key to value digest); the map must not change afterwards. */
    static OwnedKeys of(SortedMap<String, String> digests) {
        int count = bucketCount(digests.size());
        String[] keys = new String[digests.size()];
        int[] buckets = new int[digests.size()];
        MessageDigest[] shards = new MessageDigest[count];
        MessageDigest keyHash = Digests.sha256();
        int i = 0;
        for (Map.Entry<String, String> e : digests.entrySet()) {
            int b = bucketOf(e.getKey(), count, keyHash);
            keys[i] = e.getKey();
            buckets[i] = b;
            i++;
            if (shards[b] == null) {
                shards[b] = Digests.sha256();
            }
            shards[b].update(e.getKey().getBytes(StandardCharsets.UTF_8));
            shards[b].update((byte) '\n');
            shards[b].update(e.getValue().getBytes(StandardCharsets.UTF_8));
            shards[b].update((byte) '\n');
        }
        List<String> names = new ArrayList<>(count);
        MessageDigest all = Digests.sha256();
        all.update((count + "\n").getBytes(StandardCharsets.UTF_8));
        for (MessageDigest shard : shards) {
            String name = shard == null ? "" : Digests.hex(shard.digest());
            names.add(name);
            all.update((name + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return new OwnedKeys(
                Collections.unmodifiableSortedMap(digests),
                keys,
                buckets,
                count,
                Collections.unmodifiableList(names),
                "sha256:" + Digests.hex(all.digest()));
    }

    /** The smallest power of two of buckets that keeps shards near {@link #KEYS_PER_SHARD}. */
    static int bucketCount(int keys) {
        int buckets = 1;
        while ((long) buckets * KEYS_PER_SHARD < keys) {
            buckets <<= 1;
        }
        return buckets;
    }

    /** The bucket of {@code key} among {@code buckets}. */
    static int bucketOf(String key, int buckets) {
        return bucketOf(key, buckets, Digests.sha256());
    }

    private static int bucketOf(String key, int buckets, MessageDigest sha) {
        byte[] h = sha.digest(key.getBytes(StandardCharsets.UTF_8));
        int top =
                ((h[0] & 0xff) << 24)
                        | ((h[1] & 0xff) << 16)
                        | ((h[2] & 0xff) << 8)
                        | (h[3] & 0xff);
        return top & (buckets - 1);
    }

    /** The name a shard with these entries has. */
    static String shardName(SortedMap<String, String> entries) {
        MessageDigest sha = Digests.sha256();
        for (Map.Entry<String, String> e : entries.entrySet()) {
            sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            sha.update((byte) '\n');
            sha.update(e.getValue().getBytes(StandardCharsets.UTF_8));
            sha.update((byte) '\n');
        }
        return Digests.hex(sha.digest());
    }

    /** Every key with its value digest, sorted. */
    SortedMap<String, String> digests() {
        return digests;
    }

    int bucketCount() {
        return bucketCount;
    }

    /** The shard names by bucket, {@code ""} for an empty bucket, as the record lists them. */
    List<String> shardNames() {
        return shardNames;
    }

    /** The shards of these buckets, built in one pass. */
    List<Shard> shards(List<Integer> bucketList) {
        boolean[] wanted = new boolean[bucketCount];
        List<SortedMap<String, String>> entries = new ArrayList<>(bucketCount);
        for (int b = 0; b < bucketCount; b++) {
            entries.add(null);
        }
        for (int b : bucketList) {
            wanted[b] = true;
            entries.set(b, new TreeMap<>());
        }
        for (int i = 0; i < keys.length; i++) {
            if (wanted[buckets[i]]) {
                entries.get(buckets[i]).put(keys[i], digests.get(keys[i]));
            }
        }
        List<Shard> shards = new ArrayList<>(bucketList.size());
        for (int b : bucketList) {
            SortedMap<String, String> e = Collections.unmodifiableSortedMap(entries.get(b));
            shards.add(new Shard(shardNames.get(b), shardValue(e), e));
        }
        return shards;
    }

    /** The bucket of each key, in key order. */
    int[] buckets() {
        return Arrays.copyOf(buckets, buckets.length);
    }

    /** The keys in order, matching {@link #buckets()}. */
    String[] keys() {
        return Arrays.copyOf(keys, keys.length);
    }

    /** A digest of the whole set: equal exactly when the sets are equal. */
    String digest() {
        return digest;
    }

    int size() {
        return keys.length;
    }

    /** The stored form of a shard. */
    static byte[] shardValue(SortedMap<String, String> digests) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(digests.size() * 120 + 2);
        try (JsonGenerator g = RecordJson.MAPPER.getFactory().createGenerator(out)) {
            g.writeStartObject();
            for (Map.Entry<String, String> e : digests.entrySet()) {
                g.writeStringField(e.getKey(), e.getValue());
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON to memory cannot fail", e);
        }
        return out.toByteArray();
    }

    /**
     * Reads a stored shard.
     *
     * @throws IOException if it is not a JSON object of strings
     */
    static SortedMap<String, String> parseShard(byte[] value) throws IOException {
        SortedMap<String, String> digests = new TreeMap<>();
        try (JsonParser p = RecordJson.MAPPER.getFactory().createParser(value)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("a shard must be a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                if (p.nextToken() != JsonToken.VALUE_STRING) {
                    throw new IOException("shard entry " + key + " is not a string");
                }
                digests.put(key, p.getText());
            }
        }
        return digests;
    }
}
