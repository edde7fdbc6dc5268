package dev.calicopolicy.agent.apply;

/**
 * Host rules could not be applied. The message names the file and line at fault where there is one
 * ({@code out/hosts/h1/iptables.rules:12: ...}); the kernel has been put back as it was.
 */
public final class ApplyException extends Exception {
    private static final long serialVersionUID = 1L;

    public ApplyException(String message) {
        super(message);
    }

    public ApplyException(String message, Throwable cause) {
        super(message, cause);
    }
}
