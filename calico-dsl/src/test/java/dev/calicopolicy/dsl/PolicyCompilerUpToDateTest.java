package dev.calicopolicy.dsl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.calicopolicy.dsl.CompileOptions.WorkloadToHost;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PolicyCompiler#isUpToDate}: what lets a build tool skip a compile. Each test compiles a
 * small repository for real, changes one thing a user could change, and asks again.
 */
class PolicyCompilerUpToDateTest {
    private static final List<Path> SOURCES = List.of(Path.of("policy"));
    private static final Path OUT = Path.of("target/calico");

    @TempDir Path repo;

    private PolicyCompiler compiler;

    @BeforeEach
    void compileOnce() throws IOException {
        write(
                "policy/web.calico",
                """
                import "../shared/nets.calico";
                profile web {
                  tags web;
                  inbound { allow tcp from net office to port 443; }
                  outbound { allow; }
                }
                """);
        write(
                "policy/hosts.calico.yaml",
                """
                hosts:
                  - name: h1
                    workloads:
                      - orchestrator: k8s
                        id: w1
                        endpoints:
                          - id: e1
                            interface: tap1
                            mac: "02:00:00:00:00:01"
                            profiles: [web]
                            ipv4: [192.0.2.10/32]
                """);
        write("shared/nets.calico", "net office = 203.0.113.0/24;\n");
        compiler = new PolicyCompiler(repo);
        compileAndWrite(CompileOptions.DEFAULTS);
    }

    @Test
    void isUpToDateRightAfterACompile() {
        assertThat(compiler.isUpToDate(SOURCES, CompileOptions.DEFAULTS, OUT)).isTrue();
    }

    @Test
    void isUpToDateWhenOnlyTheModificationTimeChanged() throws IOException {
        Path web = repo.resolve("policy/web.calico");
        Files.setLastModifiedTime(
                web,
                java.nio.file.attribute.FileTime.fromMillis(
                        Files.getLastModifiedTime(web).toMillis() + 60_000));

        assertThat(compiler.isUpToDate(SOURCES, CompileOptions.DEFAULTS, OUT)).isTrue();
    }

    @Test
    void isStaleWhenASourceChanged() throws IOException {
        Files.writeString(
                repo.resolve("policy/web.calico"),
                Files.readString(repo.resolve("policy/web.calico")).replace("443", "8443"));

        assertThat(compiler.isUpToDate(SOURCES, CompileOptions.DEFAULTS, OUT)).isFalse();
    }

    @Test
    void isStaleWhenAnImportedFileOutsideTheSourcesChanged() throws IOException {
        write("shared/nets.calico", "net office = 198.51.100.0/24;\n");

        assertThat(compiler.isUpToDate(SOURCES, CompileOptions.DEFAULTS, OUT)).isFalse();
    }

    @Test
    void isStaleWhenASourceWasAdded() throws IOException {
        write("policy/more/ssh.calico", "profile ssh { inbound { allow tcp to port 22; } }\n");

        assertThat(compiler.isUpToDate(SOURCES, CompileOptions.DEFAULTS, OUT)).isFalse();
    }

    @Test
    void isStaleWhenASourceWasDeleted() throws IOException {
        Files.delete(repo.resolve("policy/hosts.calico.yaml"));

        assertThat(compiler.isUpToDate(SOURCES, CompileOptions.DEFAULTS, OUT)).isFalse();
    }

    @Test
    void isStaleWhenTheOptionsDiffer() {
        CompileOptions accept = new CompileOptions("cali-", WorkloadToHost.ACCEPT);
        CompileOptions prefix = new CompileOptions("pol-", WorkloadToHost.DROP);

        assertThat(compiler.isUpToDate(SOURCES, accept, OUT)).isFalse();
        assertThat(compiler.isUpToDate(SOURCES, prefix, OUT)).isFalse();
    }

    @Test
    void isStaleWhenAnOutputFileWasEditedOrRemoved() throws IOException {
        Path bundle = repo.resolve(OUT).resolve(OutputWriter.BUNDLE);
        Files.writeString(bundle, Files.readString(bundle).replace("443", "444"));
        assertThat(compiler.isUpToDate(SOURCES, CompileOptions.DEFAULTS, OUT)).isFalse();

        Files.delete(bundle);
        assertThat(compiler.isUpToDate(SOURCES, CompileOptions.DEFAULTS, OUT)).isFalse();
    }

    @Test
    void isStaleWhenTheManifestIsMissingOrDamaged() throws IOException {
        Path manifest = repo.resolve(OUT).resolve(OutputWriter.MANIFEST);
        Files.writeString(manifest, "{ not json");
        assertThat(compiler.isUpToDate(SOURCES, CompileOptions.DEFAULTS, OUT)).isFalse();

        Files.delete(manifest);
        assertThat(compiler.isUpToDate(SOURCES, CompileOptions.DEFAULTS, OUT)).isFalse();
    }

    @Test
    void isStaleWhenTheSourcePathDoesNotExist() {
        assertThat(compiler.isUpToDate(List.of(Path.of("nowhere")), CompileOptions.DEFAULTS, OUT))
                .isFalse();
    }

    @Test
    void isUpToDateAgainAfterRecompilingAChange() throws IOException {
        write("shared/nets.calico", "net office = 198.51.100.0/24;\n");
        CompileOptions accept = new CompileOptions("cali-", WorkloadToHost.ACCEPT);
        compileAndWrite(accept);

        assertThat(compiler.isUpToDate(SOURCES, accept, OUT)).isTrue();
    }

    private void compileAndWrite(CompileOptions options) throws IOException {
        Compilation compilation = compiler.compile(SOURCES);
        assertThat(compilation.diagnostics()).isEmpty();
        OutputWriter.write(compilation, options, repo.resolve(OUT));
    }

    private void write(String path, String text) throws IOException {
        Path file = repo.resolve(path);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }
}
