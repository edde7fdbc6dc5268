package dev.calicopolicy.agent.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.options.GetOption;
import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * How to reach etcd: one or more client URLs of the same cluster, TLS files, credentials and
 * timeouts. {@link #connect()} turns them into a jetcd {@link Client}.
 *
 * @param endpoints client URLs, all {@code http://} or all {@code https://}
 * @param caFile PEM file of the certificate authorities to trust for {@code https://} (absent: the
 *     Java runtime's default trust store)
 * @param certFile PEM client certificate, for servers that require one (with {@code keyFile})
 * @param keyFile PEM (PKCS#8) private key of {@code certFile}
 * @param user etcd user name, when etcd has authentication enabled
 * @param password the user's password
 * @param connectTimeout how long to wait for a connection to a member
 * @param requestTimeout the deadline of every single request
 */
public record EtcdSettings(
        List<URI> endpoints,
        Optional<Path> caFile,
        Optional<Path> certFile,
        Optional<Path> keyFile,
        Optional<String> user,
        Optional<String> password,
        Duration connectTimeout,
        Duration requestTimeout) {

    /** The endpoint used when none is given. */
    public static final String DEFAULT_ENDPOINT = "http://127.0.0.1:2379";

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);

    /** The largest response the client accepts (a range read of many keys, a large host file). */
    private static final int MAX_INBOUND_BYTES = 256 * 1024 * 1024;

    public EtcdSettings {
        endpoints = List.copyOf(endpoints);
        Objects.requireNonNull(caFile, "caFile should not be null");
        Objects.requireNonNull(certFile, "certFile should not be null");
        Objects.requireNonNull(keyFile, "keyFile should not be null");
        Objects.requireNonNull(user, "user should not be null");
        Objects.requireNonNull(password, "password should not be null");
        Objects.requireNonNull(connectTimeout, "connectTimeout should not be null");
        Objects.requireNonNull(requestTimeout, "requestTimeout should not be null");
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("at least one etcd endpoint is needed");
        }
        long secure = endpoints.stream().filter(u -> "https".equals(u.getScheme())).count();
        if (secure != 0 && secure != endpoints.size()) {
            throw new IllegalArgumentException(
                    "etcd endpoints mix http:// and https:// (" + endpoints + "); use one scheme");
        }
        if (secure == 0 && (caFile.isPresent() || certFile.isPresent())) {
            throw new IllegalArgumentException(
                    "TLS files are given but the etcd endpoints are http://; use https:// URLs");
        }
        if (certFile.isPresent() != keyFile.isPresent()) {
            throw new IllegalArgumentException(
                    "a client certificate needs its key and a key needs its certificate"
                            + " (give both --cert and --key)");
        }
        if (password.isPresent() && user.isEmpty()) {
            throw new IllegalArgumentException("a password is given without a user name");
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("the connect timeout must be positive");
        }
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("the request timeout must be positive");
        }
    }

    /** Settings for these endpoints, without TLS or credentials, with the default timeouts. */
    public static EtcdSettings of(String commaSeparatedUrls) {
        return new EtcdSettings(
                parseEndpoints(commaSeparatedUrls),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                DEFAULT_CONNECT_TIMEOUT,
                DEFAULT_REQUEST_TIMEOUT);
    }

    /**
     * Parses a comma-separated list of client URLs such as {@code
     * http://10.0.0.1:2379,http://10.0.0.2:2379}; a URL without a scheme is taken as {@code
     * http://}.
     */
    public static List<URI> parseEndpoints(String commaSeparatedUrls) {
        Objects.requireNonNull(commaSeparatedUrls, "commaSeparatedUrls should not be null");
        List<URI> uris = new ArrayList<>();
        for (String part : commaSeparatedUrls.split(",")) {
            String text = part.trim();
            if (text.isEmpty()) {
                continue;
            }
            if (!text.contains("://")) {
                text = "http://" + text;
            }
            URI uri;
            try {
                uri = new URI(text);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException(
                        "'" + part.trim() + "' is not an etcd URL: " + e.getReason(), e);
            }
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
                throw new IllegalArgumentException(
                        "'" + part.trim() + "' is not an etcd URL (expected http:// or https://)");
            }
            if (uri.getHost() == null || uri.getPort() < 0) {
                throw new IllegalArgumentException(
                        "'"
                                + part.trim()
                                + "' is not an etcd URL (expected scheme://host:port, such as "
                                + DEFAULT_ENDPOINT
                                + ")");
            }
            uris.add(uri);
        }
        if (uris.isEmpty()) {
            throw new IllegalArgumentException("no etcd endpoint in '" + commaSeparatedUrls + "'");
        }
        return List.copyOf(uris);
    }

    /** The endpoints as {@code --etcd} takes them. */
    public String endpointList() {
        return String.join(",", endpoints.stream().map(URI::toString).toList());
    }

    public boolean usesTls() {
        return "https".equals(endpoints.get(0).getScheme());
    }

    /**
     * Opens a client. Nothing is sent until the first request, so an unreachable cluster shows up
     * as a failure of that request.
     *
     * @throws IOException if a TLS or password file cannot be read
     */
    public Client connect() throws IOException {
        ClientBuilder builder =
                Client.builder()
                        .endpoints(endpoints.toArray(URI[]::new))
                        .connectTimeout(connectTimeout)
                        .maxInboundMessageSize(MAX_INBOUND_BYTES)
                        .interceptor(new RequestDeadline(requestTimeout));
        if (usesTls()) {
            builder.sslContext(sslContext());
        }
        if (user.isPresent()) {
            builder.user(ByteSequence.from(user.get(), StandardCharsets.UTF_8));
            builder.password(ByteSequence.from(password.orElse(""), StandardCharsets.UTF_8));
        }
        return builder.build();
    }

    /**
     * Opens a client and makes sure a member answers a read of {@code probeKey} within the connect
     * timeout, so that a wrong URL, certificate, password or permission shows up at once with a
     * clear message. The read is serializable (any member answers, without a leader).
     *
     * @throws IOException if no member answers in time, or etcd refuses the read
     */
    public Client connectAndProbe(String probeKey) throws IOException {
        Client client = connect();
        long deadline = System.nanoTime() + connectTimeout.toNanos();
        GetOption local = GetOption.builder().withSerializable(true).withCountOnly(true).build();
        Throwable last = null;
        while (System.nanoTime() < deadline) {
            long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
            try {
                client.getKVClient()
                        .get(ByteSequence.from(probeKey, StandardCharsets.UTF_8), local)
                        .get(left, TimeUnit.MILLISECONDS);
                return client;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                client.close();
                throw new IOException("interrupted while connecting to etcd", e);
            } catch (ExecutionException | TimeoutException e) {
                last = e;
                if (EtcdFailure.of(e) == EtcdFailure.REFUSED) {
                    client.close();
                    throw new IOException(
                            "etcd at "
                                    + endpointList()
                                    + " refused to read "
                                    + probeKey
                                    + ": "
                                    + EtcdFailure.describe(e),
                            e);
                }
                sleep(Math.min(200, left));
            }
        }
        client.close();
        throw new IOException(
                "cannot reach etcd at "
                        + endpointList()
                        + " within "
                        + connectTimeout.toMillis()
                        + " ms"
                        + (last == null ? "" : " (" + EtcdFailure.describe(last) + ")"),
                last);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private io.netty.handler.ssl.SslContext sslContext() throws IOException {
        SslContextBuilder ssl = GrpcSslContexts.forClient();
        if (caFile.isPresent()) {
            ssl.trustManager(readable(caFile.get(), "CA certificate").toFile());
        }
        if (certFile.isPresent()) {
            ssl.keyManager(
                    readable(certFile.get(), "client certificate").toFile(),
                    readable(keyFile.orElseThrow(), "client key").toFile());
        }
        try {
            return ssl.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IOException("cannot set up TLS for etcd: " + e.getMessage(), e);
        }
    }

    private static Path readable(Path file, String what) throws IOException {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IOException(file + ": cannot read the " + what);
        }
        return file;
    }

    @Override
    public String toString() {
        return "EtcdSettings[endpoints="
                + endpointList()
                + ", tls="
                + usesTls()
                + ", user="
                + user.orElse("-")
                + "]";
    }
}
