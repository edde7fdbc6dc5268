package dev.calicopolicy.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Network namespaces for a test, each deleted again on {@link #close()} (and, should the JVM be
 * stopped before that, by a shutdown hook), with the processes started in them. Every command runs
 * through {@code ip netns exec}, so a test never touches the machine's own network settings. Names
 * carry a random tag, so tests running side by side do not meet.
 */
public final class NetworkNamespaces implements AutoCloseable {
    /** What a command printed and how it ended. */
    public record Result(int exitCode, String stdout, String stderr) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    private final String tag;
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private final Thread cleanup = new Thread(this::deleteAll, "delete network namespaces");

    private NetworkNamespaces() {
        this.tag = Integer.toString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff), 36);
        Runtime.getRuntime().addShutdownHook(cleanup);
    }

    /** Checks for root and {@code ip}, then returns an empty set of namespaces. */
    public static NetworkNamespaces create() {
        Requirements.root();
        Requirements.program("ip", "iproute2");
        return new NetworkNamespaces();
    }

    /**
     * Creates a namespace and returns its full name. Its loopback is up, IPv6 duplicate address
     * detection is off (addresses are usable at once) and reverse path filtering is off.
     */
    public String add(String label) {
        String name = "cp" + tag + "-" + label;
        run(List.of("ip", "netns", "add", name), "");
        namespaces.add(name);
        exec(name, "ip", "link", "set", "lo", "up");
        for (String sysctl :
                List.of(
                        "net.ipv6.conf.all.accept_dad=0",
                        "net.ipv6.conf.default.accept_dad=0",
                        "net.ipv4.conf.all.rp_filter=0",
                        "net.ipv4.conf.default.rp_filter=0")) {
            exec(name, "sysctl", "-q", "-w", sysctl);
        }
        return name;
    }

    /** Names of the namespaces created so far. */
    public List<String> names() {
        return List.copyOf(namespaces);
    }

    /** Joins two namespaces with a veth pair, its ends named as given, both up. */
    public void veth(String ns1, String if1, String ns2, String if2) {
        run(
                List.of(
                        "ip", "link", "add", if1, "netns", ns1, "type", "veth", "peer", "name", if2,
                        "netns", ns2),
                "");
        exec(ns1, "ip", "link", "set", if1, "up");
        exec(ns2, "ip", "link", "set", if2, "up");
    }

    /** Runs a command in a namespace; fails the test when it fails. Returns its output. */
    public String exec(String ns, String... command) {
        return execWithInput(ns, "", command);
    }

    /** Runs a command in a namespace with {@code input} on stdin; fails when it fails. */
    public String execWithInput(String ns, String input, String... command) {
        Result r = tryExec(ns, input, command);
        if (!r.ok()) {
            throw new AssertionError(
                    "in namespace "
                            + ns
                            + ", '"
                            + String.join(" ", command)
                            + "' failed ("
                            + r.exitCode()
                            + "): "
                            + r.stderr()
                            + r.stdout());
        }
        return r.stdout();
    }

    /** Runs a command in a namespace and returns how it went. */
    public Result tryExec(String ns, String input, String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(List.of(command));
        return run(full, input);
    }

    /** Runs a Java program of the test class path in a namespace to its end. */
    public Result runJava(String ns, String mainClass, String... args) {
        List<String> command = javaCommand(ns, mainClass, args);
        return run(command, "");
    }

    /** Starts a Java program of the test class path in a namespace; stopped on close. */
    public Process startJava(String ns, String mainClass, String... args) {
        List<String> command = javaCommand(ns, mainClass, args);
        try {
            Process p =
                    new ProcessBuilder(command)
                            .redirectError(ProcessBuilder.Redirect.INHERIT)
                            .start();
            processes.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
    }

    /**
     * Starts a Java program of the test class path in a namespace, with its standard output and
     * error appended to {@code log}; stopped on close (if it has not ended before).
     */
    public Process startJava(String ns, Path log, String mainClass, String... args) {
        List<String> command = javaCommand(ns, mainClass, args);
        try {
            Process p =
                    new ProcessBuilder(command)
                            .redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                            .start();
            synchronized (this) {
                processes.add(p);
            }
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
    }

    private static List<String> javaCommand(String ns, String mainClass, String... args) {
        String java =
                ProcessHandle.current()
                        .info()
                        .command()
                        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command =
                new ArrayList<>(
                        List.of(
                                "ip",
                                "netns",
                                "exec",
                                ns,
                                java,
                                "-Xmx48m",
                                "-XX:TieredStopAtLevel=1",
                                "-cp",
                                System.getProperty("java.class.path"),
                                mainClass));
        command.addAll(List.of(args));
        return command;
    }

    /** Starts a {@link TrafficProbe} in a namespace. */
    public Probe probe(String ns) {
        return new Probe(ns, startJava(ns, TrafficProbe.class.getName(), ns));
    }

    /** A running {@link TrafficProbe}: a TCP listener and client inside one namespace. */
    public static final class Probe {
        private final String ns;
        private final PrintWriter commands;
        private final BufferedReader answers;

        Probe(String ns, Process process) {
            this.ns = ns;
            this.commands =
                    new PrintWriter(
                            new OutputStreamWriter(
                                    process.getOutputStream(), StandardCharsets.UTF_8),
                            true);
            this.answers =
                    new BufferedReader(
                            new InputStreamReader(
                                    process.getInputStream(), StandardCharsets.UTF_8));
            String ready = answer();
            if (!"ready".equals(ready)) {
                throw new AssertionError("traffic probe in " + ns + " did not start: " + ready);
            }
        }

        /** Listens on {@code port} on every address. */
        public void listen(int port) {
            String answer = ask("listen " + port);
            if (!answer.equals("ok")) {
                throw new AssertionError("probe in " + ns + " cannot listen: " + answer);
            }
        }

        /**
         * Connects to {@code address:port} (from {@code source}, or any address when null) and
         * returns the listener's line ({@code NAMESPACE PEER-ADDRESS}), or null when no connection
         * could be made within the timeout.
         */
        public String connect(String address, int port, String source, int timeoutMillis) {
            String answer =
                    ask(
                            "connect "
                                    + address
                                    + " "
                                    + port
                                    + " "
                                    + (source == null ? "-" : source)
                                    + " "
                                    + timeoutMillis);
            return answer.startsWith("ok ") ? answer.substring(3) : null;
        }

        private synchronized String ask(String command) {
            commands.println(command);
            return answer();
        }

        private String answer() {
            try {
                String line = answers.readLine();
                if (line == null) {
                    throw new AssertionError("traffic probe in " + ns + " has stopped");
                }
                return line;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Override
    public void close() {
        deleteAll();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down and runs the hook itself.
        }
    }

    private synchronized void deleteAll() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        processes.clear();
        for (String ns : namespaces) {
            run(List.of("ip", "netns", "delete", ns), "");
        }
        namespaces.clear();
    }

    private static Result run(List<String> command, String input) {
        try {
            Process p = new ProcessBuilder(command).start();
            Thread writer =
                    new Thread(
                            () -> {
                                try (var out = p.getOutputStream()) {
                                    out.write(input.getBytes(StandardCharsets.UTF_8));
                                } catch (IOException e) {
                                    // The command stopped reading; its exit code tells.
                                }
                            });
            writer.start();
            StringBuilder err = new StringBuilder();
            Thread errors =
                    new Thread(
                            () -> {
                                try {
                                    err.append(
                                            new String(
                                                    p.getErrorStream().readAllBytes(),
                                                    StandardCharsets.UTF_8));
                                } catch (IOException e) {
                                    err.append(e.getMessage());
                                }
                            });
            errors.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int code = p.waitFor();
            writer.join();
            errors.join();
            return new Result(code, out, err.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + command, e);
        }
    }
}
