package dev.calicopolicy.agent.cli;

import dev.calicopolicy.agent.apply.HostRulesApplier;
import dev.calicopolicy.agent.etcd.EtcdSettings;
import dev.calicopolicy.agent.publish.HostFileLayout;
import dev.calicopolicy.agent.run.HostSynchronizer;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code calico-agent run --host NAME}: keeps this machine's kernel (or that of the network
 * namespace it runs in) in step with the host files published in etcd, until SIGTERM or SIGINT.
 */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = {
            "Keeps this host in step with etcd: applies the host files published under"
                    + " /calico-policy/hosts/NAME/ at start and after every change, as apply does,"
                    + " and reports what it applied (or why it could not) in"
                    + " /calico-policy/status/NAME.",
            "Files the kernel refuses leave the rules applied last in place. Runs until SIGTERM"
                    + " or SIGINT, then exits 0."
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:stopped by a signal", "1:failed", "2:usage error"})
public final class RunCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

    /** How long a stop waits for an apply under way to finish. */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    @Spec CommandSpec spec;

    @Mixin EtcdOptions etcd;

    @Option(
            names = "--host",
            required = true,
            paramLabel = "NAME",
            description = "This host's name, as the policy's host blocks give it.")
    String host;

    @Option(
            names = "--resync-interval",
            paramLabel = "DURATION",
            defaultValue = "5m",
            converter = DurationConverter.class,
            description =
                    "How often to read the host's files in full even without a change, and to"
                            + " try files that failed again (default: ${DEFAULT-VALUE}).")
    Duration resyncInterval;

    @Override
    public Integer call() throws InterruptedException {
        EtcdSettings settings = etcd.settings(spec);
        if (!HostFileLayout.isValidName(host)) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "host name '" + host + "' is not valid (expected [A-Za-z0-9_.-]+)");
        }
        HostSynchronizer.Options options;
        try {
            options = HostSynchronizer.Options.defaults().withResyncInterval(resyncInterval);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--resync-interval: " + e.getMessage(), e);
        }
        HostSynchronizer synchronizer =
                new HostSynchronizer(settings, host, new HostRulesApplier(), options);

        Thread onSignal = new Thread(() -> stop(synchronizer), "calico-agent-stop");
        Runtime.getRuntime().addShutdownHook(onSignal);
        try {
            synchronizer.run();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(onSignal);
            } catch (IllegalStateException e) {
                // The JVM is shutting down on a signal: the hook ends the process.
            }
        }
        return 0;
    }

    /**
     * Runs as a shutdown hook on SIGTERM or SIGINT: stops the loop, which closes the watch and the
     * client, and ends the process with 0 once it has (a JVM stopped by a signal would otherwise
     * exit with 128 + the signal's number).
     */
    private static void stop(HostSynchronizer synchronizer) {
        LOG.info("stopping on a signal");
        synchronizer.stop();
        try {
            if (synchronizer.awaitStopped(STOP_TIMEOUT)) {
                System.err.flush();
                Runtime.getRuntime().halt(0);
            }
            LOG.warn(
                    "did not stop within {} s (an apply still running?); exiting anyway",
                    STOP_TIMEOUT.toSeconds());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
