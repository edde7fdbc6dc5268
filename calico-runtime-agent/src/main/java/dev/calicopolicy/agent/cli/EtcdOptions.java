package dev.calicopolicy.agent.cli;

import dev.calicopolicy.agent.etcd.EtcdSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * How to reach etcd, as command-line options shared by the commands that talk to it ({@code
 * publish}, {@code run}): add it to a command with {@code @Mixin EtcdOptions etcd;} and call {@link
 * #settings(CommandSpec)}.
 */
public final class EtcdOptions {
    @Option(
            names = "--etcd",
            paramLabel = "URLS",
            defaultValue = EtcdSettings.DEFAULT_ENDPOINT,
            description =
                    "etcd client URLs, comma-separated (default: ${DEFAULT-VALUE}); use https://"
                            + " for TLS.")
    String endpoints;

    @Option(
            names = "--cacert",
            paramLabel = "FILE",
            description = "PEM certificate authorities to trust for https:// endpoints.")
    Path caFile;

    @Option(
            names = "--cert",
            paramLabel = "FILE",
            description = "PEM client certificate, for servers that require one.")
    Path certFile;

    @Option(
            names = "--key",
            paramLabel = "FILE",
            description = "PEM (PKCS#8) private key of the client certificate.")
    Path keyFile;

    @Option(
            names = "--user",
            paramLabel = "NAME[:PASSWORD]",
            description = "etcd user, when etcd has authentication enabled.")
    String user;

    @Option(
            names = "--password",
            paramLabel = "PASSWORD",
            description = "The user's password (prefer --password-file: others can see arguments).")
    String password;

    @Option(
            names = "--password-file",
            paramLabel = "FILE",
            description = "A file whose first line is the user's password.")
    Path passwordFile;

    @Option(
            names = {"--connect-timeout", "--dial-timeout"},
            paramLabel = "DURATION",
            defaultValue = "5s",
            converter = DurationConverter.class,
            description = "How long to wait for a connection (default: ${DEFAULT-VALUE}).")
    Duration connectTimeout;

    @Option(
            names = {"--request-timeout", "--command-timeout"},
            paramLabel = "DURATION",
            defaultValue = "10s",
            converter = DurationConverter.class,
            description = "Deadline of each request to etcd (default: ${DEFAULT-VALUE}).")
    Duration requestTimeout;

    /**
     * The settings these options give.
     *
     * @throws CommandLine.ParameterException if they do not make sense together (a usage error)
     */
    public EtcdSettings settings(CommandSpec spec) {
        try {
            String name = user;
            String secret = password;
            if (name != null && name.contains(":") && secret == null) {
                secret = name.substring(name.indexOf(':') + 1);
                name = name.substring(0, name.indexOf(':'));
            }
            if (passwordFile != null) {
                if (secret != null) {
                    throw new IllegalArgumentException(
                            "give the password once: --password, --password-file or --user"
                                    + " NAME:PASSWORD");
                }
                secret = readPassword(passwordFile);
            }
            return new EtcdSettings(
                    EtcdSettings.parseEndpoints(endpoints),
                    Optional.ofNullable(caFile),
                    Optional.ofNullable(certFile),
                    Optional.ofNullable(keyFile),
                    Optional.ofNullable(name),
                    Optional.ofNullable(secret),
                    connectTimeout,
                    requestTimeout);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    private static String readPassword(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            int end = text.indexOf('\n');
            return (end < 0 ? text : text.substring(0, end)).replace("\r", "");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read the password file", e);
        }
    }
}
