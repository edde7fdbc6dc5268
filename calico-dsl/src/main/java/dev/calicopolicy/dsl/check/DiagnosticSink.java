package dev.calicopolicy.dsl.check;

import dev.calicopolicy.dsl.Diagnostic;
import dev.calicopolicy.dsl.model.SourceLocation;
import java.util.ArrayList;
import java.util.List;

/** Where the checker's parts put the problems they find; it counts errors as they come. */
final class DiagnosticSink {
    private final List<Diagnostic> all = new ArrayList<>();
    private int errors;

    void add(Diagnostic diagnostic) {
        all.add(diagnostic);
        if (diagnostic.isError()) {
            errors++;
        }
    }

    void error(SourceLocation at, String message) {
        add(Diagnostic.error(at, message));
    }

    void warning(SourceLocation at, String message) {
        add(Diagnostic.warning(at, message));
    }

    int errorCount() {
        return errors;
    }

    List<Diagnostic> all() {
        return all;
    }
}
