package dev.calicopolicy.agent.publish;

import com.fasterxml.jackson.databind.JsonNode;
import dev.calicopolicy.dsl.emit.etcd.EtcdBundle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What a compile output directory asks etcd to hold: every key of {@code etcd/bundle.json}, and the
 * files of each {@code hosts/<host>/} folder laid out as {@link HostFileLayout} says. The folder of
 * hosts is optional. When {@code manifest.json} is there, every output it lists must be present
 * with the digest it gives, so a directory mixed from two compiles is refused.
 */
public final class CompiledOutput {
    static final String BUNDLE = "etcd/bundle.json";
    static final String MANIFEST = "manifest.json";
    static final String HOSTS = "hosts";
    static final String HOST_FILE_SUFFIX = ".rules";

    private final Path dir;
    private final String bundleDigest;
    private final int bundleKeys;
    private final String[] keys;
    private final byte[][] values;
    private final SortedSet<String> hosts;
    private SortedMap<String, byte[]> entries;

    private CompiledOutput(
            Path dir,
            String bundleDigest,
            int bundleKeys,
            String[] keys,
            byte[][] values,
            SortedSet<String> hosts) {
        this.dir = dir;
        this.bundleDigest = bundleDigest;
        this.bundleKeys = bundleKeys;
        this.keys = keys;
        this.values = values;
        this.hosts = Collections.unmodifiableSortedSet(hosts);
    }

    /**
     * Reads a compile output directory.
     *
     * @throws IOException naming the file at fault if the directory is not a valid output
     */
    public static CompiledOutput read(Path dir) throws IOException {
        Objects.requireNonNull(dir, "dir should not be null");
        if (!Files.isDirectory(dir)) {
            throw new IOException(
                    dir + ": no such directory (expected the output of 'calicoc compile -o DIR')");
        }
        Path bundleFile = dir.resolve(BUNDLE);
        if (!Files.isRegularFile(bundleFile)) {
            throw new IOException(
                    bundleFile
                            + ": no such file (is "
                            + dir
                            + " the output of 'calicoc compile -o DIR'?)");
        }
        checkManifest(dir);

        EtcdBundle bundle = EtcdBundle.read(bundleFile);
        SortedMap<String, byte[]> hostEntries = new TreeMap<>();
        SortedSet<String> hosts = new TreeSet<>();
        Path hostsDir = dir.resolve(HOSTS);
        if (Files.isDirectory(hostsDir)) {
            for (Path hostDir : list(hostsDir)) {
                String host = hostDir.getFileName().toString();
                if (!Files.isDirectory(hostDir) || !HostFileLayout.isValidName(host)) {
                    throw new IOException(
                            hostDir
                                    + ": unexpected entry (the hosts folder holds one folder per"
                                    + " host, named [A-Za-z0-9_.-]+)");
                }
                hostEntries.putAll(HostFileLayout.entries(host, hostFiles(hostDir)));
                hosts.add(host);
            }
        } else if (Files.exists(hostsDir)) {
            throw new IOException(hostsDir + ": not a directory");
        }

        // Both parts are sorted; host keys (/calico-policy/...) sort before /calico/v1/ ones.
        int size = hostEntries.size() + bundle.entries().size();
        String[] keys = new String[size];
        byte[][] values = new byte[size][];
        int i = 0;
        for (Map.Entry<String, byte[]> e : hostEntries.entrySet()) {
            keys[i] = e.getKey();
            values[i++] = e.getValue();
        }
        for (EtcdBundle.Entry e : bundle.entries()) {
            if (!e.key().startsWith(Keyspace.POLICY)) {
                throw new IOException(
                        bundleFile + ": key " + e.key() + " is outside " + Keyspace.POLICY);
            }
            keys[i] = e.key();
            values[i++] = e.value().getBytes(StandardCharsets.UTF_8);
        }
        for (int k = 1; k < size; k++) {
            if (keys[k - 1].compareTo(keys[k]) >= 0) {
                throw new IllegalStateException("keys out of order: " + keys[k]);
            }
        }
        return new CompiledOutput(
                dir, bundle.digest(), bundle.entries().size(), keys, values, hosts);
    }

