package dev.calicopolicy.maven;

import dev.calicopolicy.dsl.Compilation;
import dev.calicopolicy.dsl.Diagnostic;
import dev.calicopolicy.dsl.PolicyCompiler;
import dev.calicopolicy.dsl.model.SourceLocation;
import java.io.File;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.Parameter;
import org.sonatype.plexus.build.incremental.BuildContext;
import org.sonatype.plexus.build.incremental.DefaultBuildContext;

/**
 * The goals that run the compiler over the project's policy sources ({@code check} and {@code
 * compile}): the source parameters, the call into the compiler, and the mapping of its diagnostics
 * onto the build. Policy errors fail the build, listing each as {@code path:line:col}; each
 * diagnostic is also handed to the IDE's build context so the IDE can mark it in its file.
 */
abstract class AbstractCompilingMojo extends AbstractCalicoMojo {
    /**
     * The directory searched, recursively, for policy files ({@code *.calico}) and endpoint
     * inventories ({@code *.calico.yaml}). Files they import may lie elsewhere.
     */
    @Parameter(
            property = "calico.sourceDirectory",
            defaultValue = "${project.basedir}/src/main/calico",
            required = true)
    File sourceDirectory;

    /**
     * Fails the build on warnings too, not only on errors. The compile goal then compiles every
     * time, since the output does not record warnings; set it on the check goal instead to keep
     * compiles incremental.
     */
    @Parameter(property = "calico.failOnWarning", defaultValue = "false")
    boolean failOnWarning;

    final BuildContext buildContext;

    AbstractCompilingMojo(BuildContext buildContext) {
        this.buildContext = buildContext;
    }

    /** True when there is something to compile; logs why not otherwise. */
    final boolean hasSources() {
        if (sourceDirectory.isDirectory()) {
            return true;
        }
        getLog().warn(
                        "calico: no policy sources: "
                                + shown(sourceDirectory)
                                + " is not a directory (set sourceDirectory or"
                                + " calico.sourceDirectory)");
        return false;
    }

    /**
     * Parses and checks the sources and reports every diagnostic.
     *
     * @throws MojoFailureException when the policy has errors, or warnings and {@link
     *     #failOnWarning} is set
     */
    final Compilation compileSources() throws MojoFailureException {
        PolicyCompiler compiler = new PolicyCompiler(baseDir());
        Compilation compilation = compiler.compile(List.of(sourceDirectory.toPath()));
        report(compilation);

        boolean failed =
                compilation.hasErrors() || (failOnWarning && compilation.warningCount() > 0);
        if (failed) {
            throw new MojoFailureException(failureMessage(compilation));
        }
        return compilation;
    }

    private void report(Compilation compilation) {
        // The command line's build context only logs what it is given, which the log below
        // already says; an IDE's turns each message into a marker on the file.
        boolean ide = !(buildContext instanceof DefaultBuildContext);
        if (ide) {
            compilation.inputs().forEach(in -> buildContext.removeMessages(in.path().toFile()));
        }
        for (Diagnostic d : compilation.diagnostics()) {
            String line = located(d);
            if (d.isError()) {
                getLog().error(line);
            } else {
                getLog().warn(line);
            }
            if (ide) {
                SourceLocation at = d.location();
                buildContext.addMessage(
                        file(at),
                        Math.max(at.line(), 0),
                        Math.max(at.column(), 0),
                        d.message(),
                        d.isError() ? BuildContext.SEVERITY_ERROR : BuildContext.SEVERITY_WARNING,
                        null);
            }
        }
    }

    private String failureMessage(Compilation c) {
        long errors = c.errorCount();
        long warnings = c.warningCount();
        String counts =
                errors > 0
                        ? count(errors, "error")
                        : count(warnings, "warning") + " (failOnWarning is set)";
        return "calico: "
                + counts
                + " in the policy sources:\n"
                + c.diagnostics().stream()
                        .filter(d -> d.isError() || errors == 0)
                        .map(this::located)
                        .collect(Collectors.joining("\n"));
    }

    /** {@code path:line:col: error: message}, the path as the log shows it. */
    private String located(Diagnostic d) {
        SourceLocation at = d.location();
        SourceLocation shownAt = new SourceLocation(shown(file(at)), at.line(), at.column());
        return new Diagnostic(d.severity(), shownAt, d.message()).toString();
    }

    private File file(SourceLocation at) {
        return baseDir().resolve(at.file()).toFile();
    }
}
