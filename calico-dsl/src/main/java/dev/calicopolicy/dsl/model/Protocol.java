package dev.calicopolicy.dsl.model;

import java.util.Map;
import java.util.Optional;

/**
 * An IP protocol, by the name Calico's data model uses where it has one ({@code tcp}, {@code udp},
 * {@code icmp}, {@code icmpv6}, {@code sctp}, {@code udplite}), otherwise by number (1-255). A
 * number with a name is canonicalised to the name.
 */
public record Protocol(String name, int number) {
    private static final Map<String, Integer> NAMED =
            Map.of("icmp", 1, "tcp", 6, "udp", 17, "icmpv6", 58, "sctp", 132, "udplite", 136);

    public static final Protocol TCP = new Protocol("tcp", 6);
    public static final Protocol UDP = new Protocol("udp", 17);
    public static final Protocol ICMP = new Protocol("icmp", 1);
    public static final Protocol ICMPV6 = new Protocol("icmpv6", 58);

    /** The protocol with this name or number (as text), if there is one. */
    public static Optional<Protocol> parse(String text) {
        Integer known = NAMED.get(text);
        if (known != null) {
            return Optional.of(new Protocol(text, known));
        }
        if (text.matches("[0-9]{1,3}")) {
            int n = Integer.parseInt(text);
            if (n >= 1 && n <= 255) {
                return Optional.of(ofNumber(n));
            }
        }
        return Optional.empty();
    }

    /** The protocol with this number, named where the data model has a name for it. */
    public static Protocol ofNumber(int number) {
        return NAMED.entrySet().stream()
                .filter(e -> e.getValue() == number)
                .map(e -> new Protocol(e.getKey(), number))
                .findFirst()
                .orElse(new Protocol(null, number));
    }

    /** The names the language accepts, for messages. */
    public static String namesForMessages() {
        return "tcp, udp, icmp, icmpv6, sctp, udplite or a number 1-255";
    }

    public boolean isNamed() {
        return name != null;
    }

    /** True for the protocols that have ports: tcp, udp, sctp and udplite. */
    public boolean hasPorts() {
        return number == 6 || number == 17 || number == 132 || number == 136;
    }

    public boolean isIcmp() {
        return number == 1 || number == 58;
    }

    @Override
    public String toString() {
        return isNamed() ? name : Integer.toString(number);
    }
}
