package dev.calicopolicy.maven;

import dev.calicopolicy.agent.etcd.EtcdSettings;
import dev.calicopolicy.agent.publish.BundlePublisher;
import dev.calicopolicy.agent.publish.CompiledOutput;
import dev.calicopolicy.agent.publish.Keyspace;
import dev.calicopolicy.agent.publish.PublishException;
import dev.calicopolicy.agent.publish.PublishOptions;
import dev.calicopolicy.agent.publish.PublishPlan;
import dev.calicopolicy.agent.publish.PublishResult;
import dev.calicopolicy.dsl.OutputWriter;
import io.etcd.jetcd.Client;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;

/**
 * {@code mvn calico:publish}: publishes the compiled policy in {@code outputDirectory} into etcd,
 * exactly as {@code calico-agent publish} does: only the keys that changed since the last publish
 * are written, and no key that the tool did not publish is deleted. With {@code dryRun} it logs the
 * plan, key by key, and writes nothing.
 *
 * <p>Not bound to a phase: a deploy step runs it, after {@code calico:compile}. A missing or
 * unusable output directory and a concurrent publisher fail the build ({@code BUILD FAILURE},
 * nothing written); an etcd that cannot be reached or refuses the publish is a build error.
 */
@Mojo(name = "publish", threadSafe = true)
public final class PublishMojo extends AbstractCalicoMojo {
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)?");

    /** The compile output to publish: what {@code calico:compile} wrote. */
    @Parameter(
            property = "calico.outputDirectory",
            defaultValue = "${project.build.directory}/calico",
            required = true)
    File outputDirectory;

    /** Etcd client URLs of one cluster, comma-separated; {@code https://} ones for TLS. */
    @Parameter(property = "calico.etcd", defaultValue = EtcdSettings.DEFAULT_ENDPOINT)
    String etcd;

    /**
     * PEM file of the certificate authorities to trust for {@code https://} endpoints (absent: the
     * Java runtime's trust store).
     */
    @Parameter(property = "calico.etcd.caFile")
    File caFile;

    /** PEM client certificate, for an etcd that requires one; needs {@code keyFile}. */
    @Parameter(property = "calico.etcd.certFile")
    File certFile;

    /** PEM (PKCS#8) private key of {@code certFile}. */
    @Parameter(property = "calico.etcd.keyFile")
    File keyFile;

    /** Etcd user, when etcd has authentication enabled. */
    @Parameter(property = "calico.etcd.user")
    String user;

    /**
     * The user's password. Prefer {@code passwordFile}, or {@code ${env.NAME}} in the POM: a {@code
     * -D} on the command line is visible to other users of the machine.
     */
    @Parameter(property = "calico.etcd.password")
    String password;

    /** A file whose first line is the user's password. */
    @Parameter(property = "calico.etcd.passwordFile")
    File passwordFile;

    /** How long to wait for etcd to answer at all: {@code 500ms}, {@code 5s}, {@code 2m}. */
    @Parameter(property = "calico.etcd.connectTimeout", defaultValue = "5s")
    String connectTimeout;

    /** The deadline of every single request to etcd. */
    @Parameter(property = "calico.etcd.requestTimeout", defaultValue = "10s")
    String requestTimeout;

    /** Logs the plan (keys added, changed and removed) and writes nothing. */
    @Parameter(property = "calico.dryRun", defaultValue = "false")
    boolean dryRun;

    /**
     * Reads every published key back and rewrites the ones whose value differs from the bundle,
     * instead of trusting the record of what was published before.
     */
    @Parameter(property = "calico.verify", defaultValue = "false")
    boolean verify;

    /** The most operations etcd accepts in one transaction (its {@code --max-txn-ops}). */
    @Parameter(property = "calico.maxTxnOps", defaultValue = "128")
    int maxTxnOps;

    /** The largest transaction etcd accepts, in bytes (its {@code --max-request-bytes}). */
    @Parameter(property = "calico.maxTxnBytes", defaultValue = "1572864")
    long maxTxnBytes;

    /** How long the lock of a publish in batches outlives a publisher that died. */
    @Parameter(property = "calico.lockTtl", defaultValue = "15s")
    String lockTtl;

    /** How long to keep trying while etcd is unavailable (no leader, a member down). */
    @Parameter(property = "calico.retryFor", defaultValue = "30s")
    String retryFor;

    @Override
    void run() throws MojoExecutionException, MojoFailureException {
        EtcdSettings settings = settings();
        PublishOptions options = options();
        CompiledOutput output = compiledOutput();

        String where = settings.endpointList();
        EtcdClientThreads threads = EtcdClientThreads.noteRunning();
        try (Client client = connect(settings)) {
            BundlePublisher publisher = new BundlePublisher(client, settings.requestTimeout());
            if (dryRun) {
                log(publisher.plan(output, options), where);
                return;
            }
            PublishResult result = publisher.publish(output, options);
            getLog().info("calico: " + result.summary() + " (etcd " + where + ")");
        } catch (PublishException e) {
            // Another publisher at work fails this build, and a later run succeeds by itself:
            // nothing was written. Any other reason is a build error: etcd is down, refuses the
            // writes, or holds records this tool cannot read.
            String message = "calico: cannot publish to etcd at " + where + ": " + e.getMessage();
            if (e.reason() == PublishException.Reason.CONFLICT
                    || e.reason() == PublishException.Reason.LOCKED) {
                throw new MojoFailureException(message, e);
            }
            throw new MojoExecutionException(message, e);
        } finally {
            threads.awaitStopped(getLog());
        }
    }

    private EtcdSettings settings() throws MojoFailureException {
        try {
            return new EtcdSettings(
                    EtcdSettings.parseEndpoints(etcd == null ? "" : etcd),
                    path(caFile),
                    path(certFile),
                    path(keyFile),
                    Optional.ofNullable(blankToNull(user)),
                    Optional.ofNullable(password()),
                    duration("connectTimeout", connectTimeout),
                    duration("requestTimeout", requestTimeout));
        } catch (IllegalArgumentException e) {
            throw new MojoFailureException("calico: etcd settings: " + e.getMessage(), e);
        }
    }

    private String password() throws MojoFailureException {
        if (passwordFile == null) {
            return password;
        }
        if (password != null) {
            throw new MojoFailureException(
                    "calico: give the etcd password once: password or passwordFile, not both");
        }
        try {
            String text = Files.readString(passwordFile.toPath(), StandardCharsets.UTF_8);
            int end = text.indexOf('\n');
            return (end < 0 ? text : text.substring(0, end)).replace("\r", "");
        } catch (IOException e) {
            throw new MojoFailureException(
                    "calico: passwordFile: cannot read " + shown(passwordFile), e);
        }
    }

    private PublishOptions options() throws MojoFailureException {
        Duration ttl = duration("lockTtl", lockTtl);
        Duration retry = duration("retryFor", retryFor);
        try {
            return PublishOptions.defaults()
                    .withMaxTxnOps(maxTxnOps)
                    .withMaxTxnBytes(maxTxnBytes)
                    .withLockTtl(ttl)
                    .withRetryFor(retry)
                    .withVerify(verify);
        } catch (IllegalArgumentException e) {
            throw new MojoFailureException("calico: publish settings: " + e.getMessage(), e);
        }
    }

    /** The compile output, or a failure that says to compile first. */
    private CompiledOutput compiledOutput() throws MojoFailureException {
        File bundle = new File(outputDirectory, OutputWriter.BUNDLE);
        if (!bundle.isFile()) {
            throw new MojoFailureException(
                    "calico: nothing to publish: "
                            + shown(outputDirectory)
                            + " holds no compiled policy (no "
                            + OutputWriter.BUNDLE
                            + "); run calico:compile first, e.g. mvn calico:compile calico:publish");
        }
        try {
            return CompiledOutput.read(outputDirectory.toPath());
        } catch (IOException e) {
            throw new MojoFailureException(
                    "calico: "
                            + shown(outputDirectory)
                            + " is not a usable compile output: "
                            + e.getMessage()
                            + "; run calico:compile again",
                    e);
        }
    }

    private static Client connect(EtcdSettings settings) throws MojoExecutionException {
        try {
            return settings.connectAndProbe(Keyspace.PUBLISHED);
        } catch (IOException e) {
            throw new MojoExecutionException("calico: " + e.getMessage(), e);
        }
    }

    private void log(PublishPlan plan, String where) {
        getLog().info("calico: dry run against etcd at " + where + ": " + plan.summary());
        plan.completes()
                .ifPresent(
                        id ->
                                getLog().info(
                                                "calico: completes publish "
                                                        + id
                                                        + ", which did not finish"));
        list("+ ", plan.added(), "");
        list("~ ", plan.changed(), "");
        list("- ", plan.removed(), "");
        list("! ", plan.kept(), " (left in place: changed by someone else since published)");
        getLog().info("calico: dry run: nothing written");
    }

    private void list(String mark, List<String> keys, String note) {
        for (String key : keys) {
            getLog().info("  " + mark + key + note);
        }
    }

    private static Optional<Path> path(File file) {
        return Optional.ofNullable(file).map(File::toPath);
    }

    private static String blankToNull(String text) {
        return text == null || text.isBlank() ? null : text;
    }

    /**
     * {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}, plain seconds, or ISO-8601 {@code PT5S}.
     */
    static Duration duration(String parameter, String text) throws MojoFailureException {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        Matcher m = DURATION.matcher(t);
        Duration d = null;
        if (m.matches()) {
            double amount = Double.parseDouble(m.group(1));
            double millis =
                    switch (m.group(2) == null ? "s" : m.group(2)) {
                        case "ms" -> amount;
                        case "m" -> amount * 60_000;
                        case "h" -> amount * 3_600_000;
                        default -> amount * 1000;
                    };
            d = Duration.ofMillis(Math.round(millis));
        } else {
            try {
                d = Duration.parse(t.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                // reported below
            }
        }
        if (d == null || d.isNegative() || d.isZero()) {
            throw new MojoFailureException(
                    "calico: "
                            + parameter
                            + " is '"
                            + text
                            + "'; expected a positive duration such as 500ms, 5s or 2m");
        }
        return d;
    }
}
