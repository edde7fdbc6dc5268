package dev.calicopolicy.agent.publish;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The SHA-256 digests the records use. */
final class Digests {
    private static final HexFormat HEX = HexFormat.of();
    private static final ThreadLocal<MessageDigest> SHA256 =
            ThreadLocal.withInitial(Digests::sha256);

    private Digests() {}

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** The hex SHA-256 of {@code bytes}. */
    static String sha256Hex(byte[] bytes) {
        return HEX.formatHex(sha256().digest(bytes));
    }

    /**
     * The digest an ownership record keeps of a value: the first 128 bits of its SHA-256, in hex.
     * It only has to tell a changed value from the one published, and half the length keeps the
     * record small.
     */
    static String valueDigest(byte[] value) {
        return HEX.formatHex(SHA256.get().digest(value), 0, 16);
    }

    static String hex(byte[] bytes) {
        return HEX.formatHex(bytes);
    }
}
