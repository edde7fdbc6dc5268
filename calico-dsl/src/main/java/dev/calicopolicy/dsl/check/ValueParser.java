package dev.calicopolicy.dsl.check;

import dev.calicopolicy.dsl.model.Cidr;
import dev.calicopolicy.dsl.model.IpAddress;
import dev.calicopolicy.dsl.model.IpVersion;
import dev.calicopolicy.dsl.model.PortRange;
import dev.calicopolicy.dsl.syntax.Located;
import inet.ipaddr.AddressStringException;
import inet.ipaddr.IPAddress;
import inet.ipaddr.IPAddressString;
import inet.ipaddr.IPAddressStringParameters;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks and canonicalises the values of the language (names, CIDRs, addresses, MACs, ports,
 * numbers), adding a diagnostic for each bad one. Each method returns null for a bad value.
 */
final class ValueParser {
    private static final Pattern LINUX_INTERFACE = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
    private static final Pattern MAC =
            Pattern.compile("[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\\1[0-9A-Fa-f]{2}){4}");
    private static final Pattern PORT_OR_RANGE = Pattern.compile("[0-9]+(:[0-9]+)?");
    private static final Pattern NUMBER = Pattern.compile("[0-9]+");
    private static final Pattern SIMPLE_IPV6 =
            Pattern.compile("([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?:/([0-9]{1,3}))?");
    private static final Pattern SIMPLE_IPV4 =
            Pattern.compile(
                    "([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})(?:/([0-9]{1,2}))?");

    private static final IPAddressStringParameters ADDRESS_SYNTAX =
            new IPAddressStringParameters.Builder()
                    .allowEmpty(false)
                    .allowAll(false)
                    .allowSingleSegment(false)
                    .allowMask(false)
                    .allowWildcardedSeparator(false)
                    .setRangeOptions(IPAddressStringParameters.RangeParameters.NO_RANGE)
                    .getIPv4AddressParametersBuilder()
                    .allow_inet_aton(false)
                    .allowLeadingZeros(false)
                    .getParentBuilder()
                    .getIPv6AddressParametersBuilder()
                    .allowZone(false)
                    .getParentBuilder()
                    .toParams();

    private final DiagnosticSink diagnostics;

    ValueParser(DiagnosticSink diagnostics) {
        this.diagnostics = diagnostics;
    }

    /** A name of the data model: profile, tag, host, orchestrator, workload, endpoint. */
    String identifier(Located<String> name, String what) {
        if (!isIdentifier(name.value())) {
            error(
                    name,
                    "invalid "
                            + what
                            + " '"
                            + name.value()
                            + "': use only letters, digits, '_', '.' and '-'");
            return null;
        }
        return name.value();
    }

