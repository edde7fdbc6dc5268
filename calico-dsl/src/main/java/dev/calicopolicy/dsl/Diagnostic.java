package dev.calicopolicy.dsl;

import dev.calicopolicy.dsl.model.SourceLocation;
import java.util.Comparator;
import java.util.Objects;

/**
 * One problem found in the input: where, how bad, and a message that says what was found and what
 * was expected. Diagnostics are data; the compiler collects all of them and goes on.
 */
public record Diagnostic(Severity severity, SourceLocation location, String message)
        implements Comparable<Diagnostic> {

    /** Errors stop output; warnings do not (unless the user asks them to). */
    public enum Severity {
        ERROR,
        WARNING;

        public String word() {
            return this == ERROR ? "error" : "warning";
        }
    }

    private static final Comparator<Diagnostic> ORDER =
            Comparator.comparing(Diagnostic::location)
                    .thenComparing(Diagnostic::severity)
                    .thenComparing(Diagnostic::message);

    public Diagnostic {
        Objects.requireNonNull(severity, "severity should not be null");
        Objects.requireNonNull(location, "location should not be null");
        Objects.requireNonNull(message, "message should not be null");
    }

    public static Diagnostic error(SourceLocation location, String message) {
        return new Diagnostic(Severity.ERROR, location, message);
    }

    public static Diagnostic warning(SourceLocation location, String message) {
        return new Diagnostic(Severity.WARNING, location, message);
    }

    public boolean isError() {
        return severity == Severity.ERROR;
    }

    @Override
    public int compareTo(Diagnostic other) {
        return ORDER.compare(this, other);
    }

    /** {@code path:line:col: error: message}, the form compilers and editors understand. */
    @Override
    public String toString() {
        return location + ": " + severity.word() + ": " + message;
    }
}
