package dev.calicopolicy.agent.etcd;

import io.etcd.jetcd.common.exception.EtcdException;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * What a failed etcd request tells about the state of etcd. Refusals are checked by the server
 * before anything is written, so a refused request was certainly not applied. Any other failure (a
 * timeout, a lost connection, a leader change) leaves the outcome unknown: the request may have
 * been applied, and the caller must read back before it decides what to do.
 */
public enum EtcdFailure {
    /** The transaction has more operations than the server's {@code --max-txn-ops}. */
    TOO_MANY_OPERATIONS(true),
    /** The request is larger than the server's {@code --max-request-bytes}. */
    TOO_LARGE(true),
    /** The server is overloaded and turned the request away; it may be sent again later. */
    BUSY(true),
    /** The request is not allowed or not valid (permissions, credentials, bad arguments). */
    REFUSED(true),
    /** The request may or may not have been applied. */
    OUTCOME_UNKNOWN(false);

    private final boolean notApplied;

    EtcdFailure(boolean notApplied) {
        this.notApplied = notApplied;
    }

    /** True when the server certainly did not apply the request. */
    public boolean notApplied() {
        return notApplied;
    }

    /** Classifies a failure of a jetcd request (as thrown by a future or a blocking call). */
    public static EtcdFailure of(Throwable failure) {
        Throwable t = unwrap(failure);
        if (t instanceof TimeoutException) {
            return OUTCOME_UNKNOWN;
        }
        Status.Code code = code(t);
        String text = describe(t).toLowerCase(Locale.ROOT);
        if (text.contains("too many operations in txn request")) {
            return TOO_MANY_OPERATIONS;
        }
        if (text.contains("request is too large") || text.contains("larger than max")) {
            return TOO_LARGE;
        }
        if (text.contains("too many requests")) {
            return BUSY;
        }
        if (code == null) {
            return OUTCOME_UNKNOWN;
        }
        return switch (code) {
            case INVALID_ARGUMENT,
                    PERMISSION_DENIED,
                    UNAUTHENTICATED,
                    FAILED_PRECONDITION,
                    OUT_OF_RANGE,
                    UNIMPLEMENTED,
                    NOT_FOUND,
                    ALREADY_EXISTS ->
                    REFUSED;
            case RESOURCE_EXHAUSTED -> BUSY;
            default -> OUTCOME_UNKNOWN;
        };
    }

    /** A one-line description of a failure, for messages: the server's words where there are. */
    public static String describe(Throwable failure) {
        Throwable t = unwrap(failure);
        if (t instanceof TimeoutException) {
            return "no answer in time";
        }
        Status status = status(t);
        if (status != null) {
            String description = status.getDescription();
            return description == null || description.isBlank()
                    ? status.getCode().name().toLowerCase(Locale.ROOT).replace('_', ' ')
                    : description;
        }
        String message = t.getMessage();
        return message == null ? t.getClass().getSimpleName() : message;
    }

    private static Throwable unwrap(Throwable t) {
        Throwable current = t;
        while ((current instanceof CompletionException || current instanceof ExecutionException)
                && current.getCause() != null) {
            current = current.getCause();
        }
        return current;
    }

    private static Status.Code code(Throwable t) {
        if (t instanceof EtcdException e) {
            return Status.Code.valueOf(e.getErrorCode().name());
        }
        Status status = status(t);
        return status == null ? null : status.getCode();
    }

    /** The status of the failure: the first in the chain of causes that has a description. */
    private static Status status(Throwable t) {
        Status first = null;
        for (Throwable c = t; c != null; c = c.getCause()) {
            Status found = null;
            if (c instanceof StatusRuntimeException e) {
                found = e.getStatus();
            } else if (c instanceof StatusException e) {
                found = e.getStatus();
            } else if (c instanceof EtcdException e && c.getCause() == null) {
                found =
                        Status.fromCode(Status.Code.valueOf(e.getErrorCode().name()))
                                .withDescription(e.getMessage());
            }
            if (found == null) {
                continue;
            }
            if (found.getDescription() != null && !found.getDescription().isBlank()) {
                return first == null ? found : first.withDescription(found.getDescription());
            }
            if (first == null) {
                first = found;
            }
        }
        return first;
    }
}
