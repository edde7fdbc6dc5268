package dev.calicopolicy.agent.apply;

import dev.calicopolicy.agent.apply.IpsetRules.IpSet;
import dev.calicopolicy.agent.apply.IptablesRules.Rule;
import dev.calicopolicy.agent.apply.IptablesRules.Table;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts a host's files into the kernel of the network namespace this process runs in, changing only
 * what differs:
 *
 * <ol>
 *   <li>reads the files and the kernel's current prefixed ipsets and chains, and saves them;
 *   <li>loads new and changed sets into temporary sets, renaming new ones into place;
 *   <li>checks both iptables files with {@code iptables-restore --test};
 *   <li>swaps changed sets in, so rules that use them never see a half-filled set;
 *   <li>restores the prefixed chains whose rules changed with {@code --noflush --wait}, removes the
 *       prefixed chains the files no longer have, and makes sure each hook chain ({@code
 *       cali-INPUT}, {@code cali-FORWARD}, {@code cali-PREROUTING}...) has exactly one jump from
 *       its built-in chain, inserted first;
 *   <li>destroys the prefixed sets the files no longer have.
 * </ol>
 *
 * Rules in chains without the prefix are never touched, apart from those jumps. When a step fails,
 * the saved sets, chains and jumps are put back before the error is thrown, so the kernel is as it
 * was found. Applying the same files twice changes nothing the second time.
 */
public final class HostRulesApplier {
    private static final Logger LOG = LoggerFactory.getLogger(HostRulesApplier.class);

    private static final Pattern PREFIX =
            Pattern.compile("^:([a-z][a-z0-9]{0,5}-)FORWARD\\s", Pattern.MULTILINE);
    private static final Pattern ERROR_LINE = Pattern.compile("line:? (\\d+)");
    private static final Pattern WHERE =
            Pattern.compile("(Error in line \\d+: |Error occurred at line: \\d+|line \\d+: )");
    private static final Map<String, List<String>> HOOKS =
            Map.of(
                    "filter",
                    List.of("INPUT", "FORWARD"),
                    "nat",
                    List.of("PREROUTING", "OUTPUT", "POSTROUTING"));
    private static final List<String> TABLES = List.of("filter", "nat");

    private final KernelTools tools = new KernelTools();

    /** One IP family's tools and file. */
    private record Family(
            String restore, String save, String fileName, String text, IptablesRules rules) {}

    /** The kernel's prefixed state, as saved before a change. */
    private record State(Map<String, IpSet> sets, IptablesRules v4, IptablesRules v6) {
        IptablesRules of(Family family) {
            return family.restore.startsWith("ip6") ? v6 : v4;
        }
    }

    /** A restore script and, for each of its lines, the line of the file it came from (or 0). */
    private static final class Script {
        private final StringBuilder text = new StringBuilder();
        private final List<Integer> sourceLines = new ArrayList<>();

        void line(String line, int sourceLine) {
            text.append(line).append('\n');
            sourceLines.add(sourceLine);
        }

        int sourceLine(int scriptLine) {
            return scriptLine >= 1 && scriptLine <= sourceLines.size()
                    ? sourceLines.get(scriptLine - 1)
                    : 0;
        }

        boolean isEmpty() {
            return sourceLines.isEmpty();
        }

        String text() {
            return text.toString();
        }
    }

