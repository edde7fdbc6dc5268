package dev.calicopolicy.maven;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.maven.execution.DefaultMavenExecutionRequest;
import org.apache.maven.execution.DefaultMavenExecutionResult;
import org.apache.maven.execution.MavenSession;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.project.MavenProject;
import org.codehaus.plexus.util.Scanner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sonatype.plexus.build.incremental.BuildContext;
import org.sonatype.plexus.build.incremental.EmptyScanner;

/**
 * What an IDE sees when it runs {@code calico:compile} in its incremental build: each diagnostic
 * handed to its build context against the file, line and column, and the marks of a file cleared
 * once it compiles clean. The IDE itself (Eclipse m2e) cannot run here, so its build context is
 * stood in for by {@link IdeBuildContext}, which keeps messages per file as m2e's markers are kept.
 * On the command line Maven's own build context only logs, which the integration tests cover.
 */
class IdeMarkersTest {
    @TempDir Path repo;

    private final IdeBuildContext ide = new IdeBuildContext();
    private Path web;

    @BeforeEach
    void writePolicy() throws IOException {
        web = repo.resolve("src/main/calico/web.calico");
        Files.createDirectories(web.getParent());
        Files.writeString(
                web,
                """
                ports web = 80, 443;
                profile web {
                  inbound { allow tcp from tag lb to ports webb; }
                }
                """);
    }

    @Test
    void marksEachDiagnosticOnItsFileWithLineColumnAndSeverity() {
        assertThatThrownBy(() -> compileMojo().execute())
                .isInstanceOf(MojoFailureException.class)
                .hasMessageContaining(
                        "src/main/calico/web.calico:3:44: error: unknown port set 'webb'");

        assertThat(ide.marks.get(web.toFile()))
                .containsExactly(
                        new Mark(
                                3,
                                32,
                                "tag 'lb' is given by no profile, so it matches nothing",
                                BuildContext.SEVERITY_WARNING),
                        new Mark(
                                3,
                                44,
                                "unknown port set 'webb' (did you mean 'web'?)",
                                BuildContext.SEVERITY_ERROR));
        assertThat(ide.refreshed).isEmpty();
    }

    @Test
    void clearsTheMarksOfAFileOnceItCompilesClean() throws Exception {
        assertThatThrownBy(() -> compileMojo().execute()).isInstanceOf(MojoFailureException.class);
        Files.writeString(
                web,
                """
                ports web = 80, 443;
                profile web {
                  tags lb;
                  inbound { allow tcp from tag lb to ports web; }
                }
                """);

        compileMojo().execute();

        assertThat(ide.marks.get(web.toFile())).isEmpty();
        assertThat(ide.refreshed).containsExactly(repo.resolve("target/calico").toFile());
        assertThat(repo.resolve("target/calico/etcd/bundle.json")).isRegularFile();
    }

    private CompileMojo compileMojo() {
        CompileMojo mojo = new CompileMojo(ide);
        mojo.project = new MavenProject();
        mojo.project.setFile(repo.resolve("pom.xml").toFile());
        mojo.session =
                new MavenSession(
                        null,
                        null,
                        new DefaultMavenExecutionRequest().setBaseDirectory(repo.toFile()),
                        new DefaultMavenExecutionResult());
        mojo.sourceDirectory = repo.resolve("src/main/calico").toFile();
        mojo.outputDirectory = repo.resolve("target/calico").toFile();
        mojo.chainPrefix = "cali-";
        mojo.workloadToHost = "drop";
        mojo.hostRules = "all";
        return mojo;
    }

    record Mark(int line, int column, String message, int severity) {}

    /** Keeps messages per file, as an IDE keeps its markers; forgets them when asked to. */
    static final class IdeBuildContext implements BuildContext {
        final Map<File, List<Mark>> marks = new HashMap<>();
        final List<File> refreshed = new ArrayList<>();
        private final Map<String, Object> values = new HashMap<>();

        @Override
        public void addMessage(
                File file, int line, int column, String message, int severity, Throwable cause) {
            marks.computeIfAbsent(file, f -> new ArrayList<>())
                    .add(new Mark(line, column, message, severity));
        }

        @Override
        public void removeMessages(File file) {
            marks.put(file, new ArrayList<>());
        }

        @Override
        public void refresh(File file) {
            refreshed.add(file);
        }

        @Override
        public void addWarning(File file, int line, int column, String message, Throwable t) {
            addMessage(file, line, column, message, SEVERITY_WARNING, t);
        }

        @Override
        public void addError(File file, int line, int column, String message, Throwable t) {
            addMessage(file, line, column, message, SEVERITY_ERROR, t);
        }

        @Override
        public boolean hasDelta(String relpath) {
            return true;
        }

        @Override
        public boolean hasDelta(File file) {
            return true;
        }

        @Override
        @SuppressWarnings("rawtypes")
        public boolean hasDelta(List relpaths) {
            return true;
        }

        @Override
        public OutputStream newFileOutputStream(File file) throws IOException {
            return new FileOutputStream(file);
        }

        @Override
        public Scanner newScanner(File basedir) {
            return new EmptyScanner(basedir);
        }

        @Override
        public Scanner newDeleteScanner(File basedir) {
            return new EmptyScanner(basedir);
        }

        @Override
        public Scanner newScanner(File basedir, boolean ignoreDelta) {
            return new EmptyScanner(basedir);
        }

        @Override
        public boolean isIncremental() {
            return true;
        }

        @Override
        public void setValue(String key, Object value) {
            values.put(key, value);
        }

        @Override
        public Object getValue(String key) {
            return values.get(key);
        }

        @Override
        public boolean isUptodate(File target, File source) {
            return false;
        }
    }
}
