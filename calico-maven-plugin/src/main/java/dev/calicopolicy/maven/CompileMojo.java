package dev.calicopolicy.maven;

import dev.calicopolicy.dsl.Compilation;
import dev.calicopolicy.dsl.CompileOptions;
import dev.calicopolicy.dsl.CompileOptions.WorkloadToHost;
import dev.calicopolicy.dsl.OutputWriter;
import dev.calicopolicy.dsl.PolicyCompiler;
import dev.calicopolicy.dsl.model.Policy;
import java.io.File;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.SortedMap;
import javax.inject.Inject;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;
import org.sonatype.plexus.build.incremental.BuildContext;

/**
 * {@code mvn calico:compile}: compiles the policy sources into {@code outputDirectory} (the etcd
 * bundle, the per-host rules and the manifest), exactly as {@code calicoc compile} does. When no
 * source, option or output changed since the last compile it says so and does nothing.
 */
@Mojo(name = "compile", defaultPhase = LifecyclePhase.GENERATE_RESOURCES, threadSafe = true)
public final class CompileMojo extends AbstractCompilingMojo {
    /** Where the output goes; replaced as a whole by each compile. */
    @Parameter(
            property = "calico.outputDirectory",
            defaultValue = "${project.build.directory}/calico",
            required = true)
    File outputDirectory;

    /**
     * Prefix of every iptables chain and ipset name in the host files: 1-6 lower-case letters or
     * digits, starting with a letter, then '-'.
     */
    @Parameter(property = "calico.chainPrefix", defaultValue = "cali-", required = true)
    String chainPrefix;

    /**
     * Traffic from an endpoint to its own host, beyond DHCP and IPv6 router and neighbour
     * discovery: {@code drop} (Calico's default) or {@code accept} once it has passed the
     * endpoint's outbound policy.
     */
    @Parameter(property = "calico.workloadToHost", defaultValue = "drop", required = true)
    String workloadToHost;

    /**
     * Hosts whose rule files are written: {@code all}, {@code none} (the etcd bundle only) or a
     * comma-separated list of host names.
     */
    @Parameter(property = "calico.hostRules", defaultValue = "all", required = true)
    String hostRules;

    @Inject
    public CompileMojo(BuildContext buildContext) {
        super(buildContext);
    }

    @Override
    void run() throws MojoExecutionException, MojoFailureException {
        CompileOptions options = options();
        if (!hasSources()) {
            return;
        }
        PolicyCompiler compiler = new PolicyCompiler(baseDir());
        // With failOnWarning the warnings must be looked at again: the manifest does not keep them.
        if (!failOnWarning
                && compiler.isUpToDate(
                        List.of(sourceDirectory.toPath()), options, outputDirectory.toPath())) {
            getLog().info("calico: nothing to compile - all policy sources are unchanged");
            return;
        }

        Compilation compilation = compileSources();
        SortedMap<String, String> written;
        try {
            written = OutputWriter.write(compilation, options, outputDirectory.toPath());
        } catch (IOException e) {
            throw new MojoExecutionException(
                    "calico: cannot write the compiled policy to "
                            + shown(outputDirectory)
                            + ": "
                            + e.getMessage(),
                    e);
        }
        buildContext.refresh(outputDirectory);

        Policy policy = compilation.policy().orElseThrow();
        getLog().info(
                        "calico: compiled "
                                + count(compilation.inputs().size(), "policy file")
                                + " into "
                                + shown(outputDirectory)
                                + " ("
                                + count(written.size(), "file")
                                + ": "
                                + count(policy.profiles().size(), "profile")
                                + ", "
                                + count(policy.endpoints().size(), "endpoint")
                                + ", "
                                + count(policy.hosts().size(), "host")
                                + ")");
    }

    private CompileOptions options() throws MojoFailureException {
        WorkloadToHost toHost;
        try {
            toHost = WorkloadToHost.valueOf(workloadToHost.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new MojoFailureException(
                    "calico: workloadToHost is '" + workloadToHost + "'; expected drop or accept");
        }
        CompileOptions.HostSelection hosts;
        try {
            hosts = CompileOptions.HostSelection.parse(hostRules);
        } catch (IllegalArgumentException e) {
            throw new MojoFailureException("calico: hostRules: " + e.getMessage());
        }
        try {
            return new CompileOptions(chainPrefix, toHost, hosts);
        } catch (IllegalArgumentException e) {
            throw new MojoFailureException("calico: chainPrefix: " + e.getMessage());
        }
    }
}
