package dev.calicopolicy.agent.apply;

import dev.calicopolicy.dsl.emit.host.HostRules;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The three host files of one host, with the names that messages give them.
 *
 * @param location where the files come from, such as {@code out/hosts/compute-01}; messages name a
 *     file as {@code location/ipset.rules}
 */
public record HostFiles(String location, String ipset, String iptables, String ip6tables) {
    public HostFiles {
        Objects.requireNonNull(location, "location should not be null");
        Objects.requireNonNull(ipset, "ipset should not be null");
        Objects.requireNonNull(iptables, "iptables should not be null");
        Objects.requireNonNull(ip6tables, "ip6tables should not be null");
    }

    /** The files the compiler wrote for {@code host} under {@code outputDir/hosts/host}. */
    public static HostFiles read(Path outputDir, String host) throws ApplyException {
        Objects.requireNonNull(outputDir, "outputDir should not be null");
        Objects.requireNonNull(host, "host should not be null");
        Path dir = outputDir.resolve("hosts").resolve(host);
        if (!Files.isDirectory(dir)) {
            throw new ApplyException(
                    dir
                            + ": no host files for host '"
                            + host
                            + "' (is it a host of the compiled policy? compile with calicoc first)");
        }
        return new HostFiles(
                dir.toString(),
                readFile(dir.resolve(HostRules.IPSET_FILE)),
                readFile(dir.resolve(HostRules.IPTABLES_FILE)),
                readFile(dir.resolve(HostRules.IP6TABLES_FILE)));
    }

    /** The files of {@code rules}, as calicoc renders them, named after {@code location}. */
    public static HostFiles of(String location, HostRules rules) {
        return new HostFiles(
                location, rules.ipsetRules(), rules.iptablesRules(), rules.ip6tablesRules());
    }

    public String ipsetName() {
        return location + "/" + HostRules.IPSET_FILE;
    }

    public String iptablesName() {
        return location + "/" + HostRules.IPTABLES_FILE;
    }

    public String ip6tablesName() {
        return location + "/" + HostRules.IP6TABLES_FILE;
    }

    private static String readFile(Path file) throws ApplyException {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ApplyException(file + ": missing (every host needs all three files)", e);
        } catch (IOException e) {
            throw new ApplyException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
