package dev.calicopolicy.dsl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line as users and tools meet it: exit codes, streams and formats. */
class CalicocTest {
    @TempDir Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private Path good;
    private Path bad;

    @BeforeEach
    void writeSources() throws IOException {
        good = dir.resolve("good.calico");
        Files.writeString(
                good,
                "profile web { tags web; inbound { allow tcp from tag web to port 80; } }\n"
                        + "host h { workload o w { endpoint e { interface tap1; mac"
                        + " 02:00:00:00:00:01; profiles web; ipv4 198.51.100.5; } } }\n");
        bad = dir.resolve("bad.calico");
        Files.writeString(
                bad,
                "profile p {\n  inbound {\n    allow tcp to port 70000;\n    allow udp from tag"
                        + " nobody;\n  }\n}\nhost h { workload o w { endpoint e { interface tap1; mac"
                        + " 02:00:00:00:00:02; profiles pp; } } }\n");
    }

    private int run(String... args) {
        return Calicoc.run(args, new PrintWriter(out), new PrintWriter(err));
    }

    @Test
    void compileWritesTheBundleAndManifestAndExitsZero() {
        Path output = dir.resolve("out");
        assertThat(run("compile", "-o", output.toString(), good.toString())).isZero();
        assertThat(output.resolve("etcd/bundle.json")).exists();
        assertThat(output.resolve("manifest.json")).exists();
        assertThat(err.toString())
                .contains("calicoc: wrote")
                .contains("1 profiles, 1 endpoints, 1 hosts");
    }

    @Test
    void policyErrorsGoToStderrWithPositionsAndExitOne() {
        Path output = dir.resolve("out");
        assertThat(run("compile", "-o", output.toString(), bad.toString())).isEqualTo(1);
        String bad = this.bad.toString();
        assertThat(err.toString().lines())
                .containsExactly(
                        bad + ":3:23: error: port 70000 out of range 0-65535",
                        bad
                                + ":4:24: warning: tag 'nobody' is given by no profile, so it matches nothing",
                        bad + ":7:86: error: unknown profile 'pp' (did you mean 'p'?)",
                        "2 errors, 1 warning");
        assertThat(output).doesNotExist();
    }

    @Test
    void hostRulesCanBeLimitedToSomeHostsOrNone() {
        Path all = dir.resolve("all");
        assertThat(run("compile", "-o", all.toString(), good.toString())).isZero();
        assertThat(all.resolve("hosts/h/iptables.rules")).exists();

        Path none = dir.resolve("none");
        assertThat(run("compile", "--host-rules", "none", "-o", none.toString(), good.toString()))
                .isZero();
        assertThat(none.resolve("etcd/bundle.json")).exists();
        assertThat(none.resolve("hosts")).doesNotExist();

        Path one = dir.resolve("one");
        assertThat(run("compile", "--host-rules", "h", "-o", one.toString(), good.toString()))
                .isZero();
        assertThat(one.resolve("hosts/h/ipset.rules"))
                .hasSameTextualContentAs(all.resolve("hosts/h/ipset.rules"));

        assertThat(run("compile", "--host-rules", "nohost", "-o", one.toString(), good.toString()))
                .isEqualTo(2);
        assertThat(err.toString())
                .contains("--host-rules names host 'nohost', which has no endpoints");
    }

    @Test
    void checkWritesNothing() {
        assertThat(run("check", good.toString())).isZero();
        assertThat(dir.resolve("out")).doesNotExist();
        assertThat(run("check", bad.toString())).isEqualTo(1);
    }

    @Test
    void jsonFormatGivesToolsEveryDiagnostic() throws IOException {
        assertThat(run("check", "--format", "json", bad.toString())).isEqualTo(1);
        JsonNode report = new ObjectMapper().readTree(out.toString());
        assertThat(report.path("ok").asBoolean()).isFalse();
        assertThat(report.path("errors").asInt()).isEqualTo(2);
        JsonNode first = report.path("diagnostics").get(0);
        assertThat(first.path("file").asText()).isEqualTo(bad.toString());
        assertThat(first.path("line").asInt()).isEqualTo(3);
        assertThat(first.path("column").asInt()).isEqualTo(23);
        assertThat(first.path("severity").asText()).isEqualTo("error");
        assertThat(first.path("message").asText()).isEqualTo("port 70000 out of range 0-65535");
    }

    @Test
    void warningsFailTheRunWhenAskedTo() throws IOException {
        Path warn = dir.resolve("warn.calico");
        Files.writeString(warn, "profile p { inbound { allow from tag nobody; } }\n");
        assertThat(run("check", warn.toString())).isZero();
        assertThat(run("check", "-W", warn.toString())).isEqualTo(1);
    }

    @Test
    void usageErrorsExitTwo() {
        assertThat(run("compile")).isEqualTo(2);
        assertThat(err.toString()).contains("Missing required parameter: 'PATH'");
        assertThat(run("frobnicate")).isEqualTo(2);
        assertThat(run("check", "--chain-prefix", "CALICO_", good.toString())).isEqualTo(2);
        assertThat(run("check", "--workload-to-host", "maybe", good.toString())).isEqualTo(2);
    }

    @Test
    void aMissingPathIsAnError() {
        assertThat(run("check", dir.resolve("nothing.calico").toString())).isEqualTo(1);
        assertThat(err.toString()).contains("nothing.calico: error: no such file or directory");
    }

    @Test
    void printsVersionAndHelp() {
        assertThat(run("--version")).isZero();
        assertThat(out.toString()).startsWith("calicoc ");
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("compile").contains("check");
        assertThat(run("compile", "--help")).isZero();
        assertThat(out.toString()).contains("--output").contains("--format");
    }
}
