package dev.calicopolicy.agent.publish;

import static org.assertj.core.api.Assertions.assertThat;

import dev.calicopolicy.testkit.EtcdServer;
import dev.calicopolicy.testkit.TlsFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The connection options: TLS with client certificates, users and passwords. */
class SecureEtcdTest {
    @TempDir Path work;

    @Test
    void publishesOverTlsWithAClientCertificate() throws Exception {
        TlsFiles tls = TlsFiles.generate(work.resolve("tls"));
        try (EtcdServer etcd = EtcdServer.startTls(tls)) {
            Path out = OutputFixture.compile(work, "v1", PublishTest.V1);

            AgentCli run =
                    AgentCli.run(
                            "publish",
                            "--etcd",
                            etcd.clientUrls(),
                            "--cacert",
                            tls.ca().toString(),
                            "--cert",
                            tls.clientCert().toString(),
                            "--key",
                            tls.clientKey().toString(),
                            out.toString());

            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(run.out()).startsWith("published 10 keys (0 deleted) in 1 transaction");
            assertThat(EtcdContents.read(etcd, "/calico/v1/").values())
                    .isEqualTo(OutputFixture.entriesOf(out));

            AgentCli withoutCertificate =
                    AgentCli.run(
                            "publish",
                            "--etcd",
                            etcd.clientUrls(),
                            "--cacert",
                            tls.ca().toString(),
                            "--connect-timeout",
                            "2s",
                            out.toString());
            assertThat(withoutCertificate.exitCode()).isEqualTo(1);
            assertThat(withoutCertificate.err())
                    .startsWith("calico-agent: error: cannot reach etcd at " + etcd.clientUrls());
        }
    }

    @Test
    void publishesAsAUserWithAPasswordWhenEtcdHasAuthentication() throws Exception {
        try (EtcdServer etcd = EtcdServer.start()) {
            etcd.etcdctl("user", "add", "root:rootpw", "--interactive=false");
            etcd.etcdctl("role", "add", "calico");
            for (String prefix : new String[] {"/calico/v1/", "/calico-policy/"}) {
                etcd.etcdctl(
                        "role", "grant-permission", "calico", "--prefix=true", "readwrite", prefix);
            }
            etcd.etcdctl("user", "add", "publisher:s3cret", "--interactive=false");
            etcd.etcdctl("user", "grant-role", "publisher", "calico");
            etcd.etcdctl("user", "add", "reader:r3ad", "--interactive=false");
            etcd.etcdctl("auth", "enable");
            Path password = work.resolve("password");
            Files.writeString(password, "s3cret\n");
            Path out = OutputFixture.compile(work, "v1", PublishTest.V1);

            AgentCli run =
                    AgentCli.run(
                            "publish",
                            "--etcd",
                            etcd.clientUrls(),
                            "--user",
                            "publisher",
                            "--password-file",
                            password.toString(),
                            out.toString());

            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(
                            etcd.etcdctl(
                                    "--user=root:rootpw",
                                    "get",
                                    "--prefix",
                                    "/calico/v1/",
                                    "--keys-only"))
                    .contains("/calico/v1/policy/profile/web/rules");

            AgentCli wrongPassword =
                    AgentCli.run(
                            "publish",
                            "--etcd",
                            etcd.clientUrls(),
                            "--user",
                            "publisher:wrong",
                            out.toString());
            assertThat(wrongPassword.exitCode()).isEqualTo(1);
            assertThat(wrongPassword.err()).contains("authentication failed");

            AgentCli noRights =
                    AgentCli.run(
                            "publish",
                            "--etcd",
                            etcd.clientUrls(),
                            "--user",
                            "reader:r3ad",
                            out.toString());
            assertThat(noRights.exitCode()).isEqualTo(1);
            assertThat(noRights.err())
                    .contains("refused to read /calico-policy/published")
                    .contains("permission denied");
        }
    }
}
