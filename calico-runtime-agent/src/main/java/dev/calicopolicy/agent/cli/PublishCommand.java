package dev.calicopolicy.agent.cli;

import dev.calicopolicy.agent.etcd.EtcdSettings;
import dev.calicopolicy.agent.publish.BundlePublisher;
import dev.calicopolicy.agent.publish.CompiledOutput;
import dev.calicopolicy.agent.publish.Keyspace;
import dev.calicopolicy.agent.publish.PublishException;
import dev.calicopolicy.agent.publish.PublishOptions;
import dev.calicopolicy.agent.publish.PublishPlan;
import dev.calicopolicy.agent.publish.PublishResult;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code calico-agent publish}: publishes a compile output directory into etcd. */
@Command(
        name = "publish",
        mixinStandardHelpOptions = true,
        description = {
            "Publishes a compile output directory (etcd/bundle.json and hosts/) into etcd, writing"
                    + " only what changed since the last publish and never deleting a key it did"
                    + " not publish.",
            "Ends with one line: published N keys (D deleted) in T transactions, revision R."
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:published (or nothing to do)", "1:failed", "2:usage error"})
public final class PublishCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(PublishCommand.class);

    @Spec CommandSpec spec;

    @Mixin EtcdOptions etcd;

    @Option(
            names = "--dry-run",
            description = "Print the plan (keys added, changed, removed) and write nothing.")
    boolean dryRun;

    @Option(
            names = "--verify",
            description =
                    "Read every published key back and rewrite those whose value differs from the"
                            + " bundle, instead of trusting the ownership record.")
    boolean verify;

    @Option(
            names = "--max-txn-ops",
            paramLabel = "N",
            defaultValue = "" + PublishOptions.DEFAULT_MAX_TXN_OPS,
            description =
                    "Operations etcd accepts in one transaction (its --max-txn-ops; default:"
                            + " ${DEFAULT-VALUE}).")
    int maxTxnOps;

    @Option(
            names = "--max-txn-bytes",
            paramLabel = "SIZE",
            defaultValue = "1.5MiB",
            converter = ByteSizeConverter.class,
            description =
                    "Largest transaction etcd accepts (its --max-request-bytes; default:"
                            + " ${DEFAULT-VALUE}).")
    long maxTxnBytes;

    @Option(
            names = "--lock-ttl",
            paramLabel = "DURATION",
            defaultValue = "15s",
            converter = DurationConverter.class,
            description =
                    "How long the lock of a batched publish outlives a publisher that died"
                            + " (default: ${DEFAULT-VALUE}).")
    Duration lockTtl;

    @Option(
            names = "--retry-for",
            paramLabel = "DURATION",
            defaultValue = "30s",
            converter = DurationConverter.class,
            description =
                    "How long to keep trying while etcd is unavailable (default:"
                            + " ${DEFAULT-VALUE}).")
    Duration retryFor;

    @Parameters(paramLabel = "DIR", description = "A compile output directory.")
    Path dir;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        EtcdSettings settings = etcd.settings(spec);
        PublishOptions options;
        try {
            options =
                    PublishOptions.defaults()
                            .withMaxTxnOps(maxTxnOps)
                            .withMaxTxnBytes(maxTxnBytes)
                            .withLockTtl(lockTtl)
                            .withRetryFor(retryFor)
                            .withVerify(verify);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }

        // Connecting loads and warms the gRPC stack, which takes a while in a fresh JVM: do it
        // while the directory is read.
        CompletableFuture<Client> connecting =
                CompletableFuture.supplyAsync(
                        () -> {
                            try {
                                return settings.connectAndProbe(Keyspace.PUBLISHED);
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        });
        CompiledOutput output;
        try {
            output = CompiledOutput.read(dir);
            LOG.debug("read {}: {} keys", dir, output.entries().size());
        } catch (IOException e) {
            connecting.thenAccept(Client::close);
            err.println("calico-agent: error: " + e.getMessage());
            return CalicoAgent.FAILED;
        }
        try (Client client = connected(connecting)) {
            LOG.debug("connected to {}", settings.endpointList());
            BundlePublisher publisher = new BundlePublisher(client, settings.requestTimeout());
            if (dryRun) {
                print(publisher.plan(output, options), out);
                return 0;
            }
            PublishResult result = publisher.publish(output, options);
            out.println(result.summary());
            return 0;
        } catch (IOException | PublishException e) {
            err.println("calico-agent: error: " + e.getMessage());
            return CalicoAgent.FAILED;
        }
    }

    private static Client connected(CompletableFuture<Client> connecting) throws IOException {
        try {
            return connecting.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof UncheckedIOException io) {
                throw io.getCause();
            }
            throw e;
        }
    }

    private static void print(PublishPlan plan, PrintWriter out) {
        out.println("plan: " + plan.summary());
        plan.completes()
                .ifPresent(id -> out.println("completes publish " + id + ", which did not finish"));
        list(out, "+ ", plan.added(), "");
        list(out, "~ ", plan.changed(), "");
        list(out, "- ", plan.removed(), "");
        list(out, "! ", plan.kept(), "  (left in place: changed by someone else since published)");
        out.println("dry run: nothing written");
    }

    private static void list(PrintWriter out, String mark, List<String> keys, String note) {
        for (String key : keys) {
            out.println(mark + key + note);
        }
    }
}
