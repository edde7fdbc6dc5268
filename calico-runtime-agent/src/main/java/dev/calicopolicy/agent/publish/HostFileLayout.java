package dev.calicopolicy.agent.publish;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * How host files are stored in etcd, so that each host can fetch its own. For host {@code H} and
 * each of its files {@code F} (such as {@code iptables.rules}):
 *
 * <pre>
 * /calico-policy/hosts/H/digest                    the index: every file's name, size, SHA-256
 *                                                  and number of parts, and the host's digest
 * /calico-policy/hosts/H/files/F/&lt;sha256&gt;/0000    the file's first part, then 0001, ...
 * </pre>
 *
 * A part holds at most {@link #PART_BYTES} bytes and ends at a line end where one falls within that
 * size. Parts are named by the SHA-256 of the whole file, so the parts of a new version are written
 * beside the old ones, the index is switched after them and the old parts are deleted last: a
 * reader that takes everything under {@code /calico-policy/hosts/H/} at one revision always finds
 * the files the index names, complete ({@link #assemble}).
 *
 * <p>The index value is JSON: {@code {"format":1,"host":"H","digest":"sha256:…","files":[{"name":
 * "iptables.rules","sha256":"…","bytes":1234,"parts":1}, …]}}, files sorted by name. The host's
 * digest is the SHA-256 of each file's name, a newline, its hex SHA-256 and a newline, in name
 * order; it changes exactly when one of the host's files changes.
 */
public final class HostFileLayout {
    /** The largest part of a file stored under one key. */
    public static final int PART_BYTES = 256 * 1024;

    /** The name of the index key under a host's prefix. */
    public static final String INDEX = "digest";

    private static final int FORMAT = 1;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]+");
    private static final ObjectMapper JSON = new ObjectMapper();

    private HostFileLayout() {}

    /** One file in a host's index. */
    public record IndexedFile(String name, String sha256, long bytes, int parts) {
        public IndexedFile {
            Objects.requireNonNull(name, "name should not be null");
            Objects.requireNonNull(sha256, "sha256 should not be null");
        }
    }

    /** The value of a host's index key. */
    public record HostIndex(String host, String digest, List<IndexedFile> files) {
        public HostIndex {
            Objects.requireNonNull(host, "host should not be null");
            Objects.requireNonNull(digest, "digest should not be null");
            files = List.copyOf(files);
        }

        /** The index as stored in etcd. */
        public byte[] toJson() {
            ObjectNode root = JSON.createObjectNode();
            root.put("format", FORMAT);
            root.put("host", host);
            root.put("digest", digest);
            ArrayNode array = root.putArray("files");
            for (IndexedFile f : files) {
                array.addObject()
                        .put("name", f.name())
                        .put("sha256", f.sha256())
                        .put("bytes", f.bytes())
                        .put("parts", f.parts());
            }
            return RecordJson.write(root);
        }

        /**
         * Reads an index value.
         *
         * @throws IOException if it is not a valid index
         */
        public static HostIndex parse(byte[] value) throws IOException {
            JsonNode root = RecordJson.read(value, "host index");
            if (root.path("format").asInt(-1) != FORMAT) {
                throw new IOException("host index of unknown format " + root.path("format"));
            }
            List<IndexedFile> files = new ArrayList<>();
            for (JsonNode f : root.path("files")) {
                files.add(
                        new IndexedFile(
                                RecordJson.text(f, "name"),
                                RecordJson.text(f, "sha256"),
                                f.path("bytes").asLong(-1),
                                f.path("parts").asInt(-1)));
            }
            return new HostIndex(
                    RecordJson.text(root, "host"), RecordJson.text(root, "digest"), files);
        }
    }

    /** A host's files as fetched from etcd, each checked against the index. */
    public record Fetched(String host, String digest, SortedMap<String, byte[]> files) {
        public Fetched {
            Objects.requireNonNull(host, "host should not be null");
            Objects.requireNonNull(digest, "digest should not be null");
            files = Collections.unmodifiableSortedMap(new TreeMap<>(files));
        }
    }

    /** True if {@code name} can be a host or file name in a key. */
    public static boolean isValidName(String name) {
        return NAME.matcher(name).matches() && !name.equals(".") && !name.equals("..");
    }

    /** {@code /calico-policy/hosts/<host>/}: everything of one host. */
    public static String prefix(String host) {
        checkName(host, "host");
        return Keyspace.HOSTS + host + "/";
    }

    /** {@code /calico-policy/hosts/<host>/digest}: the host's index. */
    public static String indexKey(String host) {
        return prefix(host) + INDEX;
    }

    /** The prefix of the parts of one version of a file. */
    public static String partPrefix(String host, String file, String sha256) {
        checkName(file, "file");
        return prefix(host) + "files/" + file + "/" + sha256 + "/";
    }

    /** The key of part {@code index} (from 0) of one version of a file. */
    public static String partKey(String host, String file, String sha256, int index) {
        return partPrefix(host, file, sha256) + String.format("%04d", index);
    }

    /** The host's digest over its files (name to content). */
    public static String digest(SortedMap<String, byte[]> files) {
        StringBuilder text = new StringBuilder();
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            text.append(f.getKey()).append('\n').append(Digests.sha256Hex(f.getValue()));
            text.append('\n');
        }
        return "sha256:" + Digests.sha256Hex(text.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** The host's index for these files. */
    public static HostIndex index(String host, SortedMap<String, byte[]> files) {
        List<IndexedFile> indexed = new ArrayList<>();
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            indexed.add(
                    new IndexedFile(
                            f.getKey(),
                            Digests.sha256Hex(f.getValue()),
                            f.getValue().length,
                            split(f.getValue()).size()));
        }
        return new HostIndex(host, digest(files), indexed);
    }

    /** Every key and value that stores these files of {@code host}, sorted by key. */
    public static SortedMap<String, byte[]> entries(String host, SortedMap<String, byte[]> files) {
        SortedMap<String, byte[]> entries = new TreeMap<>();
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            String sha = Digests.sha256Hex(f.getValue());
            List<byte[]> parts = split(f.getValue());
            for (int i = 0; i < parts.size(); i++) {
                entries.put(partKey(host, f.getKey(), sha, i), parts.get(i));
            }
        }
        entries.put(indexKey(host), index(host, files).toJson());
        return entries;
    }

    /**
     * Puts a host's files back together from what etcd holds under {@link #prefix(String)}, read at
     * one revision.
     *
     * @param keyValues every key under the host's prefix with its value
     * @return the files, or empty when the host has no index (nothing published for it)
     * @throws IOException if a part is missing or a file does not match the index
     */
    public static Optional<Fetched> assemble(String host, Map<String, byte[]> keyValues)
            throws IOException {
        byte[] indexValue = keyValues.get(indexKey(host));
        if (indexValue == null) {
            return Optional.empty();
        }
        HostIndex index = HostIndex.parse(indexValue);
        SortedMap<String, byte[]> files = new TreeMap<>();
        for (IndexedFile f : index.files()) {
            ByteArrayOutputStream content = new ByteArrayOutputStream();
            for (int i = 0; i < f.parts(); i++) {
                String key = partKey(host, f.name(), f.sha256(), i);
                byte[] part = keyValues.get(key);
                if (part == null) {
                    throw new IOException(
                            "host " + host + ": part " + key + " of " + f.name() + " is missing");
                }
                content.writeBytes(part);
            }
            byte[] bytes = content.toByteArray();
            if (bytes.length != f.bytes() || !Digests.sha256Hex(bytes).equals(f.sha256())) {
                throw new IOException(
                        "host "
                                + host
                                + ": "
                                + f.name()
                                + " does not match its index (expected "
                                + f.bytes()
                                + " bytes with SHA-256 "
                                + f.sha256()
                                + ")");
            }
            files.put(f.name(), bytes);
        }
        if (!digest(files).equals(index.digest())) {
            throw new IOException("host " + host + ": the files do not match the index's digest");
        }
        return Optional.of(new Fetched(host, index.digest(), files));
    }

    /** Splits a file into parts of at most {@link #PART_BYTES}, ending at line ends if it can. */
    static List<byte[]> split(byte[] content) {
        List<byte[]> parts = new ArrayList<>();
        int start = 0;
        while (start < content.length) {
            int end = Math.min(content.length, start + PART_BYTES);
            if (end < content.length) {
                int lineEnd = end - 1;
                while (lineEnd >= start && content[lineEnd] != '\n') {
                    lineEnd--;
                }
                if (lineEnd >= start) {
                    end = lineEnd + 1;
                }
            }
            parts.add(Arrays.copyOfRange(content, start, end));
            start = end;
        }
        return parts;
    }

    private static void checkName(String name, String what) {
        if (!isValidName(name)) {
            throw new IllegalArgumentException(
                    what + " name '" + name + "' is not valid in a key (expected [A-Za-z0-9_.-]+)");
        }
    }
}
