package dev.calicopolicy.dsl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The output is a pure function of the inputs, and is replaced whole or not at all. */
class OutputWriterTest {
    static final Path SAMPLE =
            SamplePoliciesTest.SAMPLES.resolve("three-tier/src").toAbsolutePath();

    @TempDir Path tmp;

    @Test
    void sameInputsInAnyOrderGiveIdenticalBytes() throws IOException {
        // Split the sample into one file per top-level declaration, then give them in many orders.
        Path src = tmp.resolve("src");
        Files.createDirectories(src);
        List<Path> files = splitIntoFiles(Files.readString(SAMPLE.resolve("shop.calico")), src);
        assertThat(files).hasSizeGreaterThan(5);

        SortedMap<String, byte[]> first = compileToMap(src, files, tmp.resolve("out0"));
        Random random = new Random(7);
        for (int i = 1; i <= 5; i++) {
            List<Path> shuffled = new ArrayList<>(files);
            Collections.shuffle(shuffled, random);
            SortedMap<String, byte[]> again = compileToMap(src, shuffled, tmp.resolve("out" + i));
            assertThat(again.keySet()).isEqualTo(first.keySet());
            for (String name : first.keySet()) {
                assertThat(again.get(name)).as(name).isEqualTo(first.get(name));
            }
        }

        // The split files compile to the same bundle as the single file.
        Compilation whole = new PolicyCompiler(SAMPLE).compile(List.of(SAMPLE));
        SortedMap<String, String> single =
                OutputWriter.write(whole, CompileOptions.DEFAULTS, tmp.resolve("single"));
        assertThat(single.get(OutputWriter.BUNDLE))
                .isEqualTo(PolicyCompiler.sha256(first.get(OutputWriter.BUNDLE)));
    }

    @Test
    void aFailedCompileLeavesThePreviousOutputUntouched() throws IOException {
        Path out = tmp.resolve("out");
        Compilation good = new PolicyCompiler(SAMPLE).compile(List.of(SAMPLE));
        OutputWriter.write(good, CompileOptions.DEFAULTS, out);
        Map<String, byte[]> before = snapshot(out);

        Path bad = tmp.resolve("bad.calico");
        Files.writeString(bad, "profile p { inbound { allow tcp to port 99999; } }\n");
        int code =
                dev.calicopolicy.dsl.cli.Calicoc.run(
                        new String[] {"compile", "-o", out.toString(), bad.toString()},
                        new java.io.PrintWriter(new java.io.StringWriter()),
                        new java.io.PrintWriter(new java.io.StringWriter()));

        assertThat(code).isEqualTo(1);
        Map<String, byte[]> after = snapshot(out);
        assertThat(after).containsOnlyKeys(before.keySet());
        before.forEach((name, bytes) -> assertThat(after.get(name)).isEqualTo(bytes));
        try (Stream<Path> left = Files.list(tmp)) {
            assertThat(left.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("out", "bad.calico");
        }
    }

    @Test
    void aNewCompileReplacesTheOutputWholeAndLeavesNoTemporaryFiles() throws IOException {
        Path out = tmp.resolve("out");
        Files.createDirectories(out.resolve("hosts/gone"));
        Files.writeString(out.resolve("hosts/gone/iptables.rules"), "stale");
        Compilation good = new PolicyCompiler(SAMPLE).compile(List.of(SAMPLE));

        OutputWriter.write(good, CompileOptions.DEFAULTS, out);

        assertThat(out.resolve("hosts/gone")).doesNotExist();
        assertThat(out.resolve(OutputWriter.BUNDLE)).exists();
        assertThat(out.resolve(OutputWriter.MANIFEST)).exists();
        try (Stream<Path> left = Files.list(tmp)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactly("out");
        }
    }

    @Test
    void theManifestRecordsTheDigestsOfInputsAndOutputs() throws IOException {
        Compilation good = new PolicyCompiler(SAMPLE).compile(List.of(SAMPLE));
        SortedMap<String, String> files =
                OutputWriter.write(good, CompileOptions.DEFAULTS, tmp.resolve("out"));

        var manifest =
                new com.fasterxml.jackson.databind.ObjectMapper()
                        .readTree(tmp.resolve("out").resolve(OutputWriter.MANIFEST).toFile());
        assertThat(manifest.path("compiler").asText()).startsWith("calicoc ");
        assertThat(manifest.path("inputs").get(0).path("path").asText()).isEqualTo("shop.calico");
        assertThat(manifest.path("inputs").get(0).path("sha256").asText())
                .isEqualTo(
                        PolicyCompiler.sha256(Files.readAllBytes(SAMPLE.resolve("shop.calico"))));
        assertThat(manifest.path("outputs").findValuesAsText("path")).contains(OutputWriter.BUNDLE);
        assertThat(manifest.path("outputs").findValuesAsText("path"))
                .doesNotContain(OutputWriter.MANIFEST);
    }

    private SortedMap<String, byte[]> compileToMap(Path base, List<Path> inputs, Path out)
            throws IOException {
        Compilation c = new PolicyCompiler(base).compile(inputs);
        assertThat(c.diagnostics()).isEmpty();
        OutputWriter.write(c, CompileOptions.DEFAULTS, out);
        return new TreeMap<>(snapshot(out));
    }

    private static Map<String, byte[]> snapshot(Path dir) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                files.put(dir.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return files;
    }

    /** Writes each top-level block or statement of {@code text} into a file of its own. */
    private static List<Path> splitIntoFiles(String text, Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        int depth = 0;
        for (String line : text.split("\n", -1)) {
            current.append(line).append('\n');
            depth +=
                    line.chars().filter(ch -> ch == '{').count()
                            - line.chars().filter(ch -> ch == '}').count();
            if (depth == 0 && (line.endsWith("}") || line.endsWith(";"))) {
                Path file = dir.resolve(String.format("part-%02d.calico", files.size()));
                Files.writeString(file, current.toString());
                files.add(file);
                current.setLength(0);
            }
        }
        return files;
    }
}