    /**
     * Applies {@code files}.
     *
     * @return what changed
     * @throws ApplyException when a file is malformed or the kernel rejects a step; the message
     *     names the file and line at fault, and the kernel has been put back as it was
     */
    public ApplyResult apply(HostFiles files) throws ApplyException {
        Objects.requireNonNull(files, "files should not be null");
        String prefix = prefixOf(files);
        IpsetRules desiredSets = IpsetRules.parse(files.ipset(), files.ipsetName());
        checkSets(desiredSets, prefix, files.ipsetName());
        Family v4 =
                new Family(
                        "iptables-restore",
                        "iptables-save",
                        files.iptablesName(),
                        files.iptables(),
                        IptablesRules.parse(files.iptables(), files.iptablesName()));
        Family v6 =
                new Family(
                        "ip6tables-restore",
                        "ip6tables-save",
                        files.ip6tablesName(),
                        files.ip6tables(),
                        IptablesRules.parse(files.ip6tables(), files.ip6tablesName()));
        checkChains(v4, prefix);
        checkChains(v6, prefix);

        State saved = readState(prefix);
        try {
            return change(prefix, desiredSets, files.ipsetName(), List.of(v4, v6), saved);
        } catch (ApplyException | RuntimeException e) {
            List<String> problems = rollBack(prefix, saved);
            if (problems.isEmpty()) {
                LOG.info("put the previous rules back after a failed apply");
                throw e;
            }
            throw new ApplyException(
                    e.getMessage()
                            + "; putting the previous rules back also failed: "
                            + String.join("; ", problems),
                    e);
        }
    }

    private ApplyResult change(
            String prefix,
            IpsetRules desiredSets,
            String ipsetName,
            List<Family> families,
            State saved)
            throws ApplyException {
        // What differs: sets to create, to update and to remove.
        Map<String, IpSet> current = saved.sets();
        List<String> create = new ArrayList<>();
        List<String> update = new ArrayList<>();
        for (IpSet set : desiredSets.sets().values()) {
            IpSet now = current.get(set.name());
            if (now == null) {
                create.add(set.name());
            } else if (!now.sameContent(set)) {
                update.add(set.name());
            }
        }
        List<String> remove = new ArrayList<>();
        List<String> leftovers = new ArrayList<>();
        for (String name : current.keySet()) {
            if (name.startsWith(tempPrefix(prefix))) {
                leftovers.add(name);
            } else if (!desiredSets.sets().containsKey(name)) {
                remove.add(name);
            }
        }

        // What differs: chains and jumps, per family.
        Map<Family, Script> scripts = new LinkedHashMap<>();
        int chainsLoaded = 0;
        int chainsRemoved = 0;
        int jumpsFixed = 0;
        for (Family family : families) {
            Script script = new Script();
            IptablesRules now = saved.of(family);
            for (String tableName : TABLES) {
                Table want = family.rules.table(tableName);
                Table have = now.table(tableName);
                List<String> changed = new ArrayList<>();
                for (String chain : want.chains()) {
                    if (!have.chains().contains(chain)
                            || !have.canonicalRules(chain).equals(want.canonicalRules(chain))) {
                        changed.add(chain);
                    }
                }
                List<String> stale = new ArrayList<>();
                for (String chain : have.chains()) {
                    if (chain.startsWith(prefix) && !want.chains().contains(chain)) {
                        stale.add(chain);
                    }
                }
                List<String> jumps = new ArrayList<>();
                for (String hook : HOOKS.get(tableName)) {
                    if (!want.chains().contains(prefix + hook)) {
                        continue;
                    }
                    int count = jumpCount(have, hook, prefix + hook);
                    if (count == 0) {
                        jumps.add("-I " + hook + " 1 -j " + prefix + hook);
                    }
                    for (int i = 1; i < count; i++) {
                        jumps.add("-D " + hook + " -j " + prefix + hook);
                    }
                }
                if (changed.isEmpty() && stale.isEmpty() && jumps.isEmpty()) {
                    continue;
                }
                script.line("*" + tableName, want.line());
                for (String chain : changed) {
                    script.line(":" + chain + " - [0:0]", want.chainLine(chain));
                }
                for (String chain : stale) {
                    script.line(":" + chain + " - [0:0]", 0);
                }
                for (String chain : changed) {
                    for (Rule rule : want.rules(chain)) {
                        script.line(rule.text(), rule.line());
                    }
                }
                for (String chain : stale) {
                    script.line("-X " + chain, 0);
                }
                for (String jump : jumps) {
                    script.line(jump, 0);
                }
                script.line("COMMIT", 0);
                chainsLoaded += changed.size();
                chainsRemoved += stale.size();
                jumpsFixed += jumps.size();
            }
            scripts.put(family, script);
        }

        ApplyResult result =
                new ApplyResult(
                        create.size(),
                        update.size(),
                        remove.size(),
                        chainsLoaded,
                        chainsRemoved,
                        jumpsFixed);
        if (!result.changed()) {
            if (!leftovers.isEmpty()) {
                destroySets(leftovers);
            }
            return result;
        }

        // Sets: leftovers of an interrupted apply go; new and changed sets load beside the old.
        if (!leftovers.isEmpty()) {
            destroySets(leftovers);
        }
        Set<String> load = new LinkedHashSet<>(create);
        load.addAll(update);
        if (!load.isEmpty()) {
            loadTemporarySets(prefix, desiredSets, load, ipsetName);
        }
        if (!create.isEmpty()) {
            StringBuilder rename = new StringBuilder();
            for (String name : create) {
                rename.append("rename ")
                        .append(tempName(prefix, name))
                        .append(' ')
                        .append(name)
                        .append('\n');
            }
            tools.runOrFail(rename.toString(), "ipset", "restore");
        }

        // Both files must pass the check before any chain changes.
        for (Family family : families) {
            KernelTools.Output test =
                    tools.run(family.text, family.restore, "--test", "--noflush", "--wait");
            if (!test.ok()) {
                throw new ApplyException(locate(family.fileName, test, null));
            }
        }

        if (!update.isEmpty()) {
            StringBuilder swap = new StringBuilder();
            for (String name : update) {
                String temp = tempName(prefix, name);
                swap.append("swap ").append(temp).append(' ').append(name).append('\n');
                swap.append("destroy ").append(temp).append('\n');
            }
            tools.runOrFail(swap.toString(), "ipset", "restore");
        }

        for (Map.Entry<Family, Script> entry : scripts.entrySet()) {
            Family family = entry.getKey();
            Script script = entry.getValue();
            if (script.isEmpty()) {
                continue;
            }
            KernelTools.Output out =
                    tools.run(script.text(), family.restore, "--noflush", "--wait");
            if (!out.ok()) {
                throw new ApplyException(locate(family.fileName, out, script));
            }
        }

        if (!remove.isEmpty()) {
            destroySets(remove);
        }
        LOG.info("applied host rules: {}", result.summary());
        return result;
    }

