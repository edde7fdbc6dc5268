package dev.calicopolicy.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A small program that runs inside a network namespace ({@code ip netns exec NS java ...
 * TrafficProbe NAME}) and makes or takes TCP connections on command, one command a line on standard
 * input, one answer a line on standard output:
 *
 * <ul>
 *   <li>{@code listen PORT}: accepts connections on every address of the namespace, answering each
 *       with {@code NAME ADDRESS} (the probe's name and the address the connection came from);
 *       answers {@code ok};
 *   <li>{@code connect ADDRESS PORT SOURCE TIMEOUT_MS}: connects (from address SOURCE, or any when
 *       it is {@code -}) and answers {@code ok LINE} with the listener's line, or {@code fail
 *       REASON}.
 * </ul>
 *
 * Tests drive it through {@link NetworkNamespaces#probe(String)}.
 */
public final class TrafficProbe {
    private TrafficProbe() {}

    public static void main(String[] args) throws IOException {
        String name = args.length > 0 ? args[0] : "probe";
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        BufferedReader in =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        out.println("ready");
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            String[] words = line.trim().split("\\s+");
            try {
                if (words[0].equals("listen")) {
                    listen(name, Integer.parseInt(words[1]));
                    out.println("ok");
                } else if (words[0].equals("connect")) {
                    out.println(connect(words[1], Integer.parseInt(words[2]), words[3], words[4]));
                } else {
                    out.println("fail unknown command " + words[0]);
                }
            } catch (IOException | RuntimeException e) {
                out.println("fail " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
    }

    private static void listen(String name, int port) throws IOException {
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getByName("::"), port));
        Thread accepter =
                new Thread(
                        () -> {
                            while (true) {
                                try (Socket s = server.accept()) {
                                    String peer = text(s.getInetAddress());
                                    s.getOutputStream()
                                            .write(
                                                    (name + " " + peer + "\n")
                                                            .getBytes(StandardCharsets.UTF_8));
                                } catch (IOException e) {
                                    // One failed connection does not stop the listener.
                                }
                            }
                        },
                        "listen " + port);
        accepter.setDaemon(true);
        accepter.start();
    }

    /** The address as people write it: IPv6 with its longest run of zero groups as "::". */
    static String text(InetAddress address) {
        String full = address.getHostAddress();
        if (!full.contains(":")) {
            return full;
        }
        String[] groups = full.replaceFirst("%.*", "").split(":");
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < groups.length; i++) {
            int j = i;
            while (j < groups.length && groups[j].equals("0")) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
        }
        if (bestStart < 0) {
            return String.join(":", groups);
        }
        String head = String.join(":", java.util.Arrays.copyOfRange(groups, 0, bestStart));
        String tail =
                String.join(
                        ":",
                        java.util.Arrays.copyOfRange(
                                groups, bestStart + bestLength, groups.length));
        return head + "::" + tail;
    }

    private static String connect(String address, int port, String source, String timeout)
            throws IOException {
        try (Socket s = new Socket()) {
            if (!source.equals("-")) {
                s.bind(new InetSocketAddress(InetAddress.getByName(source), 0));
            }
            int millis = Integer.parseInt(timeout);
            s.connect(new InetSocketAddress(InetAddress.getByName(address), port), millis);
            s.setSoTimeout(millis);
            BufferedReader reply =
                    new BufferedReader(
                            new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            String line = reply.readLine();
            return line == null ? "fail closed without an answer" : "ok " + line;
        } catch (IOException e) {
            return "fail " + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }
}
