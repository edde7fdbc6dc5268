package dev.calicopolicy.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assertions;

/**
 * Checks for what a test needs from the machine (a program on the PATH, root). A missing piece
 * fails the test with a message that says how to get it; it never skips, in CI or elsewhere, since
 * the README's test command installs everything the tests need.
 */
public final class Requirements {
    private Requirements() {}

    /** Returns the path of {@code program} on the PATH, or fails the test. */
    public static Path program(String program, String debianPackage) {
        String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
            Path candidate = Path.of(dir, program);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return Assertions.fail(
                "this test needs '"
                        + program
                        + "' on the PATH: install it with 'apt-get install -y "
                        + debianPackage
                        + "' (the README's test command does)");
    }

    /** Fails the test unless it runs as root (network namespaces and iptables need it). */
    public static void root() {
        String user;
        try {
            Process id = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
            user = new String(id.getInputStream().readAllBytes()).trim();
            id.waitFor();
        } catch (IOException e) {
            throw new AssertionError("cannot run 'id -u' to check for root", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while checking for root", e);
        }
        if (!"0".equals(user)) {
            Assertions.fail(
                    "this test needs root (network namespaces, iptables, ipset); run the README's"
                            + " test command as root, as CI does");
        }
    }
}
