package dev.calicopolicy.dsl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Compiles every sample policy under {@code src/test/resources/samples/<case>/src} and compares
 * each file under its {@code expected/} folder (read and checked by a person) byte for byte. Set
 * {@code -Dcalico.updateGolden=true} to rewrite the expected files after a deliberate change, then
 * read the diff.
 */
class SamplePoliciesTest {
    static final Path SAMPLES = Path.of("src/test/resources/samples");

    @TempDir Path out;

    static Stream<String> samples() throws IOException {
        try (Stream<Path> dirs = Files.list(SAMPLES)) {
            return dirs
                    .filter(Files::isDirectory)
                    .map(d -> d.getFileName().toString())
                    .sorted()
                    .toList()
                    .stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void compilesToItsExpectedOutput(String sample) throws IOException {
        Path dir = SAMPLES.resolve(sample);
        Compilation c = new PolicyCompiler(dir).compile(List.of(Path.of("src")));
        assertThat(c.diagnostics()).isEmpty();
        OutputWriter.write(c, CompileOptions.DEFAULTS, out);

        Path expected = dir.resolve("expected");
        List<Path> expectedFiles;
        try (Stream<Path> walk = Files.walk(expected)) {
            expectedFiles = walk.filter(Files::isRegularFile).sorted().toList();
        }
        assertThat(expectedFiles).isNotEmpty();
        for (Path want : expectedFiles) {
            Path got = out.resolve(expected.relativize(want).toString());
            assertThat(got).as("output %s", expected.relativize(want)).exists();
            if (Boolean.getBoolean("calico.updateGolden")) {
                Files.copy(got, want, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            assertThat(Files.readString(got, StandardCharsets.UTF_8))
                    .as("output %s", expected.relativize(want))
                    .isEqualTo(Files.readString(want, StandardCharsets.UTF_8));
        }
    }
}
