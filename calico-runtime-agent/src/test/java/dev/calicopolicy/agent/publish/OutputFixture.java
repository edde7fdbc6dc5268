package dev.calicopolicy.agent.publish;

import dev.calicopolicy.dsl.Compilation;
import dev.calicopolicy.dsl.CompileOptions;
import dev.calicopolicy.dsl.OutputWriter;
import dev.calicopolicy.dsl.PolicyCompiler;
import dev.calicopolicy.dsl.emit.etcd.EtcdBundle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** Compile output directories for tests: compiled from policy text, or written key by key. */
final class OutputFixture {
    private OutputFixture() {}

    /** Compiles {@code source} with the real compiler into {@code work/name}. */
    static Path compile(Path work, String name, String source) {
        try {
            // One source folder for every compile, so that host files, whose comments name the
            // source, differ only where the policy does.
            Path src = work.resolve("src");
            Files.createDirectories(src);
            Files.writeString(src.resolve("policy.calico"), source, StandardCharsets.UTF_8);
            Compilation compilation = new PolicyCompiler(work).compile(List.of(src));
            if (compilation.hasErrors()) {
                throw new IllegalArgumentException(
                        "test policy does not compile: " + compilation.diagnostics());
            }
            Path out = work.resolve(name);
            OutputWriter.write(compilation, CompileOptions.DEFAULTS, out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Compiles {@code source} and keeps only the bundle: no host files, no manifest; for tests
     * about the keys under {@code /calico/v1/} alone.
     */
    static Path compileBundleOnly(Path work, String name, String source) {
        Path out = compile(work, name, source);
        if (!Files.exists(out.resolve("hosts"))) {
            return out;
        }
        try (var files = Files.walk(out.resolve("hosts"))) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
            Files.deleteIfExists(out.resolve("manifest.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** The files of {@code out/hosts/<host>/}, by name. */
    static SortedMap<String, String> hostFilesOf(Path out, String host) throws IOException {
        SortedMap<String, String> files = new TreeMap<>();
        try (var list = Files.list(out.resolve("hosts").resolve(host))) {
            for (Path f : list.toList()) {
                files.put(f.getFileName().toString(), Files.readString(f));
            }
        }
        return files;
    }

    /** Writes a bundle of these entries into {@code out/etcd/bundle.json}. */
    static Path bundle(Path out, SortedMap<String, String> entries) {
        try {
            List<EtcdBundle.Entry> list = new ArrayList<>();
            entries.forEach((k, v) -> list.add(new EtcdBundle.Entry(k, v)));
            Path file = out.resolve("etcd/bundle.json");
            Files.createDirectories(file.getParent());
            Files.write(file, new EtcdBundle(list).toJson());
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes a host file by hand, as the host emitter would. */
    static void hostFile(Path out, String host, String name, String content) {
        try {
            Path file = out.resolve("hosts").resolve(host).resolve(name);
            Files.createDirectories(file.getParent());
            Files.writeString(file, content, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A policy with {@code profiles} profiles ({@code p0}...) and {@code endpoints} endpoints
     * spread over 10 hosts, endpoint {@code i} using profile {@code i % profiles}; {@code variant}
     * changes the values so that two variants differ in every key.
     */
    static SortedMap<String, String> generated(int profiles, int endpoints, String variant) {
        return generated(0, profiles, 0, endpoints, variant);
    }

    /** Like {@link #generated(int, int, String)}, for profiles and endpoints in given ranges. */
    static SortedMap<String, String> generated(
            int firstProfile, int profiles, int firstEndpoint, int endpoints, String variant) {
        SortedMap<String, String> entries = new TreeMap<>();
        for (int p = firstProfile; p < firstProfile + profiles; p++) {
            entries.put(profileKey(p, "rules"), rules(p, variant));
            entries.put(profileKey(p, "tags"), "[\"t" + p + "\"]");
        }
        for (int i = firstEndpoint; i < firstEndpoint + endpoints; i++) {
            int profile = firstProfile + (i % profiles);
            entries.put(endpointKey(i), endpoint(i, "p" + profile, variant));
        }
        return entries;
    }

    static String profileKey(int p, String leaf) {
        return "/calico/v1/policy/profile/p" + p + "/" + leaf;
    }

    static String endpointKey(int i) {
        return "/calico/v1/host/compute-"
                + (i % 10)
                + "/workload/openstack/vm-"
                + i
                + "/endpoint/ep"
                + i;
    }

    static String rules(int p, String variant) {
        return "{\"inbound_rules\":[{\"protocol\":\"tcp\",\"src_tag\":\"t"
                + p
                + "\",\"dst_ports\":["
                + (1000 + p)
                + "],\"action\":\"allow\"}],\"outbound_rules\":[{\"action\":\"allow\"}],"
                + "\"x\":\""
                + variant
                + "\"}";
    }

    static String endpoint(int i, String profile, String variant) {
        int a = (i / 250) % 250;
        int b = i % 250;
        return "{\"state\":\"active\",\"name\":\"tap"
                + i
                + variant
                + "\",\"mac\":\"02:00:00:00:"
                + String.format("%02x:%02x", a, b)
                + "\",\"profile_ids\":[\""
                + profile
                + "\"],\"ipv4_nets\":[\"10."
                + (i / 62500)
                + "."
                + a
                + "."
                + b
                + "/32\"]}";
    }

    /** The entries of a bundle file as a map. */
    static SortedMap<String, String> entriesOf(Path out) throws IOException {
        SortedMap<String, String> map = new TreeMap<>();
        for (EtcdBundle.Entry e : EtcdBundle.read(out.resolve("etcd/bundle.json")).entries()) {
            map.put(e.key(), e.value());
        }
        return map;
    }

    static SortedMap<String, String> merged(Map<String, String> first, Map<String, String> second) {
        SortedMap<String, String> all = new TreeMap<>(first);
        all.putAll(second);
        return all;
    }
}
