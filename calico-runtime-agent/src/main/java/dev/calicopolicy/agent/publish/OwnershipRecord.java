package dev.calicopolicy.agent.publish;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a complete publish wrote, kept at {@code /calico-policy/published}: the digest of the owned
 * keys and values, the bundle they came from, and the shards that list every owned key with a
 * digest of its value. The tool deletes only keys listed here (or in the plan of a publish that
 * died half way), so a key someone else wrote under {@code /calico/v1/} is never touched.
 *
 * <p>Stored as JSON: {@code {"format":1,"digest":"sha256:…","bundle":"sha256:…","keys":42,
 * "shards":["<sha256>", ""…],"publish":"<id>","published_at":"…","by":"…"}}; {@code shards} has one
 * entry per bucket ({@code ""} for an empty one), each the name of a shard under {@code
 * /calico-policy/owned/}.
 *
 * @param digest the SHA-256 over every owned key and value digest
 * @param bundle the digest of the bundle published
 * @param keys how many keys are owned
 * @param shards the shard name of each bucket, {@code ""} for an empty bucket
 * @param publishId the id of the publish that wrote this record
 * @param publishedAt when (ISO-8601 UTC)
 * @param by who published (tool and host name)
 */
public record OwnershipRecord(
        String digest,
        String bundle,
        int keys,
        List<String> shards,
        String publishId,
        String publishedAt,
        String by) {
    static final int FORMAT = 1;

    public OwnershipRecord {
        Objects.requireNonNull(digest, "digest should not be null");
        Objects.requireNonNull(bundle, "bundle should not be null");
        shards = List.copyOf(shards);
        Objects.requireNonNull(publishId, "publishId should not be null");
        Objects.requireNonNull(publishedAt, "publishedAt should not be null");
        Objects.requireNonNull(by, "by should not be null");
    }

    /** The names of the shards that exist (non-empty buckets). */
    public List<String> shardNames() {
        return shards.stream().filter(s -> !s.isEmpty()).toList();
    }

    ObjectNode toJsonNode() {
        ObjectNode root = RecordJson.MAPPER.createObjectNode();
        root.put("format", FORMAT);
        root.put("digest", digest);
        root.put("bundle", bundle);
        root.put("keys", keys);
        shards.forEach(root.putArray("shards")::add);
        root.put("publish", publishId);
        root.put("published_at", publishedAt);
        root.put("by", by);
        return root;
    }

    /** The record as stored. */
    public byte[] toJson() {
        return RecordJson.write(toJsonNode());
    }

    /**
     * Reads a stored record.
     *
     * @throws IOException if it is not a valid record
     */
    public static OwnershipRecord parse(byte[] value) throws IOException {
        return fromJsonNode(RecordJson.read(value, "ownership record"));
    }

    static OwnershipRecord fromJsonNode(JsonNode root) throws IOException {
        if (root.path("format").asInt(-1) != FORMAT) {
            throw new IOException(
                    "ownership record of unknown format "
                            + root.path("format")
                            + " (this agent reads format "
                            + FORMAT
                            + ")");
        }
        List<String> shards = new ArrayList<>();
        for (JsonNode s : root.path("shards")) {
            if (!s.isTextual()) {
                throw new IOException("ownership record lists a shard that is not a string");
            }
            shards.add(s.asText());
        }
        if (Integer.bitCount(Math.max(shards.size(), 1)) != 1 || shards.isEmpty()) {
            throw new IOException(
                    "ownership record has " + shards.size() + " shards (expected a power of two)");
        }
        return new OwnershipRecord(
                RecordJson.text(root, "digest"),
                RecordJson.text(root, "bundle"),
                root.path("keys").asInt(0),
                shards,
                RecordJson.text(root, "publish"),
                RecordJson.text(root, "published_at"),
                root.path("by").asText(""));
    }
}
