package dev.calicopolicy.dsl.emit.etcd;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * The etcd key/value bundle: every key the policy puts under {@code /calico/v1}, sorted, each with
 * the exact string stored in etcd. Its file form is {@code etcd/bundle.json}:
 *
 * <pre>
 * {
 *   "format": 1,
 *   "prefix": "/calico/v1",
 *   "digest": "sha256:…",
 *   "entries": [
 *     {"key": "…", "value": "…"},
 *     …
 *   ]
 * }
 * </pre>
 *
 * The digest is the SHA-256 of every entry's key, a newline, its value and a newline, in order.
 */
public final class EtcdBundle {
    public static final int FORMAT = 1;
    public static final String PREFIX = "/calico/v1";

    /** One key and the exact value stored under it. */
    public record Entry(String key, String value) {
        public Entry {
            Objects.requireNonNull(key, "key should not be null");
            Objects.requireNonNull(value, "value should not be null");
        }
    }

    private final List<Entry> entries;
    private final String digest;

    /** A bundle of these entries, which must be sorted by key with no key twice. */
    public EtcdBundle(List<Entry> entries) {
        this.entries = List.copyOf(entries);
        for (int i = 1; i < this.entries.size(); i++) {
            if (this.entries.get(i - 1).key().compareTo(this.entries.get(i).key()) >= 0) {
                throw new IllegalArgumentException(
                        "bundle entries must be sorted by key, without repeats: "
                                + this.entries.get(i).key());
            }
        }
        this.digest = digestOf(this.entries);
    }

    public List<Entry> entries() {
        return entries;
    }

    /** {@code sha256:} and the hex digest of the entries. */
    public String digest() {
        return digest;
    }

    private static String digestOf(List<Entry> entries) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Entry e : entries) {
                sha.update(e.key().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) '\n');
                sha.update(e.value().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) '\n');
            }
            return "sha256:" + HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** The file form: one entry a line, so that a diff of two bundles reads well. */
    public byte[] toJson() {
        JsonStringEncoder encoder = JsonStringEncoder.getInstance();
        long size = 256;
        for (Entry e : entries) {
            size += e.key().length() + e.value().length() * 11L / 10 + 32;
        }
        StringBuilder out = new StringBuilder((int) Math.min(Integer.MAX_VALUE - 16, size));
        out.append("{\n");
        out.append("  \"format\": ").append(FORMAT).append(",\n");
        out.append("  \"prefix\": \"").append(PREFIX).append("\",\n");
        out.append("  \"digest\": \"").append(digest).append("\",\n");
        out.append("  \"entries\": [");
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            out.append(i == 0 ? "\n" : ",\n");
            out.append("    {\"key\": \"").append(encoder.quoteAsString(e.key()));
            out.append("\", \"value\": \"").append(encoder.quoteAsString(e.value())).append("\"}");
        }
        out.append(entries.isEmpty() ? "]\n" : "\n  ]\n");
        out.append("}\n");
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Reads a bundle file, checking its format, prefix, order and digest.
     *
     * @throws IOException if the file cannot be read or is not a valid bundle
     */
    public static EtcdBundle read(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": not a bundle (expected a JSON object)");
        }
        if (root.path("format").asInt(-1) != FORMAT) {
            throw new IOException(
                    file
                            + ": unsupported bundle format "
                            + root.path("format")
                            + " (expected "
                            + FORMAT
                            + ")");
        }
        if (!PREFIX.equals(root.path("prefix").asText())) {
            throw new IOException(
                    file
                            + ": unexpected prefix "
                            + root.path("prefix")
                            + " (expected "
                            + PREFIX
                            + ")");
        }
        List<Entry> entries = new ArrayList<>();
        for (JsonNode e : root.path("entries")) {
            if (!e.path("key").isTextual() || !e.path("value").isTextual()) {
                throw new IOException(file + ": every entry needs a string key and value");
            }
            entries.add(new Entry(e.get("key").asText(), e.get("value").asText()));
        }
        EtcdBundle bundle;
        try {
            bundle = new EtcdBundle(entries);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        if (!bundle.digest().equals(root.path("digest").asText())) {
            throw new IOException(
                    file
                            + ": digest "
                            + root.path("digest").asText()
                            + " does not match its entries ("
                            + bundle.digest()
                            + "); the file was changed after it was compiled");
        }
        return bundle;
    }
}
