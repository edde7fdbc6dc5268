package dev.calicopolicy.agent.apply;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Splits an iptables rule into its words, undoing {@code iptables-save}'s quoting, and gives
 * protocols by number, so that a rule as a host file writes it and as the kernel prints it back
 * ({@code -p 47} and {@code -p gre}) compare equal.
 */
final class RuleTokens {
    private static final Map<String, String> PROTOCOL_NUMBERS = protocolNumbers();

    private RuleTokens() {}

    static List<String> canonical(String rule) {
        List<String> words = split(rule);
        for (int i = 0; i + 1 < words.size(); i++) {
            if (words.get(i).equals("-p")) {
                String protocol = words.get(i + 1).toLowerCase(Locale.ROOT);
                words.set(i + 1, PROTOCOL_NUMBERS.getOrDefault(protocol, protocol));
            }
        }
        return words;
    }

    /** The words of a rule: spaces separate them, double quotes group, backslash escapes. */
    static List<String> split(String rule) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean quoted = false;
        boolean inWord = false;
        for (int i = 0; i < rule.length(); i++) {
            char c = rule.charAt(i);
            if (c == '\\' && i + 1 < rule.length()) {
                word.append(rule.charAt(++i));
                inWord = true;
            } else if (c == '"') {
                quoted = !quoted;
                inWord = true;
            } else if (Character.isWhitespace(c) && !quoted) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }

    /** Protocol names iptables knows without /etc/protocols, then those in it, by number. */
    private static Map<String, String> protocolNumbers() {
        Map<String, String> numbers = new HashMap<>();
        Path table = Path.of("/etc/protocols");
        if (Files.isReadable(table)) {
            try {
                for (String line : Files.readAllLines(table)) {
                    String[] words = line.replaceFirst("#.*", "").trim().split("\\s+");
                    if (words.length >= 2 && words[1].matches("[0-9]+")) {
                        for (int i = 0; i < words.length; i++) {
                            if (i != 1) {
                                numbers.put(words[i].toLowerCase(Locale.ROOT), words[1]);
                            }
                        }
                    }
                }
            } catch (IOException e) {
                // Without the table, names iptables prints are those below.
            }
        }
        numbers.putAll(
                Map.of(
                        "tcp", "6",
                        "udp", "17",
                        "icmp", "1",
                        "icmpv6", "58",
                        "ipv6-icmp", "58",
                        "sctp", "132",
                        "udplite", "136",
                        "esp", "50",
                        "ah", "51",
                        "all", "0"));
        return numbers;
    }
}
