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
 * <p>A shard's value is a JSON object from key to value digest, sorted by key; it is stored under
 * {@code /calico-policy/owned/<SHA-256 of the value>}.
 */
final class OwnedKeys {
    /** About how many keys a shard holds: small enough that a change rewrites little. */
    static final int KEYS_PER_SHARD = 512;

    /** One shard: its name (the SHA-256 of its value), its value and its keys. */
    record Shard(String name, byte[] value, SortedMap<String, String> digests) {}

    private final SortedMap<String, String> digests;
    private final int bucketCount;
    private final List<Shard> shards;
    private final String digest;

    private OwnedKeys(
            SortedMap<String, String> digests, int bucketCount, List<Shard> shards, String digest) {
        this.digests = digests;
        this.bucketCount = bucketCount;
        this.shards = shards;
        this.digest = digest;
    }

    /** The set of these keys (key to value digest). */
    static OwnedKeys of(SortedMap<String, String> digests) {
        SortedMap<String, String> copy = Collections.unmodifiableSortedMap(new TreeMap<>(digests));
        int buckets = bucketCount(copy.size());
        List<SortedMap<String, String>> byBucket = new ArrayList<>(buckets);
        for (int i = 0; i < buckets; i++) {
            byBucket.add(new TreeMap<>());
        }
        MessageDigest keyHash = Digests.sha256();
        MessageDigest content = Digests.sha256();
        for (Map.Entry<String, String> e : copy.entrySet()) {
            byBucket.get(bucketOf(e.getKey(), buckets, keyHash)).put(e.getKey(), e.getValue());
            content.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            content.update((byte) '\n');
            content.update(e.getValue().getBytes(StandardCharsets.UTF_8));
            content.update((byte) '\n');
        }
        List<Shard> shards = new ArrayList<>(buckets);
        for (SortedMap<String, String> bucket : byBucket) {
            if (bucket.isEmpty()) {
                shards.add(null);
            } else {
                byte[] value = shardValue(bucket);
                shards.add(
                        new Shard(
                                Digests.sha256Hex(value),
                                value,
                                Collections.unmodifiableSortedMap(bucket)));
            }
        }
        return new OwnedKeys(
                copy,
                buckets,
                Collections.unmodifiableList(shards),
                "sha256:" + Digests.hex(content.digest()));
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

    SortedMap<String, String> digests() {
        return digests;
    }

    int bucketCount() {
        return bucketCount;
    }

    /** The shard of each bucket, {@code null} for an empty bucket. */
    List<Shard> shards() {
        return shards;
    }

    /** The shard names by bucket, {@code ""} for an empty bucket, as the record lists them. */
    List<String> shardNames() {
        List<String> names = new ArrayList<>(shards.size());
        for (Shard s : shards) {
            names.add(s == null ? "" : s.name());
        }
        return names;
    }

    /** The SHA-256 of every key and value digest: equal exactly when the sets are equal. */
    String digest() {
        return digest;
    }

    int size() {
        return digests.size();
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
