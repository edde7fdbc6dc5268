package dev.calicopolicy.dsl;

import dev.calicopolicy.dsl.Compilation.InputFile;
import dev.calicopolicy.dsl.check.PolicyChecker;
import dev.calicopolicy.dsl.model.SourceLocation;
import dev.calicopolicy.dsl.syntax.InventoryReader;
import dev.calicopolicy.dsl.syntax.Located;
import dev.calicopolicy.dsl.syntax.PolicyParser;
import dev.calicopolicy.dsl.syntax.SourceModel.ImportDecl;
import dev.calicopolicy.dsl.syntax.SourceModel.SourceFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The compiler's front door: finds the sources under the given paths, follows their imports, parses
 * and checks them, and returns a {@link Compilation}. It never logs and never throws for bad input:
 * every problem is a diagnostic. Output is written by {@link OutputWriter}.
 */
public final class PolicyCompiler {
    /** The extension of policy files. */
    public static final String POLICY_EXTENSION = ".calico";

    /** The extension of endpoint inventories. */
    public static final String INVENTORY_EXTENSION = ".calico.yaml";

    private final Path baseDir;

    /**
     * A compiler that names files in messages and the manifest relative to {@code baseDir} (when
     * they are below it), so the output does not depend on where a repository is checked out.
     */
    public PolicyCompiler(Path baseDir) {
        this.baseDir =
                Objects.requireNonNull(baseDir, "baseDir should not be null")
                        .toAbsolutePath()
                        .normalize();
    }

    /** The compiler's version, as the build stamped it. */
    public static String version() {
        try (InputStream in = PolicyCompiler.class.getResourceAsStream("calicoc.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the compiler's version", e);
        }
    }

    /** Compiles every policy file and inventory under {@code paths} and what they import. */
    public Compilation compile(List<Path> paths) {
        List<Diagnostic> diagnostics = new ArrayList<>();
        Map<Path, Path> roots = new TreeMap<>();
        for (Path given : paths) {
            Path path = baseDir.resolve(given).normalize();
            if (!Files.exists(path)) {
                diagnostics.add(Diagnostic.error(wholeFile(path), "no such file or directory"));
            } else if (Files.isDirectory(path)) {
                sourcesUnder(path, diagnostics).forEach(p -> roots.put(p, p));
            } else if (isSource(path)) {
                roots.put(path, path);
            } else {
                diagnostics.add(
                        Diagnostic.error(
                                wholeFile(path),
                                "not a policy file (expected a name ending in "
                                        + POLICY_EXTENSION
                                        + " or "
                                        + INVENTORY_EXTENSION
                                        + ")"));
            }
        }

        Reader reader = new Reader(diagnostics);
        reader.preload(List.copyOf(roots.keySet()));
        for (Path root : roots.keySet()) {
            reader.read(root);
        }
        reader.checkImportCycles();

        List<InputFile> inputs = new ArrayList<>(reader.inputs.values());
        inputs.sort((a, b) -> a.displayPath().compareTo(b.displayPath()));
        if (diagnostics.stream().anyMatch(Diagnostic::isError)) {
            Collections.sort(diagnostics);
            return new Compilation(java.util.Optional.empty(), diagnostics, inputs);
        }

        PolicyChecker.Result checked = PolicyChecker.check(new ArrayList<>(reader.files.values()));
        diagnostics.addAll(checked.diagnostics());
        Collections.sort(diagnostics);
        return new Compilation(checked.policy(), diagnostics, inputs);
    }

