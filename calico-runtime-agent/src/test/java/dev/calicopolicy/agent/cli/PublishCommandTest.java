package dev.calicopolicy.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line of {@code calico-agent publish} where no etcd is needed. */
class PublishCommandTest {
    @TempDir Path work;

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = CalicoAgent.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void aMissingDirectoryIsAUsageError() {
        Run r = run("publish");

        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required parameter: 'DIR'");
    }

    @Test
    void aBadEtcdUrlIsAUsageErrorThatSaysWhatIsExpected() {
        Run r = run("publish", "--etcd", "ftp://x:1", work.toString());

        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err())
                .contains("'ftp://x:1' is not an etcd URL (expected http:// or https://)");
    }

    @Test
    void aCertificateWithoutItsKeyIsAUsageError() {
        Run r =
                run(
                        "publish",
                        "--etcd",
                        "https://127.0.0.1:2379",
                        "--cert",
                        "c.pem",
                        work.toString());

        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("give both --cert and --key");
    }

    @Test
    void aTransactionLimitBelowThreeIsAUsageError() {
        Run r = run("publish", "--max-txn-ops", "2", work.toString());

        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("the transaction limit must be at least 3 operations");
    }

    @Test
    void sizesAndDurationsReadAsPeopleWriteThem() {
        assertThat(new ByteSizeConverter().convert("1.5MiB")).isEqualTo(1_572_864L);
        assertThat(new ByteSizeConverter().convert("512KiB")).isEqualTo(524_288L);
        assertThat(new ByteSizeConverter().convert("1000")).isEqualTo(1000L);
        assertThat(new DurationConverter().convert("500ms").toMillis()).isEqualTo(500);
        assertThat(new DurationConverter().convert("2m").toSeconds()).isEqualTo(120);
        assertThat(new DurationConverter().convert("7").toSeconds()).isEqualTo(7);
    }

    @Test
    void anEtcdThatDoesNotAnswerFailsWithinTheConnectTimeout() throws Exception {
        Path out = Files.createDirectories(work.resolve("out/etcd"));
        Files.writeString(
                out.resolve("bundle.json"),
                "{\"format\": 1, \"prefix\": \"/calico/v1\", \"digest\": \"sha256:"
                        + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                        + "\", \"entries\": []}\n");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        long start = System.nanoTime();

        Run r =
                run(
                        "publish",
                        "--etcd",
                        "http://127.0.0.1:" + port,
                        "--connect-timeout",
                        "1s",
                        work.resolve("out").toString());

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err())
                .startsWith(
                        "calico-agent: error: cannot reach etcd at http://127.0.0.1:"
                                + port
                                + " within 1000 ms");
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5000);
    }
}
