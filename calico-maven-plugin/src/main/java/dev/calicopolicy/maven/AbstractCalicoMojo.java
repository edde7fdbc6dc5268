package dev.calicopolicy.maven;

import java.io.File;
import java.nio.file.Path;
import org.apache.maven.execution.MavenSession;
import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.Parameter;
import org.apache.maven.project.MavenProject;

/**
 * What every goal of the plugin shares: the project, the session, and {@code skip}. A goal does its
 * work in {@link #run()}, which is not called when the goal is skipped.
 */
abstract class AbstractCalicoMojo extends AbstractMojo {
    @Parameter(defaultValue = "${project}", readonly = true, required = true)
    MavenProject project;

    @Parameter(defaultValue = "${session}", readonly = true, required = true)
    MavenSession session;

    /** Skips the goal. */
    @Parameter(property = "calico.skip", defaultValue = "false")
    boolean skip;

    @Override
    public final void execute() throws MojoExecutionException, MojoFailureException {
        if (skip) {
            getLog().info("calico: skipped (calico.skip is set)");
            return;
        }
        try {
            run();
        } catch (RuntimeException e) {
            // A fault of the plugin or the compiler, never of the policy: a build error.
            throw new MojoExecutionException("calico: internal error: " + e, e);
        }
    }

    /** The goal's work. */
    abstract void run() throws MojoExecutionException, MojoFailureException;

    /** The project's base directory, against which the compiler names files. */
    final Path baseDir() {
        return project.getBasedir().toPath().toAbsolutePath().normalize();
    }

    /**
     * How the log names a file: relative to the directory Maven was started in when the file is
     * below it, so a terminal or IDE console can open it from there, else in full.
     */
    final String shown(File file) {
        Path abs = file.toPath().toAbsolutePath().normalize();
        Path root = Path.of(session.getExecutionRootDirectory()).toAbsolutePath().normalize();
        String text = abs.startsWith(root) ? root.relativize(abs).toString() : abs.toString();
        return text.isEmpty() ? "." : text;
    }

    /** {@code 1 policy file}, {@code 2 policy files}. */
    static String count(long n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }
}