    /**
     * Whether {@code outDir} already holds what compiling {@code paths} with {@code options} would
     * write, so a build tool may skip the compile. True only when the output's manifest names this
     * compiler version and these options, every output file it lists is there with its digest,
     * every input it lists still has its digest, and every policy file now under {@code paths} is
     * among those inputs. Unchanged inputs import the same files, so nothing else can differ (one
     * case aside: when {@code paths} shrank to a part of what was compiled without any file
     * changing, the files left out are not noticed). Never throws for a missing or damaged output:
     * that is simply not up to date. Relative paths, {@code outDir} included, are resolved against
     * the base directory.
     */
    public boolean isUpToDate(List<Path> paths, CompileOptions options, Path outDir) {
        Objects.requireNonNull(options, "options should not be null");
        Path out = baseDir.resolve(outDir).normalize();
        Optional<OutputWriter.Manifest> found = OutputWriter.readManifest(out);
        if (found.isEmpty()) {
            return false;
        }
        OutputWriter.Manifest manifest = found.get();
        if (!manifest.compiler().equals("calicoc " + version())
                || !manifest.options().equals(options)) {
            return false;
        }

        for (Map.Entry<String, String> output : manifest.outputs().entrySet()) {
            if (!digestMatches(out.resolve(output.getKey()), output.getValue())) {
                return false;
            }
        }
        for (Map.Entry<String, String> input : manifest.inputs().entrySet()) {
            if (!digestMatches(baseDir.resolve(input.getKey()), input.getValue())) {
                return false;
            }
        }

        for (Path given : paths) {
            Path path = baseDir.resolve(given).normalize();
            List<Diagnostic> problems = new ArrayList<>();
            List<Path> sources =
                    Files.isDirectory(path) ? sourcesUnder(path, problems) : List.of(path);
            for (Path source : sources) {
                if (!manifest.inputs().containsKey(displayPath(source))) {
                    return false;
                }
            }
            if (!problems.isEmpty()) {
                return false;
            }
        }
        return true;
    }

    private static boolean digestMatches(Path file, String sha256) {
        try {
            return Files.isRegularFile(file) && sha256(Files.readAllBytes(file)).equals(sha256);
        } catch (IOException e) {
            return false;
        }
    }

    /** How messages and the manifest name a file. */
    public String displayPath(Path path) {
        Path abs = path.toAbsolutePath().normalize();
        Path shown = abs.startsWith(baseDir) ? baseDir.relativize(abs) : abs;
        String text = shown.toString().replace('\\', '/');
        return text.isEmpty() ? "." : text;
    }

    private SourceLocation wholeFile(Path path) {
        return new SourceLocation(displayPath(path), 0, 0);
    }

    private static boolean isSource(Path path) {
        String name = path.getFileName().toString();
        return name.endsWith(POLICY_EXTENSION) || name.endsWith(INVENTORY_EXTENSION);
    }

