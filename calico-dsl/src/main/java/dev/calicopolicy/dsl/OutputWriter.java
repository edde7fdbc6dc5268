package dev.calicopolicy.dsl;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calicopolicy.dsl.Compilation.InputFile;
import dev.calicopolicy.dsl.CompileOptions.WorkloadToHost;
import dev.calicopolicy.dsl.emit.etcd.EtcdBundle;
import dev.calicopolicy.dsl.emit.etcd.EtcdBundleEmitter;
import dev.calicopolicy.dsl.emit.host.HostRules;
import dev.calicopolicy.dsl.emit.host.HostRulesEmitter;
import dev.calicopolicy.dsl.model.Policy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.stream.Stream;

/**
 * Renders a checked policy into the output layout and writes it atomically: everything goes into a
 * temporary directory beside the output directory, which is then renamed into place, so a failed
 * compile never leaves partial output and readers never see a mix of two compiles.
 *
 * <pre>
 * out/
 *   etcd/bundle.json
 *   hosts/&lt;host&gt;/ipset.rules, iptables.rules, ip6tables.rules
 *   manifest.json
 * </pre>
 */
public final class OutputWriter {
    /** The name of the manifest file in the output directory. */
    public static final String MANIFEST = "manifest.json";

    /** Where the bundle goes in the output directory. */
    public static final String BUNDLE = "etcd/bundle.json";

    private OutputWriter() {}

    /** Every output file but the manifest, by its path relative to the output directory, sorted. */
    public static SortedMap<String, byte[]> render(Policy policy, CompileOptions options) {
        Objects.requireNonNull(policy, "policy should not be null");
        Objects.requireNonNull(options, "options should not be null");
        SortedMap<String, byte[]> files = new TreeMap<>();
        EtcdBundle bundle = EtcdBundleEmitter.emit(policy);
        files.put(BUNDLE, bundle.toJson());
        for (String host : renderedHosts(policy, options)) {
            files.putAll(hostFiles(host, HostRulesEmitter.emit(policy, options, host)));
        }
        return files;
    }

    /** The hosts of the policy whose rule files the options ask for, sorted. */
    public static List<String> renderedHosts(Policy policy, CompileOptions options) {
        return policy.hosts().stream().filter(options.hostRules()::includes).toList();
    }

    private static SortedMap<String, byte[]> hostFiles(String host, HostRules rules) {
        SortedMap<String, byte[]> files = new TreeMap<>();
        String dir = "hosts/" + host + "/";
        files.put(dir + HostRules.IPSET_FILE, utf8(rules.ipsetRules()));
        files.put(dir + HostRules.IPTABLES_FILE, utf8(rules.iptablesRules()));
        files.put(dir + HostRules.IP6TABLES_FILE, utf8(rules.ip6tablesRules()));
        return files;
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The manifest: the compiler, the options, and the digests of the inputs and outputs. */
    public static byte[] manifest(
            Compilation compilation, CompileOptions options, SortedMap<String, String> outputs) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("format", 1);
        root.put("compiler", "calicoc " + PolicyCompiler.version());
        ObjectNode opts = root.putObject("options");
        opts.put("chain_prefix", options.chainPrefix());
        opts.put(
                "workload_to_host",
                options.workloadToHost().name().toLowerCase(java.util.Locale.ROOT));
        opts.put("host_rules", options.hostRules().toString());
        ArrayNode inputs = root.putArray("inputs");
        for (InputFile in : compilation.inputs()) {
            inputs.addObject().put("path", in.displayPath()).put("sha256", in.sha256());
        }
        ArrayNode outs = root.putArray("outputs");
        for (Map.Entry<String, String> out : outputs.entrySet()) {
            outs.addObject().put("path", out.getKey()).put("sha256", out.getValue());
        }
        DefaultPrettyPrinter pretty =
                new DefaultPrettyPrinter()
                        .withArrayIndenter(
                                DefaultIndenter.SYSTEM_LINEFEED_INSTANCE.withLinefeed("\n"))
                        .withObjectIndenter(
                                DefaultIndenter.SYSTEM_LINEFEED_INSTANCE.withLinefeed("\n"));
        try {
            String text = json.writer(pretty).writeValueAsString(root) + "\n";
            return text.getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("writing JSON to a string cannot fail", e);
        }
    }

