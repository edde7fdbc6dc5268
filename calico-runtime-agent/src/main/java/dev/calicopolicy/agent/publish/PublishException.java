package dev.calicopolicy.agent.publish;

import java.util.Objects;

/** A publish that could not be done; the message says why and in what state etcd is left. */
public final class PublishException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why a publish failed. */
    public enum Reason {
        /** Another publisher changed the records between this one's read and its write. */
        CONFLICT,
        /** Another publisher holds the lock of a batched publish. */
        LOCKED,
        /** This publisher lost its lock half way: its lease expired or was revoked. */
        LOCK_LOST,
        /** Etcd could not be reached, or the outcome of a write could not be found out. */
        UNAVAILABLE,
        /** Etcd refused a request: permissions, credentials, a value too large. */
        REFUSED,
        /** The tool's records in etcd cannot be read. */
        BAD_RECORD
    }

    private final Reason reason;

    public PublishException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason should not be null");
    }

    public PublishException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason should not be null");
    }

    public Reason reason() {
        return reason;
    }
}