    /** Loads the given sets into their temporary twins; errors name the file's line. */
    private void loadTemporarySets(
            String prefix, IpsetRules desired, Set<String> names, String fileName)
            throws ApplyException {
        Script script = new Script();
        for (IpSet set : desired.sets().values()) {
            if (names.contains(set.name())) {
                String temp = tempName(prefix, set.name());
                script.line(rename(set.createLine(), temp), set.line());
                for (int i = 0; i < set.addLines().size(); i++) {
                    script.line(rename(set.addLines().get(i), temp), set.addLineNumbers().get(i));
                }
            }
        }
        KernelTools.Output out = tools.run(script.text(), "ipset", "restore");
        if (!out.ok()) {
            throw new ApplyException(locate(fileName, out, script));
        }
    }

    private static String rename(String line, String newName) {
        String[] words = line.split("\\s+", 3);
        return words[0] + " " + newName + (words.length > 2 ? " " + words[2] : "");
    }

    private void destroySets(List<String> names) throws ApplyException {
        StringBuilder script = new StringBuilder();
        for (String name : names) {
            script.append("destroy ").append(name).append('\n');
        }
        tools.runOrFail(script.toString(), "ipset", "restore");
    }

    /** Reads the kernel's prefixed sets and the filter and nat tables of both families. */
    private State readState(String prefix) throws ApplyException {
        String sets = tools.runOrFail("", "ipset", "save");
        StringBuilder ours = new StringBuilder();
        for (String line : sets.split("\n")) {
            String[] words = line.split("\\s+");
            if (words.length >= 2 && words[1].startsWith(prefix)) {
                ours.append(line).append('\n');
            }
        }
        return new State(
                IpsetRules.parse(ours.toString(), "ipset save").sets(),
                save("iptables-save"),
                save("ip6tables-save"));
    }