    /**
     * What a manifest records: the compiler, the options, and the digests of the inputs (by display
     * path) and of the outputs (by path relative to the output directory).
     */
    record Manifest(
            String compiler,
            CompileOptions options,
            Map<String, String> inputs,
            Map<String, String> outputs) {}

    /** The manifest in {@code outDir}; empty when there is none or it cannot be understood. */
    static Optional<Manifest> readManifest(Path outDir) {
        Path file = outDir.resolve(MANIFEST);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            JsonNode root = new ObjectMapper().readTree(file.toFile());
            JsonNode opts = root.path("options");
            CompileOptions options =
                    new CompileOptions(
                            opts.path("chain_prefix").asText(),
                            WorkloadToHost.valueOf(
                                    opts.path("workload_to_host")
                                            .asText()
                                            .toUpperCase(java.util.Locale.ROOT)),
                            CompileOptions.HostSelection.parse(
                                    opts.path("host_rules").asText("all")));
            return Optional.of(
                    new Manifest(
                            root.path("compiler").asText(),
                            options,
                            digests(root.path("inputs")),
                            digests(root.path("outputs"))));
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static Map<String, String> digests(JsonNode list) {
        Map<String, String> digests = new TreeMap<>();
        for (JsonNode entry : list) {
            digests.put(entry.path("path").asText(), entry.path("sha256").asText());
        }
        return digests;
    }

    /**
     * Writes the compiled policy into {@code outDir}, replacing what was there. Hosts are rendered
     * and written one at a time, on all cores, so the output never has to fit in memory at once.
     *
     * @return the SHA-256 of every file written, by its path relative to {@code outDir}, the
     *     manifest included
     * @throws IOException if the output cannot be written; {@code outDir} is then as it was
     * @throws IllegalArgumentException if the compilation has errors
     */
    public static SortedMap<String, String> write(
            Compilation compilation, CompileOptions options, Path outDir) throws IOException {
        Policy policy =
                compilation
                        .policy()
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                "a compilation with errors has no output"));
        Path target = outDir.toAbsolutePath().normalize();
        Path parent = target.getParent();
        Files.createDirectories(parent);
        Path temp = Files.createTempDirectory(parent, "." + target.getFileName() + ".tmp-");
        try {
            SortedMap<String, String> digests = new ConcurrentSkipListMap<>();
            writeFiles(temp, Map.of(BUNDLE, EtcdBundleEmitter.emit(policy).toJson()), digests);
            try {
                renderedHosts(policy, options).parallelStream()
                        .forEach(
                                host -> {
                                    try {
                                        writeFiles(
                                                temp,
                                                hostFiles(
                                                        host,
                                                        HostRulesEmitter.emit(
                                                                policy, options, host)),
                                                digests);
                                    } catch (IOException e) {
                                        throw new UncheckedIOException(e);
                                    }
                                });
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            byte[] manifest = manifest(compilation, options, new TreeMap<>(digests));
            writeFiles(temp, Map.of(MANIFEST, manifest), digests);
            replace(temp, target);
            return new TreeMap<>(digests);
        } catch (IOException | RuntimeException e) {
            deleteTree(temp);
            throw e;
        }
    }

    private static void writeFiles(Path dir, Map<String, byte[]> files, Map<String, String> digests)
            throws IOException {
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Path file = dir.resolve(f.getKey());
            Files.createDirectories(file.getParent());
            Files.write(file, f.getValue());
            digests.put(f.getKey(), PolicyCompiler.sha256(f.getValue()));
        }
    }

    /** Renames {@code temp} to {@code target}, moving an existing target aside first. */
    private static void replace(Path temp, Path target) throws IOException {
        Path old = null;
        if (Files.exists(target)) {
            old =
                    Files.createTempDirectory(
                            target.getParent(), "." + target.getFileName() + ".old-");
            Files.delete(old);
            move(target, old);
        }
        try {
            move(temp, target);
        } catch (IOException e) {
            if (old != null) {
                move(old, target);
            }
            throw e;
        }
        if (old != null) {
            deleteTree(old);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
