package dev.calicopolicy.maven;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.calicopolicy.dsl.CompileOptions;
import dev.calicopolicy.dsl.OutputWriter;
import dev.calicopolicy.dsl.PolicyCompiler;
import dev.calicopolicy.dsl.emit.etcd.EtcdBundle;
import dev.calicopolicy.testkit.EtcdServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.maven.execution.DefaultMavenExecutionRequest;
import org.apache.maven.execution.DefaultMavenExecutionResult;
import org.apache.maven.execution.MavenSession;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugin.logging.SystemStreamLog;
import org.apache.maven.project.MavenProject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code calico:publish} against a real etcd, read back with etcdctl: what it writes, what it logs,
 * and how each way of going wrong maps onto the build (a failure or an error). The integration
 * tests under {@code src/it} run the same goal in real Maven builds.
 */
class PublishMojoTest {
    private static final String POLICY =
            """
            profile web {
              tags web;
              inbound { allow tcp from tag web to port 80; }
              outbound { allow; }
            }
            host compute-01 {
              workload openstack vm-1 {
                endpoint ep1 {
                  interface tap1; mac 02:00:00:00:00:01; profiles web; ipv4 198.51.100.1/32;
                }
              }
            }
            """;
    private static final String WEB_RULES = "/calico/v1/policy/profile/web/rules";

    private static EtcdServer etcd;

    @TempDir Path repo;

    private final List<String> log = new ArrayList<>();

    @BeforeAll
    static void startEtcd() {
        etcd = EtcdServer.start();
    }

    @AfterAll
    static void stopEtcd() {
        etcd.close();
    }

    @BeforeEach
    void emptyEtcd() {
        etcd.etcdctl("del", "", "--from-key");
    }

    @Test
    void publishesEveryKeyOfTheBundleAndLogsTheSummary() throws Exception {
        compile(POLICY);

        publishMojo().execute();

        assertThat(etcdValues("/calico/v1/")).isEqualTo(bundle());
        assertThat(log).hasSize(1);
        assertThat(log.get(0))
                .matches(
                        "calico: published 3 keys \\(0 deleted\\) in 1 transaction, revision \\d+"
                                + " \\(etcd "
                                + Pattern.quote(etcd.clientUrls())
                                + "\\)");
    }

    @Test
    void stopsTheEtcdClientsThreadsBeforeItEndsWhetherItPublishedOrFailed() throws Exception {
        // Maven closes the plugin's class loader after the build: no thread may still need it.
        compile(POLICY);
        EtcdClientThreads threads = EtcdClientThreads.noteRunning();

        publishMojo().execute();
        PublishMojo unreachable = publishMojo();
        unreachable.etcd = unreachableEndpoint();
        unreachable.connectTimeout = "500ms";
        assertThatThrownBy(unreachable::execute).isInstanceOf(MojoExecutionException.class);

        assertThat(threads.started()).filteredOn(Thread::isAlive).isEmpty();
    }

    @Test
    void writesNothingWhenEtcdAlreadyHoldsTheBundle() throws Exception {
        compile(POLICY);
        publishMojo().execute();
        String revision = revision();
        log.clear();

        publishMojo().execute();

        assertThat(revision()).isEqualTo(revision);
        assertThat(log.get(0)).startsWith("calico: published 0 keys (0 deleted) in 0 transactions");
    }

    @Test
    void dryRunLogsEachKeyItWouldAddChangeOrRemoveAndWritesNothing() throws Exception {
        compile(POLICY);
        publishMojo().execute();
        compile(
                POLICY.replace("to port 80;", "to port 8080;")
                        .replace("host compute-01", "host compute-02"));
        String revision = revision();
        log.clear();

        PublishMojo dryRun = publishMojo();
        dryRun.dryRun = true;
        dryRun.execute();

        String ep = "/workload/openstack/vm-1/endpoint/ep1";
        assertThat(log)
                .containsExactly(
                        "calico: dry run against etcd at "
                                + etcd.clientUrls()
                                + ": 1 added, 1 changed, 1 removed, 0 kept, 1 unchanged;"
                                + " 1 transaction",
                        "  + /calico/v1/host/compute-02" + ep,
                        "  ~ " + WEB_RULES,
                        "  - /calico/v1/host/compute-01" + ep,
                        "calico: dry run: nothing written");
        assertThat(revision()).isEqualTo(revision);
        assertThat(etcdValues("/calico/v1/")).containsKey("/calico/v1/host/compute-01" + ep);
    }

