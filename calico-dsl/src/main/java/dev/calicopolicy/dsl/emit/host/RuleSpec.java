package dev.calicopolicy.dsl.emit.host;

import java.util.ArrayList;
import java.util.List;

/**
 * One iptables rule, written the way {@code iptables-save} prints it (addresses and interfaces
 * first, then the protocol, the comment, the other matches and the target), so that the rules a
 * host file declares read back from the kernel unchanged.
 */
final class RuleSpec {
    /** The longest comment the kernel's comment match keeps. */
    static final int MAX_COMMENT = 255;

    private String source;
    private boolean sourceNegated;
    private String destination;
    private String inInterface;
    private String outInterface;
    private String protocol;
    private String comment;
    private final List<String> matches = new ArrayList<>();

    RuleSpec copy() {
        RuleSpec copy = new RuleSpec();
        copy.source = source;
        copy.sourceNegated = sourceNegated;
        copy.destination = destination;
        copy.inInterface = inInterface;
        copy.outInterface = outInterface;
        copy.protocol = protocol;
        copy.comment = comment;
        copy.matches.addAll(matches);
        return copy;
    }

    RuleSpec source(String cidr) {
        this.source = cidr;
        return this;
    }

    RuleSpec notSource(String cidr) {
        this.source = cidr;
        this.sourceNegated = true;
        return this;
    }

    RuleSpec destination(String cidr) {
        this.destination = cidr;
        return this;
    }

    RuleSpec in(String interfaceName) {
        this.inInterface = interfaceName;
        return this;
    }

    RuleSpec out(String interfaceName) {
        this.outInterface = interfaceName;
        return this;
    }

    RuleSpec protocol(String protocol) {
        this.protocol = protocol;
        return this;
    }

    RuleSpec comment(String text) {
        this.comment = sanitize(text);
        return this;
    }

    /** Adds a match, such as {@code -m mark --mark 0x1/0x1}, after those already added. */
    RuleSpec match(String match) {
        matches.add(match);
        return this;
    }

    /** The rule appended to {@code chain} with {@code target} (such as {@code -j DROP}). */
    String append(String chain, String target) {
        StringBuilder line = new StringBuilder("-A ").append(chain);
        if (source != null) {
            line.append(sourceNegated ? " ! -s " : " -s ").append(source);
        }
        if (destination != null) {
            line.append(" -d ").append(destination);
        }
        if (inInterface != null) {
            line.append(" -i ").append(inInterface);
        }
        if (outInterface != null) {
            line.append(" -o ").append(outInterface);
        }
        if (protocol != null) {
            line.append(" -p ").append(protocol);
        }
        if (comment != null) {
            line.append(" -m comment --comment \"").append(comment).append('"');
        }
        for (String match : matches) {
            line.append(' ').append(match);
        }
        return line.append(' ').append(target).toString();
    }

    /**
     * The comment with every character that would need escaping (or is not printable ASCII)
     * replaced by {@code _}, cut to the kernel's limit.
     */
    static String sanitize(String text) {
        StringBuilder clean = new StringBuilder();
        for (char c : text.toCharArray()) {
            boolean plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\'' && c != '\\';
            clean.append(plain ? c : '_');
        }
        return clean.length() > MAX_COMMENT ? clean.substring(0, MAX_COMMENT) : clean.toString();
    }
}
