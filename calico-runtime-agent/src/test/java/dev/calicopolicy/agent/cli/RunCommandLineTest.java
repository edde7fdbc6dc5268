package dev.calicopolicy.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** The command line of {@code calico-agent run}, where it is refused before anything starts. */
class RunCommandLineTest {
    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = CalicoAgent.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void aMissingHostIsAUsageError() {
        Run r = run("run");

        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required option: '--host=NAME'");
    }

    @Test
    void aHostNameThatCannotBeInAKeyIsAUsageError() {
        Run r = run("run", "--host", "compute/01");

        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err())
                .contains("host name 'compute/01' is not valid (expected [A-Za-z0-9_.-]+)");
    }

    @Test
    void aBadEtcdUrlIsAUsageError() {
        Run r = run("run", "--host", "compute-01", "--etcd", "ftp://x:1");

        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err())
                .contains("'ftp://x:1' is not an etcd URL (expected http:// or https://)");
    }

    @Test
    void aResyncIntervalOfZeroIsAUsageError() {
        Run r = run("run", "--host", "compute-01", "--resync-interval", "0s");

        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--resync-interval: durations must be positive");
    }

    @Test
    void theHelpNamesTheStatusKeyAndTheExitCodes() {
        Run r = run("run", "--help");

        assertThat(r.code()).isZero();
        assertThat(r.out())
                .contains("/calico-policy/status/NAME")
                .contains("0   stopped by a signal")
                .contains("--resync-interval=DURATION");
    }
}
