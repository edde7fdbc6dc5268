package dev.calicopolicy.dsl.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calicopolicy.dsl.Compilation;
import dev.calicopolicy.dsl.CompileOptions;
import dev.calicopolicy.dsl.CompileOptions.WorkloadToHost;
import dev.calicopolicy.dsl.Diagnostic;
import dev.calicopolicy.dsl.OutputWriter;
import dev.calicopolicy.dsl.PolicyCompiler;
import dev.calicopolicy.dsl.model.Policy;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code calicoc}: compiles and checks calico policy. Exit 0 ok, 1 policy errors, 2 usage. */
@Command(
        name = "calicoc",
        mixinStandardHelpOptions = true,
        versionProvider = Calicoc.Version.class,
        description = "Compiles calico policy files into an etcd bundle and per-host rules.",
        subcommands = {Calicoc.Compile.class, Calicoc.Check.class})
public final class Calicoc implements Callable<Integer> {
    static final int OK = 0;
    static final int POLICY_ERRORS = 1;
    static final int USAGE = 2;

    @Spec CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(
                run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams and returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return CommandRunner.execute(
                "calicoc", new Calicoc(), args, out, err, USAGE, POLICY_ERRORS);
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return USAGE;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"calicoc " + PolicyCompiler.version()};
        }
    }

    /** How diagnostics are shown. */
    enum Format {
        TEXT,
        JSON
    }

    /** The options of both subcommands. */
    static final class Common {
        @Parameters(
                paramLabel = "PATH",
                arity = "1..*",
                description = "policy files (.calico, .calico.yaml) or directories to search")
        List<Path> paths;

        @Option(
                names = "--format",
                defaultValue = "text",
                description =
                        "diagnostics as text (on stderr) or json (on stdout): ${COMPLETION-CANDIDATES}")
        Format format;

        @Option(
                names = {"-W", "--fail-on-warning"},
                description = "treat warnings as errors")
        boolean failOnWarning;

        @Option(
                names = "--chain-prefix",
                defaultValue = "cali-",
                description = "prefix of iptables chains and ipsets (default: ${DEFAULT-VALUE})")
        String chainPrefix;

        @Option(
                names = "--workload-to-host",
                defaultValue = "drop",
                description =
                        "traffic from endpoints to their host, beyond DHCP and ND: drop or accept after outbound policy (default: ${DEFAULT-VALUE})")
        WorkloadToHost workloadToHost;

        @Option(
                names = "--host-rules",
                paramLabel = "all|none|HOST,...",
                defaultValue = "all",
                description =
                        "hosts whose rule files are written: all (default), none (the etcd bundle"
                                + " only) or a comma-separated list")
        String hostRules;
    }

    @Command(
            name = "compile",
            mixinStandardHelpOptions = true,
            description =
                    "Checks the policy and writes DIR/etcd/bundle.json, DIR/hosts/<host>/*.rules and DIR/manifest.json.")
    static final class Compile implements Callable<Integer> {
        @Spec CommandLine.Model.CommandSpec spec;

        @Mixin Common common = new Common();

        @Option(
                names = {"-o", "--output"},
                paramLabel = "DIR",
                defaultValue = "out",
                description = "output directory (default: ${DEFAULT-VALUE}); replaced as a whole")
        Path output;

        @Override
        public Integer call() throws IOException {
            CompileOptions options = optionsOrUsage(spec, common);
            Compilation compilation = compile(common.paths);
            boolean failed = report(spec, common, compilation);
            if (failed) {
                return POLICY_ERRORS;
            }
            Policy policy = compilation.policy().orElseThrow();
            for (String host : options.hostRules().names()) {
                if (!policy.hosts().contains(host)) {
                    throw new CommandLine.ParameterException(
                            spec.commandLine(),
                            "--host-rules names host '"
                                    + host
                                    + "', which has no endpoints in the policy");
                }
            }
            SortedMap<String, String> written = OutputWriter.write(compilation, options, output);
            if (common.format == Format.TEXT) {
                spec.commandLine()
                        .getErr()
                        .println(
                                "calicoc: wrote "
                                        + written.size()
                                        + " files to "
                                        + output
                                        + " ("
                                        + compilation.policy().orElseThrow().profiles().size()
                                        + " profiles, "
                                        + compilation.policy().orElseThrow().endpoints().size()
                                        + " endpoints, "
                                        + compilation.policy().orElseThrow().hosts().size()
                                        + " hosts)");
            }
            return OK;
        }
    }

    @Command(
            name = "check",
            mixinStandardHelpOptions = true,
            description = "Checks the policy and reports every problem; writes nothing.")
    static final class Check implements Callable<Integer> {
        @Spec CommandLine.Model.CommandSpec spec;

        @Mixin Common common = new Common();

        @Override
        public Integer call() {
            optionsOrUsage(spec, common);
            Compilation compilation = compile(common.paths);
            return report(spec, common, compilation) ? POLICY_ERRORS : OK;
        }
    }

    private static CompileOptions optionsOrUsage(
            CommandLine.Model.CommandSpec spec, Common common) {
        try {
            return new CompileOptions(
                    common.chainPrefix,
                    common.workloadToHost,
                    CompileOptions.HostSelection.parse(common.hostRules));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private static Compilation compile(List<Path> paths) {
        return new PolicyCompiler(Path.of("")).compile(paths);
    }

    /** Prints the diagnostics; returns true when the run has failed. */
    private static boolean report(
            CommandLine.Model.CommandSpec spec, Common common, Compilation c) {
        boolean failed = c.hasErrors() || (common.failOnWarning && c.warningCount() > 0);
        if (common.format == Format.JSON) {
            ObjectMapper json = new ObjectMapper();
            ObjectNode root = json.createObjectNode();
            root.put("ok", !failed);
            root.put("errors", c.errorCount());
            root.put("warnings", c.warningCount());
            ArrayNode list = root.putArray("diagnostics");
            for (Diagnostic d : c.diagnostics()) {
                list.addObject()
                        .put("file", d.location().file())
                        .put("line", d.location().line())
                        .put("column", d.location().column())
                        .put("severity", d.severity().word())
                        .put("message", d.message());
            }
            spec.commandLine().getOut().println(root.toPrettyString());
            return failed;
        }
        PrintWriter err = spec.commandLine().getErr();
        for (Diagnostic d : c.diagnostics()) {
            err.println(d);
        }
        if (!c.diagnostics().isEmpty()) {
            err.println(
                    c.errorCount()
                            + (c.errorCount() == 1 ? " error, " : " errors, ")
                            + c.warningCount()
                            + (c.warningCount() == 1 ? " warning" : " warnings"));
        }
        return failed;
    }
}