    private IptablesRules save(String tool) throws ApplyException {
        StringBuilder text = new StringBuilder();
        for (String table : TABLES) {
            text.append(tools.runOrFail("", tool, "-t", table));
        }
        return IptablesRules.parse(text.toString(), tool);
    }

    /**
     * Puts the saved sets, prefixed chains and jumps back. Returns the problems met (empty when all
     * went well); it goes on after a problem, to put back as much as it can.
     */
    private List<String> rollBack(String prefix, State saved) {
        List<String> problems = new ArrayList<>();
        State now;
        try {
            now = readState(prefix);
        } catch (ApplyException e) {
            problems.add(e.getMessage());
            return problems;
        }

        // Sets first, so that the saved rules find every set they use.
        StringBuilder sets = new StringBuilder();
        for (IpSet set : saved.sets().values()) {
            IpSet current = now.sets().get(set.name());
            if (current != null && current.sameContent(set)) {
                continue;
            }
            String target = current == null ? set.name() : tempName(prefix, set.name());
            if (current != null && now.sets().containsKey(target)) {
                sets.append("destroy ").append(target).append('\n');
            }
            sets.append(rename(set.createLine(), target)).append('\n');
            for (String add : set.addLines()) {
                sets.append(rename(add, target)).append('\n');
            }
            if (current != null) {
                sets.append("swap ").append(target).append(' ').append(set.name()).append('\n');
                sets.append("destroy ").append(target).append('\n');
            }
        }
        runQuietly(sets.toString(), problems, "ipset", "restore");

        for (String tool : List.of("iptables", "ip6tables")) {
            IptablesRules was = tool.equals("iptables") ? saved.v4() : saved.v6();
            IptablesRules is = tool.equals("iptables") ? now.v4() : now.v6();
            StringBuilder script = new StringBuilder();
            for (String tableName : TABLES) {
                script.append(restoreTable(prefix, was.table(tableName), is.table(tableName)));
            }
            if (script.length() > 0) {
                runQuietly(script.toString(), problems, tool + "-restore", "--noflush", "--wait");
            }
        }

        // Last, the sets that were not there before (new ones and temporary twins).
        StringBuilder destroy = new StringBuilder();
        try {
            for (String name : tools.runOrFail("", "ipset", "list", "-n").split("\n")) {
                if (name.startsWith(prefix) && !saved.sets().containsKey(name)) {
                    destroy.append("destroy ").append(name).append('\n');
                }
            }
        } catch (ApplyException e) {
            problems.add(e.getMessage());
        }
        runQuietly(destroy.toString(), problems, "ipset", "restore");
        return problems;
    }

    /** The restore script that turns the prefixed part of {@code is} back into {@code was}. */
    private static String restoreTable(String prefix, Table was, Table is) {
        Set<String> chains = new LinkedHashSet<>();
        for (String chain : was.chains()) {
            if (chain.startsWith(prefix)) {
                chains.add(chain);
            }
        }
        for (String chain : is.chains()) {
            if (chain.startsWith(prefix)) {
                chains.add(chain);
            }
        }
        StringBuilder script = new StringBuilder();
        for (String chain : chains) {
            script.append(':').append(chain).append(" - [0:0]\n");
        }
        for (String chain : was.chains()) {
            if (chain.startsWith(prefix)) {
                for (Rule rule : was.rules(chain)) {
                    script.append(rule.text()).append('\n');
                }
            }
        }
        for (String hook : HOOKS.get(was.name())) {
            List<String> jump = List.of("-A", hook, "-j", prefix + hook);
            for (Rule rule : is.rules(hook)) {
                if (rule.canonical().equals(jump)) {
                    script.append("-D ").append(hook).append(" -j ").append(prefix).append(hook);
                    script.append('\n');
                }
            }
            List<Rule> rules = was.rules(hook);
            for (int i = 0; i < rules.size(); i++) {
                if (rules.get(i).canonical().equals(jump)) {
                    script.append("-I ")
                            .append(hook)
                            .append(' ')
                            .append(i + 1)
                            .append(" -j ")
                            .append(prefix)
                            .append(hook)
                            .append('\n');
                }
            }
        }
        for (String chain : is.chains()) {
            if (chain.startsWith(prefix) && !was.chains().contains(chain)) {
                script.append("-X ").append(chain).append('\n');
            }
        }
        if (script.length() == 0) {
            return "";
        }
        return "*" + was.name() + "\n" + script + "COMMIT\n";
    }