    @Test
    void failsAndSaysToCompileFirstWhenThereIsNoCompiledPolicy() {
        PublishMojo mojo = publishMojo();
        mojo.etcd = unreachableEndpoint();

        assertThatThrownBy(mojo::execute)
                .isInstanceOf(MojoFailureException.class)
                .hasMessage(
                        "calico: nothing to publish: target/calico holds no compiled policy (no"
                                + " etcd/bundle.json); run calico:compile first, e.g. mvn"
                                + " calico:compile calico:publish");
    }

    @Test
    void failsAndSaysToCompileAgainWhenTheOutputIsMixedFromTwoCompiles() throws Exception {
        compile(POLICY);
        Path bundle = repo.resolve("target/calico/etcd/bundle.json");
        Files.writeString(bundle, Files.readString(bundle) + "\n");

        assertThatThrownBy(publishMojo()::execute)
                .isInstanceOf(MojoFailureException.class)
                .hasMessageStartingWith("calico: target/calico is not a usable compile output: ")
                .hasMessageEndingWith("; run calico:compile again");
        assertThat(etcdValues("/")).isEmpty();
    }

    @Test
    void failsTheBuildWhenAnotherPublishHoldsTheLock() throws Exception {
        compile(POLICY);
        etcd.etcdctl(
                "put",
                "/calico-policy/lock",
                "{\"publish\":\"p-7\",\"by\":\"deploy@ci-02\",\"started_at\":\"2024-05-01T10:00:00Z\","
                        + "\"batch\":4}");

        assertThatThrownBy(publishMojo()::execute)
                .isInstanceOf(MojoFailureException.class)
                .hasMessageStartingWith(
                        "calico: cannot publish to etcd at "
                                + etcd.clientUrls()
                                + ": another publish is in progress: /calico-policy/lock is held"
                                + " by publish p-7 by deploy@ci-02")
                .hasMessageContaining("nothing was written");
        assertThat(etcdValues("/calico/")).isEmpty();
    }

    @Test
    void isABuildErrorWhenEtcdCannotBeReached() throws Exception {
        compile(POLICY);
        PublishMojo mojo = publishMojo();
        mojo.etcd = unreachableEndpoint();
        mojo.connectTimeout = "1s";

        assertThatThrownBy(mojo::execute)
                .isInstanceOf(MojoExecutionException.class)
                .hasMessageStartingWith(
                        "calico: cannot reach etcd at " + mojo.etcd + " within 1000 ms");
    }

    @Test
    void refusesSettingsThatDoNotMakeSenseNamingTheSetting() throws Exception {
        compile(POLICY);

        PublishMojo badTimeout = publishMojo();
        badTimeout.requestTimeout = "soon";
        assertThatThrownBy(badTimeout::execute)
                .isInstanceOf(MojoFailureException.class)
                .hasMessage(
                        "calico: requestTimeout is 'soon'; expected a positive duration such as"
                                + " 500ms, 5s or 2m");

        PublishMojo tlsOverHttp = publishMojo();
        tlsOverHttp.caFile = repo.resolve("ca.pem").toFile();
        assertThatThrownBy(tlsOverHttp::execute)
                .isInstanceOf(MojoFailureException.class)
                .hasMessage(
                        "calico: etcd settings: TLS files are given but the etcd endpoints are"
                                + " http://; use https:// URLs");

        PublishMojo noEndpoint = publishMojo();
        noEndpoint.etcd = "etcd-01";
        assertThatThrownBy(noEndpoint::execute)
                .isInstanceOf(MojoFailureException.class)
                .hasMessageStartingWith("calico: etcd settings: 'etcd-01' is not an etcd URL");

        PublishMojo tinyTxn = publishMojo();
        tinyTxn.maxTxnOps = 2;
        assertThatThrownBy(tinyTxn::execute)
                .isInstanceOf(MojoFailureException.class)
                .hasMessage(
                        "calico: publish settings: the transaction limit must be at least 3"
                                + " operations");
        assertThat(etcdValues("/")).isEmpty();
    }

    @Test
    void publishesAsAnEtcdUserWhosePasswordIsInAFile() throws Exception {
        compile(POLICY);
        Path password = repo.resolve("etcd-password");
        Files.writeString(password, "s3cret\n");
        try (EtcdServer secured = EtcdServer.start()) {
            secured.etcdctl("user", "add", "root:rootpw", "--interactive=false");
            secured.etcdctl("user", "add", "deployer:s3cret", "--interactive=false");
            secured.etcdctl("user", "grant-role", "deployer", "root");
            secured.etcdctl("auth", "enable");
            PublishMojo mojo = publishMojo();
            mojo.etcd = secured.clientUrls();
            mojo.user = "deployer";
            mojo.passwordFile = password.toFile();

            mojo.execute();

            assertThat(
                            secured.etcdctl(
                                    "--user=root:rootpw",
                                    "get",
                                    "--prefix",
                                    "/calico/v1/",
                                    "-w",
                                    "simple"))
                    .contains(WEB_RULES);

            PublishMojo wrongPassword = publishMojo();
            wrongPassword.etcd = secured.clientUrls();
            wrongPassword.user = "deployer";
            wrongPassword.password = "guess";
            assertThatThrownBy(wrongPassword::execute)
                    .isInstanceOf(MojoExecutionException.class)
                    .hasMessageContaining("authentication failed");

            PublishMojo twice = publishMojo();
            twice.user = "deployer";
            twice.password = "s3cret";
            twice.passwordFile = password.toFile();
            assertThatThrownBy(twice::execute)
                    .isInstanceOf(MojoFailureException.class)
                    .hasMessage(
                            "calico: give the etcd password once: password or passwordFile, not"
                                    + " both");
        }
    }

