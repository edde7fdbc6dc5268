package dev.calicopolicy.dsl.cli;

import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * Runs a picocli command the way every calico-policy command line does: usage errors exit with one
 * code, failures with another and the message {@code NAME: error: ...}, on the given streams.
 */
public final class CommandRunner {
    private CommandRunner() {}

    /** Runs {@code command} with {@code args} and returns its exit code. */
    public static int execute(
            String name,
            Object command,
            String[] args,
            PrintWriter out,
            PrintWriter err,
            int usageCode,
            int failureCode) {
        CommandLine cli = new CommandLine(command);
        cli.setOut(out);
        cli.setErr(err);
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setExitCodeExceptionMapper(
                e -> e instanceof CommandLine.ParameterException ? usageCode : failureCode);
        cli.setExecutionExceptionHandler(
                (e, commandLine, parseResult) -> {
                    commandLine.getErr().println(name + ": error: " + e.getMessage());
                    return failureCode;
                });
        int code = cli.execute(args);
        out.flush();
        err.flush();
        return code;
    }
}
