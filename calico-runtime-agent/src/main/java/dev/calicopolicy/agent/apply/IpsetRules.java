package dev.calicopolicy.agent.apply;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The sets of an {@code ipset restore} file or of what {@code ipset save} prints: each set's {@code
 * create} line, kind, family, size limit and members, with their lines.
 */
final class IpsetRules {
    /** One set. Members are written as {@code ipset save} prints them (no /32 or /128). */
    record IpSet(
            String name,
            String createLine,
            String type,
            String family,
            String maxElements,
            SortedSet<String> members,
            List<String> addLines,
            List<Integer> addLineNumbers,
            int line) {

        /** True when the kernel's set holds what this one describes. */
        boolean sameContent(IpSet other) {
            return type.equals(other.type)
                    && family.equals(other.family)
                    && maxElements.equals(other.maxElements)
                    && members.equals(other.members);
        }
    }

    private final Map<String, IpSet> sets;

    private IpsetRules(Map<String, IpSet> sets) {
        this.sets = sets;
    }

    Map<String, IpSet> sets() {
        return Collections.unmodifiableMap(sets);
    }

    static IpsetRules parse(String text, String fileName) throws ApplyException {
        Map<String, Builder> builders = new LinkedHashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            int lineNumber = i + 1;
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] words = line.split("\\s+");
            if (words[0].equals("create") && words.length >= 3) {
                if (builders.containsKey(words[1])) {
                    throw error(fileName, lineNumber, "set '" + words[1] + "' is created twice");
                }
                builders.put(words[1], new Builder(words, line, lineNumber));
            } else if (words[0].equals("add") && words.length >= 3) {
                Builder set = builders.get(words[1]);
                if (set == null) {
                    throw error(
                            fileName,
                            lineNumber,
                            "member for set '" + words[1] + "', which is not created before it");
                }
                set.members.add(member(words[2], set.family));
                set.addLines.add(line);
                set.addLineNumbers.add(lineNumber);
            } else {
                throw error(
                        fileName,
                        lineNumber,
                        "expected 'create SET TYPE ...' or 'add SET MEMBER' but found '"
                                + (line.length() > 60 ? line.substring(0, 60) + "..." : line)
                                + "'");
            }
        }
        Map<String, IpSet> sets = new LinkedHashMap<>();
        builders.forEach((name, b) -> sets.put(name, b.build(name)));
        return new IpsetRules(sets);
    }

    /** A member as ipset prints it: a single address without its prefix length. */
    private static String member(String text, String family) {
        String suffix = family.equals("inet6") ? "/128" : "/32";
        return text.endsWith(suffix) ? text.substring(0, text.length() - suffix.length()) : text;
    }

    private static ApplyException error(String fileName, int line, String message) {
        return new ApplyException(fileName + ":" + line + ": " + message);
    }

    private static final class Builder {
        private final String createLine;
        private final String type;
        private final String family;
        private final String maxElements;
        private final int line;
        private final SortedSet<String> members = new TreeSet<>();
        private final List<String> addLines = new ArrayList<>();
        private final List<Integer> addLineNumbers = new ArrayList<>();

        Builder(String[] words, String createLine, int line) {
            this.createLine = createLine;
            this.type = words[2];
            this.family = option(words, "family", "inet");
            this.maxElements = option(words, "maxelem", "65536");
            this.line = line;
        }

        private static String option(String[] words, String name, String fallback) {
            for (int i = 3; i + 1 < words.length; i++) {
                if (words[i].equals(name)) {
                    return words[i + 1];
                }
            }
            return fallback;
        }

        IpSet build(String name) {
            return new IpSet(
                    name,
                    createLine,
                    type,
                    family,
                    maxElements,
                    Collections.unmodifiableSortedSet(members),
                    List.copyOf(addLines),
                    List.copyOf(addLineNumbers),
                    line);
        }
    }
}
