package dev.calicopolicy.dsl.emit.host;

import static org.assertj.core.api.Assertions.assertThat;

import dev.calicopolicy.testkit.NetworkNamespaces;
import dev.calicopolicy.testkit.Requirements;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every sample's host files load into a fresh network namespace: {@code ipset restore} takes the
 * sets, {@code iptables-restore --test} and then {@code iptables-restore --noflush} (and the IPv6
 * twins) take the chains, and the kernel prints the chains back exactly as the files write them.
 */
class HostFilesKernelTest {
    private static final Pattern PROTOCOL = Pattern.compile(" -p ([a-z0-9-]+) ");

    static Stream<String> cases() throws IOException {
        return HostRulesGoldenTest.cases();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void kernelTakesTheFilesAndPrintsTheSameRulesBack(String name) throws IOException {
        Requirements.program("ipset", "ipset");
        Requirements.program("iptables-restore", "iptables");
        SortedMap<String, String> files = HostRulesGoldenTest.render(name);
        List<String> hosts = new ArrayList<>();
        for (String path : files.keySet()) {
            String host = path.substring(0, path.indexOf('/'));
            if (!hosts.contains(host)) {
                hosts.add(host);
            }
        }
        for (String host : hosts) {
            try (NetworkNamespaces netns = NetworkNamespaces.create()) {
                String ns = netns.add("k");
                netns.execWithInput(ns, files.get(host + "/ipset.rules"), "ipset", "restore");
                for (Map.Entry<String, String> tool :
                        Map.of("iptables", "iptables.rules", "ip6tables", "ip6tables.rules")
                                .entrySet()) {
                    String text = files.get(host + "/" + tool.getValue());
                    netns.execWithInput(
                            ns, text, tool.getKey() + "-restore", "--test", "--noflush");
                    netns.execWithInput(ns, text, tool.getKey() + "-restore", "--noflush");
                    String saved = netns.exec(ns, tool.getKey() + "-save");
                    assertThat(prefixedRules(saved))
                            .as(host + "/" + tool.getValue() + " as the kernel prints it")
                            .containsExactlyElementsOf(prefixedRules(text));
                }
            }
        }
    }

    /** The line with {@code -p NAME} as {@code -p NUMBER}, as /etc/protocols numbers names. */
    private static String protocolNumbers(String line) {
        Matcher m = PROTOCOL.matcher(line);
        if (!m.find() || m.group(1).matches("[0-9]+|tcp|udp|icmp|ipv6-icmp|sctp|udplite")) {
            return line;
        }
        try {
            for (String entry : Files.readAllLines(Path.of("/etc/protocols"))) {
                String[] words = entry.replaceFirst("#.*", "").trim().split("\\s+");
                if (words.length >= 2 && words[0].equals(m.group(1))) {
                    return m.replaceFirst(" -p " + words[1] + " ");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return line;
    }

    /** The chain declarations and rules of the file or save output, without protocol names. */
    private static List<String> prefixedRules(String text) {
        List<String> lines = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("-A ") || line.startsWith(":") && !line.contains(" ACCEPT ")) {
                lines.add(protocolNumbers(line));
            }
        }
        return lines;
    }
}