    /** True for {@code [A-Za-z0-9_.-]+}, without a regular expression: it runs for every name. */
    static boolean isIdentifier(String text) {
        if (text.isEmpty()) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean ok =
                    (c >= 'a' && c <= 'z')
                            || (c >= 'A' && c <= 'Z')
                            || (c >= '0' && c <= '9')
                            || c == '_'
                            || c == '.'
                            || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    String interfaceName(Located<String> name) {
        String value = name.value();
        if (value.length() > 15) {
            error(
                    name,
                    "interface name '"
                            + value
                            + "' is "
                            + value.length()
                            + " characters long; Linux allows at most 15");
            return null;
        }
        if (!LINUX_INTERFACE.matcher(value).matches() || value.equals(".") || value.equals("..")) {
            error(
                    name,
                    "invalid interface name '"
                            + value
                            + "': use only letters, digits, '_', '.' and '-'");
            return null;
        }
        return value;
    }

    String mac(Located<String> mac) {
        if (!MAC.matcher(mac.value()).matches()) {
            error(
                    mac,
                    "invalid MAC address '"
                            + mac.value()
                            + "': expected six pairs of hex digits such as 02:00:00:00:00:01");
            return null;
        }
        return mac.value().toLowerCase(Locale.ROOT).replace('-', ':');
    }

    /**
     * True when the text reads as an address or CIDR rather than a name: it has a ':' or '/', or
     * only digits and dots.
     */
    static boolean looksLikeAddress(String text) {
        return text.contains(":") || text.contains("/") || text.matches("[0-9.]+");
    }

    static boolean looksLikePort(String text) {
        return PORT_OR_RANGE.matcher(text).matches();
    }

    /**
     * A CIDR; a bare address is a host CIDR (/32 or /128). Host bits that are not zero give a
     * warning with the canonical form, and the network is used.
     */
    Cidr cidr(Located<String> text) {
        Cidr simple = simpleIpv4(text);
        if (simple == null) {
            simple = simpleIpv6(text);
        }
        if (simple != null) {
            return simple;
        }
        IPAddress address = parse(text, "CIDR");
        if (address == null) {
            return null;
        }
        IpVersion version = address.isIPv4() ? IpVersion.V4 : IpVersion.V6;
        Integer prefix = address.getNetworkPrefixLength();
        if (prefix == null) {
            return new Cidr(address.toCompressedString(), version.bits(), version);
        }
        IPAddress network = address.toPrefixBlock();
        String networkText = network.getLower().withoutPrefixLength().toCompressedString();
        Cidr cidr = new Cidr(networkText, prefix, version);
        if (!address.getLower()
                        .withoutPrefixLength()
                        .equals(network.getLower().withoutPrefixLength())
                || !address.isPrefixBlock()) {
            warnHostBits(text, cidr);
        }
        return cidr;
    }

    /**
     * The common case, a plain dotted-quad IPv4 address or CIDR, without the general parser; null
     * for anything else (which the general parser then checks and reports).
     */
    private Cidr simpleIpv4(Located<String> text) {
        Matcher m = SIMPLE_IPV4.matcher(text.value());
        if (!m.matches()) {
            return null;
        }
        long address = 0;
        for (int i = 1; i <= 4; i++) {
            String octet = m.group(i);
            if (octet.length() > 1 && octet.charAt(0) == '0') {
                return null;
            }
            int value = Integer.parseInt(octet);
            if (value > 255) {
                return null;
            }
            address = (address << 8) | value;
        }
        int prefix = m.group(5) == null ? 32 : Integer.parseInt(m.group(5));
        if (prefix > 32
                || (m.group(5) != null && m.group(5).length() > 1 && m.group(5).charAt(0) == '0')) {
            return null;
        }
        long mask = prefix == 0 ? 0 : (0xffffffffL << (32 - prefix)) & 0xffffffffL;
        long network = address & mask;
        Cidr cidr = new Cidr(dotted(network), prefix, IpVersion.V4);
        if (network != address) {
            warnHostBits(text, cidr);
        }
        return cidr;
    }

    /**
     * The common case of IPv6, hex groups and colons with an optional prefix, without the general
     * parser; null for anything else (embedded IPv4, zones, odd forms), which the general parser
     * then checks and reports.
     */
    private Cidr simpleIpv6(Located<String> text) {
        Matcher m = SIMPLE_IPV6.matcher(text.value());
        if (!m.matches()) {
            return null;
        }
        byte[] bytes;
        try {
            InetAddress parsed = InetAddress.getByName(m.group(1));
            if (!(parsed instanceof Inet6Address) || ((Inet6Address) parsed).getScopeId() != 0) {
                return null;
            }
            bytes = parsed.getAddress();
        } catch (UnknownHostException e) {
            return null;
        }
        String prefixText = m.group(2);
        if (prefixText != null && prefixText.length() > 1 && prefixText.charAt(0) == '0') {
            return null;
        }
        int prefix = prefixText == null ? 128 : Integer.parseInt(prefixText);
        if (prefix > 128) {
            return null;
        }
        byte[] network = bytes.clone();
        for (int bit = prefix; bit < 128; bit++) {
            network[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        Cidr cidr = Cidr.of(network, prefix);
        if (!java.util.Arrays.equals(network, bytes)) {
            warnHostBits(text, cidr);
        }
        return cidr;
    }

    private void warnHostBits(Located<String> text, Cidr cidr) {
        diagnostics.warning(
                text.location(),
                "CIDR '" + text.value() + "' has host bits set; it means " + cidr + ", write that");
    }

    private static String dotted(long address) {
        return ((address >> 24) & 0xff)
                + "."
                + ((address >> 16) & 0xff)
                + "."
                + ((address >> 8) & 0xff)
                + "."
                + (address & 0xff);
    }

    /** A single address, without prefix. */
    IpAddress address(Located<String> text, String what) {
        if (text.value().indexOf('/') < 0) {
            Cidr simple = simpleIpv4(text);
            if (simple == null) {
                simple = simpleIpv6(text);
            }
            if (simple != null) {
                return new IpAddress(simple.address(), simple.version());
            }
        }
        IPAddress address = parse(text, what);
        if (address == null) {
            return null;
        }
        Integer prefix = address.getNetworkPrefixLength();
        if (prefix != null && prefix != address.getBitCount()) {
            error(text, what + " '" + text.value() + "' must be a single address, not a network");
            return null;
        }
        return new IpAddress(
                address.withoutPrefixLength().toCompressedString(),
                address.isIPv4() ? IpVersion.V4 : IpVersion.V6);
    }

    private IPAddress parse(Located<String> text, String what) {
        try {
            IPAddress address = new IPAddressString(text.value(), ADDRESS_SYNTAX).toAddress();
            if (address == null) {
                error(text, "invalid " + what + " '" + text.value() + "'");
            }
            return address;
        } catch (AddressStringException e) {
            error(
                    text,
                    "invalid "
                            + what
                            + " '"
                            + text.value()
                            + "': "
                            + lowerFirst(addressProblem(e)));
            return null;
        }
    }

    /** A port {@code N} or inclusive range {@code N:M}, ports 0-65535 and N < M. */
    PortRange portRange(Located<String> text) {
        String[] parts = text.value().split(":", -1);
        Integer first = number(text, parts[0], "port", 0, 65535);
        if (parts.length == 1) {
            return first == null ? null : PortRange.single(first);
        }
        Integer last = number(text, parts[1], "port", 0, 65535);
        if (first == null || last == null) {
            return null;
        }
        if (first >= last) {
            error(
                    text,
                    "port range "
                            + text.value()
                            + " must go from a lower to a higher port (N:M with N < M)");
            return null;
        }
        return new PortRange(first, last);
    }

    /** A whole number in {@code min..max}, named {@code field} in messages. */
    Integer number(Located<String> text, String field, int min, int max) {
        return number(text, text.value(), field, min, max);
    }

    private Integer number(Located<String> at, String digits, String field, int min, int max) {
        if (!NUMBER.matcher(digits).matches()) {
            error(at, "expected a number for " + field + " but found '" + digits + "'");
            return null;
        }
        if (digits.length() > 9
                || Integer.parseInt(digits) < min
                || Integer.parseInt(digits) > max) {
            error(at, field + " " + digits + " out of range " + min + "-" + max);
            return null;
        }
        return Integer.parseInt(digits);
    }

    private void error(Located<?> at, String message) {
        diagnostics.error(at.location(), message);
    }

    /** IPAddress's message without the address it repeats: "segment too long at index 12". */
    private static String addressProblem(AddressStringException e) {
        String message = e.getMessage().replaceAll("\\s+", " ").trim();
        int cut = message.indexOf("IP Address error: ");
        return cut >= 0 ? message.substring(cut + "IP Address error: ".length()) : message;
    }

    private static String lowerFirst(String s) {
        return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }
}
