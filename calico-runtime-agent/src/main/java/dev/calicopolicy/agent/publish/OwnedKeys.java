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

    private final String[] keys;
    private final String[] digests;
    private final int[] buckets;
    private final int bucketCount;
    private final List<String> shardNames;
    private final String digest;

    private OwnedKeys(
            String[] keys,
            String[] digests,
            int[] buckets,
            int bucketCount,
            List<String> shardNames,
            String digest) {
        this.keys = keys;
        this.digests = digests;
        this.buckets = buckets;
        this.bucketCount = bucketCount;
        this.shardNames = shardNames;
        this.digest = digest;
    }

    /** The set of these keys (key to value digest). */
    static OwnedKeys of(SortedMap<String, String> digests) {
        return of(digests.keySet().toArray(String[]::new), digests.values().toArray(String[]::new));
    }

    /**
     * The set of these keys, given in two arrays: the keys, sorted without repeats, and the digest
     * of each one's value. The arrays are kept, not copied.
     */
    static OwnedKeys of(String[] keys, String[] digests) {
        int count = bucketCount(keys.length);
        int[] buckets = new int[keys.length];
        MessageDigest[] shards = new MessageDigest[count];
        MessageDigest keyHash = Digests.sha256();
        for (int i = 0; i < keys.length; i++) {
            int b = bucketOf(keys[i], count, keyHash);
            buckets[i] = b;
            if (shards[b] == null) {
                shards[b] = Digests.sha256();
            }
            shards[b].update(keys[i].getBytes(StandardCharsets.UTF_8));
            shards[b].update((byte) '\n');
            shards[b].update(digests[i].getBytes(StandardCharsets.UTF_8));
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
                keys,
                digests,
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

    /** The value digest of {@code key}, or {@code null} if the set does not have it. */
    String digestOf(String key) {
        int i = Arrays.binarySearch(keys, key);
        return i < 0 ? null : digests[i];
    }

    boolean contains(String key) {
        return Arrays.binarySearch(keys, key) >= 0;
    }

    /** The value digest of the {@code i}-th key. */
    String digestAt(int i) {
        return digests[i];
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
                entries.get(buckets[i]).put(keys[i], digests[i]);
            }
        }
        List<Shard> shards = new ArrayList<>(bucketList.size());
        for (int b : bucketList) {
            SortedMap<String, String> e = Collections.unmodifiableSortedMap(entries.get(b));
            shards.add(new Shard(shardNames.get(b), shardValue(e), e));
        }
        return shards;
    }

    /** The bucket of the {@code i}-th key. */
    int bucketAt(int i) {
        return buckets[i];
    }

    /** The {@code i}-th key in order. */
    String keyAt(int i) {
        return keys[i];
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