    private static SortedMap<String, byte[]> hostFiles(Path hostDir) throws IOException {
        SortedMap<String, byte[]> files = new TreeMap<>();
        for (Path file : list(hostDir)) {
            String name = file.getFileName().toString();
            if (!Files.isRegularFile(file)
                    || !name.endsWith(HOST_FILE_SUFFIX)
                    || !HostFileLayout.isValidName(name)) {
                throw new IOException(
                        file
                                + ": unexpected entry (a host folder holds only files named"
                                + " *.rules, such as iptables.rules)");
            }
            files.put(name, Files.readAllBytes(file));
        }
        return files;
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            List<Path> sorted = new ArrayList<>(entries.toList());
            Collections.sort(sorted);
            return sorted;
        }
    }

    /** Checks the outputs the manifest lists, when there is a manifest. */
    private static void checkManifest(Path dir) throws IOException {
        Path manifest = dir.resolve(MANIFEST);
        if (!Files.exists(manifest)) {
            return;
        }
        JsonNode root;
        try {
            root = RecordJson.read(Files.readAllBytes(manifest), "manifest");
        } catch (IOException e) {
            throw new IOException(manifest + ": " + e.getMessage(), e);
        }
        for (JsonNode output : root.path("outputs")) {
            String path = output.path("path").asText("");
            String sha = output.path("sha256").asText("");
            if (!path.equals(BUNDLE) && !path.startsWith(HOSTS + "/")) {
                continue;
            }
            Path file = dir.resolve(path).normalize();
            if (!file.startsWith(dir.normalize())) {
                throw new IOException(manifest + ": output path " + path + " leaves " + dir);
            }
            byte[] content;
            try {
                content = Files.readAllBytes(file);
            } catch (NoSuchFileException e) {
                throw new IOException(
                        file + ": missing, but " + manifest + " lists it as an output", e);
            }
            String actual = Digests.sha256Hex(content);
            if (!actual.equalsIgnoreCase(stripAlgorithm(sha))) {
                throw new IOException(
                        file
                                + ": SHA-256 "
                                + actual
                                + " differs from "
                                + manifest
                                + " ("
                                + sha
                                + "); the directory mixes outputs of different compiles");
            }
        }
    }

    private static String stripAlgorithm(String digest) {
        return digest.startsWith("sha256:") ? digest.substring("sha256:".length()) : digest;
    }

    /** The directory read. */
    public Path dir() {
        return dir;
    }

    /** The digest of {@code etcd/bundle.json}'s entries. */
    public String bundleDigest() {
        return bundleDigest;
    }

    /** How many keys the bundle has. */
    public int bundleKeys() {
        return bundleKeys;
    }

    /** Every key to publish with its value, sorted: the host files', then the bundle's. */
    public synchronized SortedMap<String, byte[]> entries() {
        if (entries == null) {
            SortedMap<String, byte[]> map = new TreeMap<>();
            for (int i = 0; i < keys.length; i++) {
                map.put(keys[i], values[i]);
            }
            entries = Collections.unmodifiableSortedMap(map);
        }
        return entries;
    }

    /** How many keys there are to publish. */
    public int size() {
        return keys.length;
    }

    /** The {@code i}-th key in order. */
    String key(int i) {
        return keys[i];
    }

    /** The value of the {@code i}-th key. */
    byte[] value(int i) {
        return values[i];
    }

    /** The value of {@code key}, or {@code null} if the output does not have it. */
    byte[] value(String key) {
        int i = Arrays.binarySearch(keys, key);
        return i < 0 ? null : values[i];
    }

    /** The hosts with files in the directory. */
    public SortedSet<String> hosts() {
        return hosts;
    }
}
