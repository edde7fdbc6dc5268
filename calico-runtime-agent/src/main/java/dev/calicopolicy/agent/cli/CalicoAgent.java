package dev.calicopolicy.agent.cli;

import dev.calicopolicy.dsl.PolicyCompiler;
import dev.calicopolicy.dsl.cli.CommandRunner;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/**
 * {@code calico-agent}: publishes compiled policy into etcd and keeps hosts' kernels in step with
 * it. Each subcommand is a class of its own in this package.
 */
@Command(
        name = "calico-agent",
        mixinStandardHelpOptions = true,
        versionProvider = CalicoAgent.Version.class,
        description = "Publishes compiled calico policy into etcd and applies host rules.",
        subcommands = {ApplyCommand.class, PublishCommand.class, RunCommand.class})
public final class CalicoAgent implements Callable<Integer> {
    /** Exit code for a failure of the operation (etcd, kernel, files). */
    public static final int FAILED = 1;

    /** Exit code for a wrong command line. */
    public static final int USAGE = 2;

    @Spec CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(
                run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams and returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return CommandRunner.execute(
                "calico-agent", new CalicoAgent(), args, out, err, USAGE, FAILED);
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return USAGE;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"calico-agent " + PolicyCompiler.version()};
        }
    }
}
