package dev.calicopolicy.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Makes TCP ports of this machine's loopback (such as those of an {@link EtcdServer}) reachable at
 * the same address, {@code 127.0.0.1:PORT}, from inside one network namespace, without touching the
 * machine's own network settings: a program in the namespace ({@link Inside}) listens on the ports
 * there and carries each connection over a Unix socket (which, unlike TCP, reaches across network
 * namespaces) to this side, which connects to the real port.
 *
 * <p>A test can {@link #cut()} the bridge, which closes every connection through it and refuses new
 * ones as a lost network would, and {@link #mend()} it again. It can also tell which port first
 * answered after a {@link #mark()}, which names the etcd member that delivered a watch event.
 */
public final class LoopbackBridge implements AutoCloseable {
    private final Path dir;
    private final List<ServerSocketChannel> listeners = new ArrayList<>();
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger firstAnswer = new AtomicInteger();
    private volatile boolean cut;
    private volatile boolean marked;
    private volatile boolean closed;

    private LoopbackBridge(Path dir) {
        this.dir = dir;
    }

    /**
     * Opens a bridge for {@code ports} into namespace {@code ns}; the program inside runs as one of
     * {@code netns}'s processes and stops with them.
     */
    public static LoopbackBridge open(NetworkNamespaces netns, String ns, List<Integer> ports) {
        LoopbackBridge bridge;
        try {
            bridge = new LoopbackBridge(Files.createTempDirectory("calico-bridge-"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the bridge's socket folder", e);
        }
        try {
            List<String> args = new ArrayList<>();
            for (int port : ports) {
                Path socket = bridge.dir.resolve(port + ".sock");
                bridge.listen(socket, port);
                args.add(port + "=" + socket);
            }
            Process inside =
                    netns.startJava(ns, Inside.class.getName(), args.toArray(String[]::new));
            BufferedReader out =
                    new BufferedReader(
                            new InputStreamReader(inside.getInputStream(), StandardCharsets.UTF_8));
            String ready = out.readLine();
            if (!"ready".equals(ready)) {
                throw new AssertionError(
                        "the loopback bridge did not start in namespace " + ns + ": " + ready);
            }
            return bridge;
        } catch (IOException e) {
            bridge.close();
            throw new UncheckedIOException("cannot open a loopback bridge into " + ns, e);
        } catch (RuntimeException | Error e) {
            bridge.close();
            throw e;
        }
    }

    /** Opens a bridge for the client ports of every member of {@code etcd}. */
    public static LoopbackBridge forEtcd(NetworkNamespaces netns, String ns, EtcdServer etcd) {
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < etcd.size(); i++) {
            ports.add(URI.create(etcd.clientUrl(i)).getPort());
        }
        return open(netns, ns, ports);
    }

    /** Closes every connection through the bridge and refuses new ones, until {@link #mend()}. */
    public void cut() {
        cut = true;
        for (SocketChannel c : open) {
            closeQuietly(c);
        }
    }

    /** Lets connections through again. */
    public void mend() {
        cut = false;
    }

    /** Starts watching for the first port to send anything back after now. */
    public void mark() {
        firstAnswer.set(0);
        marked = true;
    }

    /** The port that sent something back first since {@link #mark()}, if any did. */
    public OptionalInt firstAnswerAfterMark() {
        int port = firstAnswer.get();
        return port == 0 ? OptionalInt.empty() : OptionalInt.of(port);
    }

    private void listen(Path socket, int port) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        listeners.add(server);
        Thread accepting =
                new Thread(
                        () -> {
                            while (!closed) {
                                SocketChannel unix;
                                try {
                                    unix = server.accept();
                                } catch (IOException e) {
                                    return;
                                }
                                connect(unix, port);
                            }
                        },
                        "bridge to port " + port);
        accepting.setDaemon(true);
        accepting.start();
    }

    private void connect(SocketChannel unix, int port) {
        if (cut || closed) {
            closeQuietly(unix);
            return;
        }
        SocketChannel tcp;
        try {
            tcp = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
        } catch (IOException e) {
            closeQuietly(unix);
            return;
        }
        open.add(unix);
        open.add(tcp);
        Pair pair = new Pair(unix, tcp);
        pump(unix, tcp, pair, 0);
        pump(tcp, unix, pair, port);
    }

    /** Copies {@code from} to {@code to}; {@code answersOf} is the port when it carries answers. */
    private void pump(SocketChannel from, SocketChannel to, Pair pair, int answersOf) {
        Thread t =
                new Thread(
                        () -> {
                            ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
                            try {
                                while (from.read(buffer) >= 0) {
                                    if (answersOf != 0 && marked && buffer.position() > 0) {
                                        firstAnswer.compareAndSet(0, answersOf);
                                    }
                                    buffer.flip();
                                    while (buffer.hasRemaining()) {
                                        to.write(buffer);
                                    }
                                    buffer.clear();
                                }
                                to.shutdownOutput();
                                pair.halfDone();
                            } catch (IOException e) {
                                pair.close();
                            }
                        },
                        "bridge pump");
        t.setDaemon(true);
        t.start();
    }

    /** Both directions of one connection; closed when both ended or one failed. */
    private final class Pair {
        private final SocketChannel a;
        private final SocketChannel b;
        private final AtomicInteger done = new AtomicInteger();

        Pair(SocketChannel a, SocketChannel b) {
            this.a = a;
            this.b = b;
        }

        void halfDone() {
            if (done.incrementAndGet() == 2) {
                close();
            }
        }

        void close() {
            closeQuietly(a);
            closeQuietly(b);
            open.remove(a);
            open.remove(b);
        }
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // Closing is all that is left to do with it.
        }
    }

    @Override
    public void close() {
        closed = true;
        for (ServerSocketChannel s : listeners) {
            try {
                s.close();
            } catch (IOException e) {
                // Nothing more to do with it.
            }
        }
        for (SocketChannel c : open) {
            closeQuietly(c);
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }

    /**
     * The side of the bridge inside the namespace. Arguments: {@code PORT=SOCKET...}; listens on
     * {@code 127.0.0.1:PORT} for each, prints {@code ready}, and carries each connection to {@code
     * SOCKET}.
     */
    public static final class Inside {
        private Inside() {}

        public static void main(String[] args) throws IOException {
            for (String arg : args) {
                int eq = arg.indexOf('=');
                int port = Integer.parseInt(arg.substring(0, eq));
                Path socket = Path.of(arg.substring(eq + 1));
                ServerSocketChannel server = ServerSocketChannel.open();
                server.bind(new InetSocketAddress("127.0.0.1", port));
                Thread accepting =
                        new Thread(
                                () -> {
                                    while (true) {
                                        SocketChannel tcp;
                                        try {
                                            tcp = server.accept();
                                        } catch (IOException e) {
                                            return;
                                        }
                                        carry(tcp, socket);
                                    }
                                },
                                "accept " + port);
                accepting.start();
            }
            System.out.println("ready");
            System.out.flush();
        }

        private static void carry(SocketChannel tcp, Path socket) {
            SocketChannel unix;
            try {
                unix = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            } catch (IOException e) {
                closeQuietly(tcp);
                return;
            }
            AtomicInteger done = new AtomicInteger();
            for (SocketChannel[] way :
                    new SocketChannel[][] {new SocketChannel[] {tcp, unix}, {unix, tcp}}) {
                Thread t =
                        new Thread(
                                () -> {
                                    ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
                                    try {
                                        while (way[0].read(buffer) >= 0) {
                                            buffer.flip();
                                            while (buffer.hasRemaining()) {
                                                way[1].write(buffer);
                                            }
                                            buffer.clear();
                                        }
                                        way[1].shutdownOutput();
                                        if (done.incrementAndGet() < 2) {
                                            return;
                                        }
                                    } catch (IOException e) {
                                        // One side is gone: end both.
                                    }
                                    closeQuietly(tcp);
                                    closeQuietly(unix);
                                },
                                "carry");
                t.setDaemon(true);
                t.start();
            }
        }
    }
}
