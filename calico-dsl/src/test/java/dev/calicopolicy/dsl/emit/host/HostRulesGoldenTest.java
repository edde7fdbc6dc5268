package dev.calicopolicy.dsl.emit.host;

import static org.assertj.core.api.Assertions.assertThat;

import dev.calicopolicy.dsl.Compilation;
import dev.calicopolicy.dsl.CompileOptions;
import dev.calicopolicy.dsl.OutputWriter;
import dev.calicopolicy.dsl.PolicyCompiler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The sample policies under {@code src/test/resources/hosts/<case>/} against their expected host
 * files in {@code expected/<host>/}. A case may hold {@code options.properties} ({@code
 * chainPrefix}, {@code workloadToHost}). Run with {@code -Dcalico.updateGolden=true} to rewrite the
 * expected files after a deliberate change, then read the difference before committing it.
 */
class HostRulesGoldenTest {
    static final Path CASES = Path.of("src/test/resources/hosts");

    static Stream<String> cases() throws IOException {
        try (Stream<Path> dirs = Files.list(CASES)) {
            return dirs
                    .filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .sorted()
                    .toList()
                    .stream();
        }
    }

    /** The host files calicoc writes for a case, by path below {@code hosts/}. */
    static SortedMap<String, String> render(String name) throws IOException {
        Path dir = CASES.resolve(name).toAbsolutePath();
        Compilation compilation = new PolicyCompiler(dir).compile(List.of(dir));
        assertThat(compilation.hasErrors()).as(compilation.diagnostics().toString()).isFalse();
        SortedMap<String, String> files = new TreeMap<>();
        for (Map.Entry<String, byte[]> f :
                OutputWriter.render(compilation.policy().orElseThrow(), options(dir)).entrySet()) {
            if (f.getKey().startsWith("hosts/")) {
                files.put(
                        f.getKey().substring("hosts/".length()),
                        new String(f.getValue(), StandardCharsets.UTF_8));
            }
        }
        return files;
    }

    static CompileOptions options(Path dir) throws IOException {
        Path file = dir.resolve("options.properties");
        if (!Files.exists(file)) {
            return CompileOptions.DEFAULTS;
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        }
        return new CompileOptions(
                p.getProperty("chainPrefix", "cali-"),
                CompileOptions.WorkloadToHost.valueOf(p.getProperty("workloadToHost", "DROP")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void hostFilesMatchTheExpectedFiles(String name) throws IOException {
        SortedMap<String, String> actual = render(name);
        Path expectedDir = CASES.resolve(name).resolve("expected");
        if (Boolean.getBoolean("calico.updateGolden")) {
            for (Map.Entry<String, String> f : actual.entrySet()) {
                Path file = expectedDir.resolve(f.getKey());
                Files.createDirectories(file.getParent());
                Files.writeString(file, f.getValue(), StandardCharsets.UTF_8);
            }
        }

        SortedMap<String, String> expected = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(expectedDir)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                expected.put(
                        expectedDir.relativize(p).toString().replace('\\', '/'),
                        Files.readString(p, StandardCharsets.UTF_8));
            }
        }
        assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
        for (String file : expected.keySet()) {
            assertThat(actual.get(file))
                    .as(name + "/expected/" + file)
                    .isEqualTo(expected.get(file));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void renderingTwiceGivesTheSameBytes(String name) throws IOException {
        assertThat(render(name)).isEqualTo(render(name));
    }
}
