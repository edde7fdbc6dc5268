package dev.calicopolicy.agent.apply;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The tables, chains and rules of an {@code iptables-restore} file or of what {@code iptables-save}
 * prints, with the line each came from. Only {@code -A} rules are understood, as both forms contain
 * nothing else.
 */
final class IptablesRules {
    static final Set<String> BUILT_IN_CHAINS =
            Set.of("INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING");

    /** One {@code -A} rule: its text as written and its line. */
    record Rule(String chain, String text, int line) {
        /** The rule in a form where two spellings of one rule are equal. */
        List<String> canonical() {
            return RuleTokens.canonical(text);
        }
    }

    /** One table: its chains in order of declaration and each chain's rules. */
    static final class Table {
        private final String name;
        private final int line;
        private final Map<String, Integer> chainLines = new LinkedHashMap<>();
        private final Map<String, List<Rule>> rules = new LinkedHashMap<>();

        Table(String name, int line) {
            this.name = name;
            this.line = line;
        }

        String name() {
            return name;
        }

        int line() {
            return line;
        }

        /** Every chain declared, built-in ones included, in order. */
        Set<String> chains() {
            return Collections.unmodifiableSet(chainLines.keySet());
        }

        int chainLine(String chain) {
            return chainLines.getOrDefault(chain, 0);
        }

        List<Rule> rules(String chain) {
            return rules.getOrDefault(chain, List.of());
        }

        /** The canonical forms of a chain's rules, for comparing a file with the kernel. */
        List<List<String>> canonicalRules(String chain) {
            List<List<String>> canonical = new ArrayList<>();
            for (Rule r : rules(chain)) {
                canonical.add(r.canonical());
            }
            return canonical;
        }
    }

    private final Map<String, Table> tables;

    private IptablesRules(Map<String, Table> tables) {
        this.tables = tables;
    }

    /** The table of this name, empty if the text had none. */
    Table table(String name) {
        Table table = tables.get(name);
        return table != null ? table : new Table(name, 0);
    }

    Set<String> tableNames() {
        return tables.keySet();
    }

    /**
     * Parses restore input or save output; {@code fileName} names the text in messages.
     *
     * @throws ApplyException for a line that is not a table, chain, {@code -A} rule or {@code
     *     COMMIT}, naming the file and line
     */
    static IptablesRules parse(String text, String fileName) throws ApplyException {
        Map<String, Table> tables = new LinkedHashMap<>();
        Table current = null;
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            int lineNumber = i + 1;
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("*")) {
                if (current != null) {
                    throw error(fileName, lineNumber, "table '" + line + "' starts before COMMIT");
                }
                String name = line.substring(1);
                if (tables.containsKey(name)) {
                    throw error(fileName, lineNumber, "table '" + name + "' appears twice");
                }
                current = new Table(name, lineNumber);
                tables.put(name, current);
            } else if (current == null) {
                throw error(
                        fileName,
                        lineNumber,
                        "expected a table such as '*filter' but found '" + abbreviate(line) + "'");
            } else if (line.equals("COMMIT")) {
                current = null;
            } else if (line.startsWith(":")) {
                String chain = line.substring(1).split("\\s+")[0];
                current.chainLines.putIfAbsent(chain, lineNumber);
            } else if (line.startsWith("-A ")) {
                String[] words = line.split("\\s+", 3);
                String chain = words[1];
                if (!current.chainLines.containsKey(chain)) {
                    throw error(
                            fileName,
                            lineNumber,
                            "rule for chain '" + chain + "', which the table does not declare");
                }
                current.rules
                        .computeIfAbsent(chain, c -> new ArrayList<>())
                        .add(new Rule(chain, line, lineNumber));
            } else {
                throw error(
                        fileName,
                        lineNumber,
                        "expected a chain (':name'), a rule ('-A chain ...') or COMMIT but found '"
                                + abbreviate(line)
                                + "'");
            }
        }
        if (current != null) {
            throw error(fileName, lines.length, "table '" + current.name + "' has no COMMIT");
        }
        return new IptablesRules(tables);
    }

    private static ApplyException error(String fileName, int line, String message) {
        return new ApplyException(fileName + ":" + line + ": " + message);
    }

    private static String abbreviate(String line) {
        return line.length() > 60 ? line.substring(0, 60) + "..." : line;
    }
}
