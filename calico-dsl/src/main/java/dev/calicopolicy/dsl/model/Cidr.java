package dev.calicopolicy.dsl.model;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A canonical CIDR: the network address in canonical text (lower case, IPv6 compressed) and the
 * prefix length. Host bits are always zero. CIDRs sort by family, then numerically by address, then
 * by prefix length.
 */
public final class Cidr implements Comparable<Cidr> {
    private static final Pattern IPV4_LITERAL = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    private static final Pattern IPV6_LITERAL = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    private final String address;
    private final int prefixLength;
    private final IpVersion version;
    private final long high;
    private final long low;

    /**
     * The CIDR of these address bytes (4 or 16) and prefix length; host bits must be zero. The text
     * is the canonical form: dotted quad, or IPv6 in lower case with the first longest run of zero
     * groups (even a single one) written {@code ::}, as the IPAddress library prints it.
     */
    public static Cidr of(byte[] bytes, int prefixLength) {
        IpVersion version = bytes.length == 4 ? IpVersion.V4 : IpVersion.V6;
        if (bytes.length != 4 && bytes.length != 16) {
            throw new IllegalArgumentException("an address has 4 or 16 bytes, not " + bytes.length);
        }
        return new Cidr(canonicalText(bytes), prefixLength, version, bytes);
    }

    /** The canonical text of an address of 4 or 16 bytes. */
    public static String canonicalText(byte[] bytes) {
        if (bytes.length == 4) {
            return (bytes[0] & 0xff)
                    + "."
                    + (bytes[1] & 0xff)
                    + "."
                    + (bytes[2] & 0xff)
                    + "."
                    + (bytes[3] & 0xff);
        }
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((bytes[2 * i] & 0xff) << 8) | (bytes[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 0;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j;
        }
        StringBuilder out = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString();
    }

    public Cidr(String address, int prefixLength, IpVersion version) {
        this(address, prefixLength, version, null);
    }

    private Cidr(String address, int prefixLength, IpVersion version, byte[] knownBytes) {
        this.address = Objects.requireNonNull(address, "address should not be null");
        this.version = Objects.requireNonNull(version, "version should not be null");
        if (prefixLength < 0 || prefixLength > version.bits()) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " out of range");
        }
        this.prefixLength = prefixLength;
        byte[] bytes = knownBytes != null ? knownBytes : bytesOf(address, version);
        long h = 0;
        long l = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes.length == 16 && i < 8) {
                h = (h << 8) | (bytes[i] & 0xff);
            } else {
                l = (l << 8) | (bytes[i] & 0xff);
            }
        }
        this.high = h;
        this.low = l;
    }

    private static byte[] bytesOf(String address, IpVersion version) {
        boolean literal =
                version == IpVersion.V4
                        ? IPV4_LITERAL.matcher(address).matches()
                        : IPV6_LITERAL.matcher(address).matches();
        if (!literal) {
            throw new IllegalArgumentException(address + " is not an " + version + " address");
        }
        if (version == IpVersion.V4) {
            String[] parts = address.split("\\.");
            byte[] bytes = new byte[4];
            for (int i = 0; i < 4; i++) {
                int octet = Integer.parseInt(parts[i]);
                if (octet > 255) {
                    throw new IllegalArgumentException("not an IPv4 address: " + address);
                }
                bytes[i] = (byte) octet;
            }
            return bytes;
        }
        try {
            // Only literal addresses reach here, so no name is ever looked up.
            byte[] bytes = InetAddress.getByName(address).getAddress();
            if (bytes.length != version.bits() / 8) {
                throw new IllegalArgumentException(address + " is not an " + version + " address");
            }
            return bytes;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + address, e);
        }
    }

    public String address() {
        return address;
    }

    public int prefixLength() {
        return prefixLength;
    }

    public IpVersion version() {
        return version;
    }

    /** True for a /32 (IPv4) or /128 (IPv6): a single address. */
    public boolean isSingleAddress() {
        return prefixLength == version.bits();
    }

    @Override
    public int compareTo(Cidr other) {
        int c = version.compareTo(other.version);
        if (c == 0) {
            c = Long.compareUnsigned(high, other.high);
        }
        if (c == 0) {
            c = Long.compareUnsigned(low, other.low);
        }
        return c != 0 ? c : Integer.compare(prefixLength, other.prefixLength);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr other
                && prefixLength == other.prefixLength
                && high == other.high
                && low == other.low
                && version == other.version;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(high * 31 + low) * 31 + prefixLength;
    }

    @Override
    public String toString() {
        return address + "/" + prefixLength;
    }
}
