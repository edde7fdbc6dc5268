package dev.calicopolicy.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A throw-away certificate authority with a server certificate for 127.0.0.1 and localhost and a
 * client certificate, made with the real {@code openssl}; keys are PEM PKCS#8.
 */
public record TlsFiles(Path ca, Path serverCert, Path serverKey, Path clientCert, Path clientKey) {

    /** Makes the files in {@code dir}. */
    public static TlsFiles generate(Path dir) {
        Requirements.program("openssl", "openssl");
        try {
            Files.createDirectories(dir);
            Path caKey = dir.resolve("ca.key");
            Path ca = dir.resolve("ca.pem");
            openssl(
                    dir,
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-out",
                    caKey.toString());
            openssl(
                    dir,
                    "req",
                    "-x509",
                    "-new",
                    "-key",
                    caKey.toString(),
                    "-days",
                    "2",
                    "-subj",
                    "/CN=calico-policy test CA",
                    "-out",
                    ca.toString());
            TlsFiles files =
                    new TlsFiles(
                            ca,
                            dir.resolve("server.pem"),
                            dir.resolve("server.key"),
                            dir.resolve("client.pem"),
                            dir.resolve("client.key"));
            issue(
                    dir,
                    ca,
                    caKey,
                    "server",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                            + "extendedKeyUsage=serverAuth,clientAuth\n");
            issue(dir, ca, caKey, "client", "extendedKeyUsage=clientAuth\n");
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make test certificates in " + dir, e);
        }
    }

    private static void issue(Path dir, Path ca, Path caKey, String name, String extensions)
            throws IOException {
        Path key = dir.resolve(name + ".key");
        Path csr = dir.resolve(name + ".csr");
        Path ext = dir.resolve(name + ".ext");
        Files.writeString(ext, extensions, StandardCharsets.UTF_8);
        openssl(
                dir,
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                key.toString());
        openssl(
                dir,
                "req",
                "-new",
                "-key",
                key.toString(),
                "-subj",
                "/CN=" + name,
                "-out",
                csr.toString());
        openssl(
                dir,
                "x509",
                "-req",
                "-in",
                csr.toString(),
                "-CA",
                ca.toString(),
                "-CAkey",
                caKey.toString(),
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                ext.toString(),
                "-out",
                dir.resolve(name + ".pem").toString());
    }

    private static void openssl(Path dir, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        Process p =
                new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                throw new IOException("openssl " + String.join(" ", args) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
