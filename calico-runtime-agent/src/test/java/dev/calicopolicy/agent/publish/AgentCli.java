package dev.calicopolicy.agent.publish;

import dev.calicopolicy.agent.cli.CalicoAgent;
import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs {@code calico-agent} in this JVM and keeps what it printed. */
record AgentCli(int exitCode, String out, String err) {
    static AgentCli run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = CalicoAgent.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new AgentCli(code, out.toString(), err.toString());
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\n--- out:\n" + out + "--- err:\n" + err;
    }
}
