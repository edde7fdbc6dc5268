package dev.calicopolicy.agent.cli;

import dev.calicopolicy.agent.apply.ApplyResult;
import dev.calicopolicy.agent.apply.HostFiles;
import dev.calicopolicy.agent.apply.HostRulesApplier;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code calico-agent apply --host NAME DIR}: puts DIR/hosts/NAME into this machine's kernel. */
@Command(
        name = "apply",
        mixinStandardHelpOptions = true,
        description = {
            "Applies DIR/hosts/NAME/{ipset,iptables,ip6tables}.rules to the kernel of this machine"
                    + " (or of the network namespace it runs in).",
            "Changes only what differs, never touches rules outside the prefixed chains, and puts"
                    + " everything back as it was when a step fails."
        })
public final class ApplyCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
            names = "--host",
            required = true,
            paramLabel = "NAME",
            description = "the host whose files to apply")
    String host;

    @Parameters(paramLabel = "DIR", description = "a calicoc compile output directory")
    Path dir;

    @Override
    public Integer call() throws Exception {
        HostFiles files = HostFiles.read(dir, host);
        ApplyResult result = new HostRulesApplier().apply(files);
        spec.commandLine().getOut().println("host " + host + ": " + result.summary());
        return 0;
    }
}
