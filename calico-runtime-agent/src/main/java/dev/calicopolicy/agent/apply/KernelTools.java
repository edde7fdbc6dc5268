package dev.calicopolicy.agent.apply;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Runs the kernel's own tools ({@code ipset}, {@code iptables-restore}, {@code iptables-save} and
 * their IPv6 twins) in whatever network namespace this process is in, feeding them a script on
 * standard input.
 */
final class KernelTools {
    /** What a tool printed and how it ended. */
    record Output(int exitCode, String stdout, String stderr) {
        boolean ok() {
            return exitCode == 0;
        }

        /** Standard error without the tools' usage hints, on one line. */
        String error() {
            List<String> lines = new ArrayList<>();
            for (String line : stderr.split("\n")) {
                String trimmed = line.strip();
                if (!trimmed.isEmpty() && !trimmed.startsWith("Try `")) {
                    lines.add(trimmed);
                }
            }
            StringBuilder text = new StringBuilder();
            for (String line : lines) {
                if (text.length() > 0) {
                    text.append(text.charAt(text.length() - 1) == ':' ? " " : "; ");
                }
                text.append(line);
            }
            return text.length() == 0 ? "exit code " + exitCode : text.toString();
        }
    }

    Output run(String input, String... command) throws ApplyException {
        Process process;
        try {
            process = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new ApplyException(
                    "cannot run '"
                            + command[0]
                            + "' ("
                            + e.getMessage()
                            + "); install iptables and ipset",
                    e);
        }
        CompletableFuture<String> stderr = readAsync(process.getErrorStream());
        CompletableFuture<Void> stdin = new CompletableFuture<>();
        Thread writer =
                new Thread(
                        () -> {
                            try (OutputStream out = process.getOutputStream()) {
                                out.write(input.getBytes(StandardCharsets.UTF_8));
                            } catch (IOException e) {
                                // The tool stopped reading; its exit code and stderr say why.
                            }
                            stdin.complete(null);
                        },
                        "stdin of " + command[0]);
        writer.setDaemon(true);
        writer.start();
        try {
            String stdout =
                    new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int code = process.waitFor();
            stdin.get();
            return new Output(code, stdout, stderr.get());
        } catch (IOException | ExecutionException e) {
            throw new ApplyException("cannot read the output of '" + command[0] + "'", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroy();
            throw new ApplyException("interrupted while running '" + command[0] + "'", e);
        }
    }

    /** Runs a tool and returns what it printed, or fails naming the tool and its message. */
    String runOrFail(String input, String... command) throws ApplyException {
        Output out = run(input, command);
        if (!out.ok()) {
            throw new ApplyException(String.join(" ", command) + " failed: " + out.error());
        }
        return out.stdout();
    }

    /** Reads a stream to its end on a thread of its own, so no pipe can fill up and block. */
    private static CompletableFuture<String> readAsync(InputStream in) {
        CompletableFuture<String> text = new CompletableFuture<>();
        Thread reader =
                new Thread(
                        () -> {
                            try {
                                text.complete(
                                        new String(in.readAllBytes(), StandardCharsets.UTF_8));
                            } catch (IOException e) {
                                text.completeExceptionally(e);
                            }
                        },
                        "stderr reader");
        reader.setDaemon(true);
        reader.start();
        return text;
    }
}
