package dev.calicopolicy.dsl.emit.etcd;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
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

    private static final JsonFactory JSON_FACTORY = new JsonFactory();

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
        // A streaming read: bundles of a large policy are tens of MiB, and a tree of them would
        // cost more than the rest of a small publish.
        Integer format = null;
        String prefix = null;
        String digest = null;
        List<Entry> entries = new ArrayList<>();
        try (JsonParser p = JSON_FACTORY.createParser(file.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException(file + ": not a bundle (expected a JSON object)");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "format" ->
                            format = value == JsonToken.VALUE_NUMBER_INT ? p.getIntValue() : -1;
                    case "prefix" -> prefix = p.getValueAsString();
                    case "digest" -> digest = p.getValueAsString();
                    case "entries" -> readEntries(p, file, entries);
                    default -> p.skipChildren();
                }
            }
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not a valid bundle: " + e.getOriginalMessage(), e);
        }
        if (format == null || format != FORMAT) {
            throw new IOException(
                    file + ": unsupported bundle format " + format + " (expected " + FORMAT + ")");
        }
        if (!PREFIX.equals(prefix)) {
            throw new IOException(
                    file + ": unexpected prefix " + prefix + " (expected " + PREFIX + ")");
        }
        EtcdBundle bundle;
        try {
            bundle = new EtcdBundle(entries);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        if (!bundle.digest().equals(digest)) {
            throw new IOException(
                    file
                            + ": digest "
                            + digest
                            + " does not match its entries ("
                            + bundle.digest()
                            + "); the file was changed after it was compiled");
        }
        return bundle;
    }

    private static void readEntries(JsonParser p, Path file, List<Entry> entries)
            throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new IOException(file + ": 'entries' should be a list");
        }
        while (p.nextToken() == JsonToken.START_OBJECT) {
            String key = null;
            String value = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken token = p.nextToken();
                if (token == JsonToken.VALUE_STRING && field.equals("key")) {
                    key = p.getText();
                } else if (token == JsonToken.VALUE_STRING && field.equals("value")) {
                    value = p.getText();
                } else {
                    p.skipChildren();
                }
            }
            if (key == null || value == null) {
                throw new IOException(file + ": every entry needs a string key and value");
            }
            entries.add(new Entry(key, value));
        }
    }
}
