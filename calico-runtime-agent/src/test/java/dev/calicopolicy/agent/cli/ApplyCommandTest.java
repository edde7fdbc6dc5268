package dev.calicopolicy.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApplyCommandTest {
    @TempDir Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return CalicoAgent.run(args, new PrintWriter(out), new PrintWriter(err));
    }

    @Test
    void hostWithoutFilesIsAnErrorNamingTheDirectory() {
        int code = run("apply", "--host", "nowhere", dir.toString());

        assertThat(code).isEqualTo(CalicoAgent.FAILED);
        assertThat(err.toString())
                .startsWith("calico-agent: error: " + dir.resolve("hosts/nowhere") + ": ")
                .contains("no host files for host 'nowhere'");
    }

    @Test
    void missingFileIsAnErrorNamingTheFile() throws Exception {
        Path host = Files.createDirectories(dir.resolve("hosts/h1"));
        Files.writeString(host.resolve("ipset.rules"), "");
        Files.writeString(host.resolve("iptables.rules"), "");

        int code = run("apply", "--host", "h1", dir.toString());

        assertThat(code).isEqualTo(CalicoAgent.FAILED);
        assertThat(err.toString()).contains(host.resolve("ip6tables.rules") + ": missing");
    }

    @Test
    void malformedFileIsRejectedBeforeTheKernelIsTouched() throws Exception {
        Path host = Files.createDirectories(dir.resolve("hosts/h1"));
        Files.writeString(host.resolve("ipset.rules"), "");
        Files.writeString(
                host.resolve("iptables.rules"),
                "*filter\n:cali-FORWARD - [0:0]\n-A FORWARD -j cali-FORWARD\nCOMMIT\n");
        Files.writeString(host.resolve("ip6tables.rules"), "");

        int code = run("apply", "--host", "h1", dir.toString());

        assertThat(code).isEqualTo(CalicoAgent.FAILED);
        assertThat(err.toString())
                .contains(
                        host.resolve("iptables.rules")
                                + ":3: rule for chain 'FORWARD', which the table does not"
                                + " declare");
    }

    @Test
    void hostIsRequired() {
        int code = run("apply", dir.toString());

        assertThat(code).isNotZero();
        assertThat(err.toString()).contains("Missing required option: '--host=NAME'");
    }
}