    private void runQuietly(String input, List<String> problems, String... command) {
        if (input.isEmpty()) {
            return;
        }
        try {
            KernelTools.Output out = tools.run(input, command);
            if (!out.ok()) {
                problems.add(command[0] + ": " + out.error());
            }
        } catch (ApplyException e) {
            problems.add(e.getMessage());
        }
    }

    private static int jumpCount(Table table, String hook, String target) {
        List<String> jump = List.of("-A", hook, "-j", target);
        int count = 0;
        for (Rule rule : table.rules(hook)) {
            if (rule.canonical().equals(jump)) {
                count++;
            }
        }
        return count;
    }

    /** {@code file:line: message} from a tool's complaint, mapping script lines to file lines. */
    private static String locate(String fileName, KernelTools.Output out, Script script) {
        String message = out.error();
        Matcher line = ERROR_LINE.matcher(message);
        if (line.find()) {
            int number = Integer.parseInt(line.group(1));
            int fileLine = script == null ? number : script.sourceLine(number);
            String rest = WHERE.matcher(message).replaceAll("").replaceAll("(; )+", "; ");
            rest = rest.replaceAll("^; |; $", "");
            if (fileLine > 0) {
                return fileName + ":" + fileLine + ": " + rest;
            }
            return fileName + ": " + rest + " (in a generated line " + number + ")";
        }
        return fileName + ": " + message;
    }

    /** The chain prefix the file uses, from its declaration of {@code <prefix>FORWARD}. */
    private static String prefixOf(HostFiles files) throws ApplyException {
        Matcher m = PREFIX.matcher(files.iptables());
        if (!m.find()) {
            throw new ApplyException(
                    files.iptablesName()
                            + ": declares no chain such as ':cali-FORWARD'; is it a host file"
                            + " written by calicoc?");
        }
        return m.group(1);
    }

    private static void checkSets(IpsetRules sets, String prefix, String fileName)
            throws ApplyException {
        for (IpSet set : sets.sets().values()) {
            if (!set.name().startsWith(prefix) || set.name().startsWith(tempPrefix(prefix))) {
                throw new ApplyException(
                        fileName
                                + ":"
                                + set.line()
                                + ": set '"
                                + set.name()
                                + "' does not start with the chain prefix '"
                                + prefix
                                + "' (or uses the prefix of temporary sets)");
            }
        }
    }

    private static void checkChains(Family family, String prefix) throws ApplyException {
        for (String tableName : family.rules.tableNames()) {
            Table table = family.rules.table(tableName);
            if (!TABLES.contains(tableName)) {
                throw new ApplyException(
                        family.fileName
                                + ":"
                                + table.line()
                                + ": table '"
                                + tableName
                                + "' is not one the host files use (filter, nat)");
            }
            for (String chain : table.chains()) {
                if (!chain.startsWith(prefix)) {
                    throw new ApplyException(
                            family.fileName
                                    + ":"
                                    + table.chainLine(chain)
                                    + ": chain '"
                                    + chain
                                    + "' does not start with the prefix '"
                                    + prefix
                                    + "'; host files declare only their own chains");
                }
            }
        }
    }

    private static String tempPrefix(String prefix) {
        return prefix + "tmp-";
    }

    /** The temporary twin of a set, fitting ipset's 31 characters. */
    static String tempName(String prefix, String name) {
        try {
            byte[] hash =
                    MessageDigest.getInstance("SHA-256")
                            .digest(name.getBytes(StandardCharsets.UTF_8));
            return tempPrefix(prefix) + HexFormat.of().formatHex(hash).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
