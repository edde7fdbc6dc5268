package dev.calicopolicy.maven;

import dev.calicopolicy.dsl.Compilation;
import javax.inject.Inject;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.sonatype.plexus.build.incremental.BuildContext;

/**
 * {@code mvn calico:check}: parses and checks the policy sources and reports every problem as
 * {@code path:line:col}, writing nothing. Bound to {@code validate}, so a build with policy errors
 * stops before anything else runs.
 */
@Mojo(name = "check", defaultPhase = LifecyclePhase.VALIDATE, threadSafe = true)
public final class CheckMojo extends AbstractCompilingMojo {
    @Inject
    public CheckMojo(BuildContext buildContext) {
        super(buildContext);
    }

    @Override
    void run() throws MojoFailureException {
        if (!hasSources()) {
            return;
        }
        Compilation compilation = compileSources();
        getLog().info(
                        "calico: checked "
                                + count(compilation.inputs().size(), "policy file")
                                + ": "
                                + count(compilation.warningCount(), "warning"));
    }
}