    @Test
    void skipsWithoutLookingForTheOutputOrEtcdWhenSkipIsSet() throws Exception {
        PublishMojo mojo = publishMojo();
        mojo.etcd = unreachableEndpoint();
        mojo.skip = true;

        mojo.execute();

        assertThat(log).containsExactly("calico: skipped (calico.skip is set)");
    }

    @Test
    void readsDurationsAsTheCommandLineDoes() throws Exception {
        assertThat(PublishMojo.duration("t", "500ms")).hasMillis(500);
        assertThat(PublishMojo.duration("t", "5s")).hasSeconds(5);
        assertThat(PublishMojo.duration("t", "7")).hasSeconds(7);
        assertThat(PublishMojo.duration("t", "1.5m")).hasSeconds(90);
        assertThat(PublishMojo.duration("t", "2h")).hasHours(2);
        assertThat(PublishMojo.duration("t", "PT20S")).hasSeconds(20);
        assertThatThrownBy(() -> PublishMojo.duration("lockTtl", "0s"))
                .hasMessageStartingWith("calico: lockTtl is '0s'; expected a positive duration");
    }

    private void compile(String policy) throws IOException {
        Path source = repo.resolve("src/main/calico/policy.calico");
        Files.createDirectories(source.getParent());
        Files.writeString(source, policy);
        var compilation = new PolicyCompiler(repo).compile(List.of(source.getParent()));
        assertThat(compilation.hasErrors()).as(compilation.diagnostics().toString()).isFalse();
        // The bundle alone: the host files are published alike, and the integration tests have
        // them.
        CompileOptions bundleOnly =
                CompileOptions.DEFAULTS.withHostRules(CompileOptions.HostSelection.NONE);
        OutputWriter.write(compilation, bundleOnly, repo.resolve("target/calico"));
    }

    private PublishMojo publishMojo() {
        PublishMojo mojo = new PublishMojo();
        mojo.project = new MavenProject();
        mojo.project.setFile(repo.resolve("pom.xml").toFile());
        mojo.session =
                new MavenSession(
                        null,
                        null,
                        new DefaultMavenExecutionRequest().setBaseDirectory(repo.toFile()),
                        new DefaultMavenExecutionResult());
        mojo.outputDirectory = repo.resolve("target/calico").toFile();
        mojo.etcd = etcd.clientUrls();
        mojo.connectTimeout = "5s";
        mojo.requestTimeout = "10s";
        mojo.maxTxnOps = 128;
        mojo.maxTxnBytes = 1536 * 1024;
        mojo.lockTtl = "15s";
        mojo.retryFor = "30s";
        mojo.setLog(
                new SystemStreamLog() {
                    @Override
                    public void info(CharSequence content) {
                        log.add(content.toString());
                    }
                });
        return mojo;
    }

    private Map<String, String> bundle() throws IOException {
        Map<String, String> entries = new TreeMap<>();
        for (EtcdBundle.Entry e :
                EtcdBundle.read(repo.resolve("target/calico/etcd/bundle.json")).entries()) {
            entries.put(e.key(), e.value());
        }
        return entries;
    }

    /** Every key under {@code prefix} with its value, as etcdctl reads them. */
    private static Map<String, String> etcdValues(String prefix) {
        List<String> lines = Arrays.asList(etcd.etcdctl("get", "--prefix", prefix).split("\n", -1));
        Map<String, String> values = new TreeMap<>();
        for (int i = 0; i + 1 < lines.size(); i += 2) {
            values.put(lines.get(i), lines.get(i + 1));
        }
        return values;
    }

    /** The store's revision, which any write moves on. */
    private static String revision() {
        String status = etcd.etcdctl("get", "/", "-w", "json");
        return status.replaceAll("(?s).*\"revision\":(\\d+).*", "$1");
    }

    /** A loopback URL that nothing listens on. */
    private static String unreachableEndpoint() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return "http://127.0.0.1:" + socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