    private List<Path> sourcesUnder(Path dir, List<Diagnostic> diagnostics) {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile)
                    .filter(PolicyCompiler::isSource)
                    .sorted()
                    .toList();
        } catch (IOException e) {
            diagnostics.add(
                    Diagnostic.error(wholeFile(dir), "cannot list directory: " + e.getMessage()));
            return List.of();
        }
    }

    /** Reads each file once, following imports depth first. */
    private final class Reader {
        private final List<Diagnostic> diagnostics;
        private final Map<Path, SourceFile> files = new LinkedHashMap<>();
        private final Map<Path, InputFile> inputs = new LinkedHashMap<>();
        private final Map<Path, List<Map.Entry<Path, Located<String>>>> importsOf = new TreeMap<>();
        private final Map<Path, Loaded> loaded = new HashMap<>();
        private final Set<Path> visited = new HashSet<>();

        Reader(List<Diagnostic> diagnostics) {
            this.diagnostics = diagnostics;
        }

        /** Parses the given files on all cores; imports are then read as they are met. */
        void preload(List<Path> paths) {
            paths.parallelStream()
                    .map(path -> Map.entry(path, load(path)))
                    .toList()
                    .forEach(e -> loaded.put(e.getKey(), e.getValue()));
        }

        /** One file read, decoded and parsed, with the problems met on the way. */
        private record Loaded(InputFile input, PolicyParser.Result result) {}

        private Loaded load(Path path) {
            String display = displayPath(path);
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(path);
            } catch (IOException e) {
                return new Loaded(
                        null,
                        failed(
                                Diagnostic.error(
                                        wholeFile(path), "cannot read file: " + e.getMessage())));
            }
            InputFile input = new InputFile(path, display, sha256(bytes));
            String text;
            try {
                text =
                        StandardCharsets.UTF_8
                                .newDecoder()
                                .onMalformedInput(CodingErrorAction.REPORT)
                                .onUnmappableCharacter(CodingErrorAction.REPORT)
                                .decode(ByteBuffer.wrap(bytes))
                                .toString();
            } catch (CharacterCodingException e) {
                return new Loaded(
                        input,
                        failed(Diagnostic.error(wholeFile(path), "file is not valid UTF-8")));
            }
            PolicyParser.Result result =
                    path.getFileName().toString().endsWith(INVENTORY_EXTENSION)
                            ? InventoryReader.read(display, text)
                            : PolicyParser.parse(display, text);
            return new Loaded(input, result);
        }

        private static PolicyParser.Result failed(Diagnostic d) {
            return new PolicyParser.Result(java.util.Optional.empty(), List.of(d));
        }

        void read(Path path) {
            if (inputs.containsKey(path) || visited.contains(path)) {
                return;
            }
            visited.add(path);
            Loaded l = loaded.containsKey(path) ? loaded.remove(path) : load(path);
            if (l.input() != null) {
                inputs.put(path, l.input());
            }
            PolicyParser.Result result = l.result();
            diagnostics.addAll(result.diagnostics());
            if (result.file().isEmpty()) {
                return;
            }
            SourceFile file = result.file().get();
            files.put(path, file);

            List<Map.Entry<Path, Located<String>>> imports = new ArrayList<>();
            for (ImportDecl decl : file.imports()) {
                Path target = path.getParent().resolve(decl.path().value()).normalize();
                if (!Files.isRegularFile(target)) {
                    diagnostics.add(
                            Diagnostic.error(
                                    decl.path().location(),
                                    "cannot import '"
                                            + decl.path().value()
                                            + "': no such file ("
                                            + displayPath(target)
                                            + ")"));
                    continue;
                }
                if (!isSource(target)) {
                    diagnostics.add(
                            Diagnostic.error(
                                    decl.path().location(),
                                    "cannot import '"
                                            + decl.path().value()
                                            + "': not a policy file (expected a name ending in "
                                            + POLICY_EXTENSION
                                            + " or "
                                            + INVENTORY_EXTENSION
                                            + ")"));
                    continue;
                }
                imports.add(Map.entry(target, decl.path()));
                read(target);
            }
            importsOf.put(path, imports);
        }

        /** Reports each import that closes a cycle, with the whole cycle. */
        void checkImportCycles() {
            Map<Path, Integer> state = new TreeMap<>();
            for (Path start : importsOf.keySet()) {
                visit(start, state, new ArrayDeque<>());
            }
        }

        private void visit(Path file, Map<Path, Integer> state, Deque<Path> stack) {
            Integer s = state.get(file);
            if (s != null) {
                return;
            }
            state.put(file, 1);
            stack.addLast(file);
            for (Map.Entry<Path, Located<String>> imp : importsOf.getOrDefault(file, List.of())) {
                Integer target = state.get(imp.getKey());
                if (target != null && target == 1) {
                    List<String> cycle = new ArrayList<>();
                    boolean in = false;
                    for (Path p : stack) {
                        in = in || p.equals(imp.getKey());
                        if (in) {
                            cycle.add(displayPath(p));
                        }
                    }
                    cycle.add(displayPath(imp.getKey()));
                    diagnostics.add(
                            Diagnostic.error(
                                    imp.getValue().location(),
                                    "import cycle: " + String.join(" -> ", cycle)));
                } else {
                    visit(imp.getKey(), state, stack);
                }
            }
            stack.removeLast();
            state.put(file, 2);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
