package dev.calicopolicy.dsl.bench;

import dev.calicopolicy.dsl.Compilation;
import dev.calicopolicy.dsl.CompileOptions;
import dev.calicopolicy.dsl.OutputWriter;
import dev.calicopolicy.dsl.PolicyCompiler;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Times {@code calicoc compile} on generated policies at several fractions of a full size (default:
 * 1,000 hosts, 100,000 endpoints, 2,000 profiles of 10 rules), each in a fresh JVM with a fixed
 * heap limit, and prints wall time, peak heap and output size per run. By default it writes the
 * etcd bundle only ({@code --host-rules none}); {@code --host-rules compute-0000,compute-0001} adds
 * the rule files of those hosts, to time the per-host rendering.
 *
 * <pre>
 * java -cp calico-dsl/target/calicoc.jar dev.calicopolicy.dsl.bench.CompileBenchmark \
 *     [--scales 0.25,0.5,1] [--heap 2g] [--seed 42] [--repeat 3] [--host-rules none]
 * </pre>
 */
public final class CompileBenchmark {
    private static final PolicyGenerator.Size FULL =
            new PolicyGenerator.Size(1_000, 100_000, 2_000, 10);

    private CompileBenchmark() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("measure")) {
            measure(
                    Path.of(args[1]),
                    Path.of(args[2]),
                    CompileOptions.HostSelection.parse(args[3]));
            return;
        }
        String scales = "0.25,0.5,1";
        String heap = "2g";
        long seed = 42;
        int repeat = 3;
        String hostRules = "none";
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--scales" -> scales = args[i + 1];
                case "--heap" -> heap = args[i + 1];
                case "--seed" -> seed = Long.parseLong(args[i + 1]);
                case "--repeat" -> repeat = Integer.parseInt(args[i + 1]);
                case "--host-rules" -> hostRules = args[i + 1];
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }

        System.out.printf(
                Locale.ROOT,
                "calicoc compile benchmark: -Xmx%s, seed %d, best of %d runs, host rules: %s, %d"
                        + " cores%n",
                heap,
                seed,
                repeat,
                hostRules,
                Runtime.getRuntime().availableProcessors());
        System.out.printf(
                Locale.ROOT,
                "%-6s %6s %9s %9s %8s %11s %11s %12s %10s%n",
                "scale",
                "hosts",
                "endpoints",
                "profiles",
                "rules",
                "compile_s",
                "process_s",
                "peak_heap_MiB",
                "output_MiB");
        for (String scaleText : scales.split(",")) {
            double scale = Double.parseDouble(scaleText);
            PolicyGenerator.Size size = FULL.scaled(scale);
            Path work = Files.createTempDirectory("calicoc-bench-");
            try {
                Path src = work.resolve("policy");
                PolicyGenerator.write(size, seed, src);
                double bestCompile = Double.MAX_VALUE;
                double bestProcess = Double.MAX_VALUE;
                long peak = 0;
                long outputBytes = 0;
                for (int r = 0; r < repeat; r++) {
                    long start = System.nanoTime();
                    String[] result = fork(heap, src, work.resolve("out"), hostRules).split(" ");
                    double process = (System.nanoTime() - start) / 1e9;
                    bestProcess = Math.min(bestProcess, process);
                    bestCompile = Math.min(bestCompile, Double.parseDouble(result[0]));
                    peak = Math.max(peak, Long.parseLong(result[1]));
                    outputBytes = Long.parseLong(result[2]);
                }
                System.out.printf(
                        Locale.ROOT,
                        "%-6s %6d %9d %9d %8d %11.2f %11.2f %12d %10.1f%n",
                        scaleText,
                        size.hosts(),
                        size.endpoints(),
                        size.profiles(),
                        size.profiles() * size.rulesPerProfile(),
                        bestCompile,
                        bestProcess,
                        peak >> 20,
                        outputBytes / 1048576.0);
            } finally {
                deleteTree(work);
            }
        }
    }

    private static String fork(String heap, Path src, Path out, String hostRules)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + heap);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(CompileBenchmark.class.getName());
        cmd.add("measure");
        cmd.add(src.toString());
        cmd.add(out.toString());
        cmd.add(hostRules);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("the compile run failed (out of heap?): " + line);
        }
        return line;
    }

    /**
     * One compile, as {@code calicoc compile -o OUT SRC} does it; prints seconds, peak heap, output
     * bytes.
     */
    private static void measure(Path src, Path out, CompileOptions.HostSelection hosts)
            throws IOException {
        long start = System.nanoTime();
        Compilation c = new PolicyCompiler(src).compile(List.of(src));
        if (c.hasErrors()) {
            c.diagnostics().stream().limit(20).forEach(System.err::println);
            System.exit(1);
        }
        var files = OutputWriter.write(c, CompileOptions.DEFAULTS.withHostRules(hosts), out);
        double seconds = (System.nanoTime() - start) / 1e9;
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        long bytes = 0;
        for (String file : files.keySet()) {
            bytes += Files.size(out.resolve(file));
        }
        System.out.println(seconds + " " + peak + " " + bytes);
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
