package dev.calicopolicy.dsl;

import dev.calicopolicy.dsl.model.Policy;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The outcome of compiling a set of sources: the checked policy (absent when there are errors),
 * every diagnostic sorted by file and position, and every input file read.
 */
public record Compilation(
        Optional<Policy> policy, List<Diagnostic> diagnostics, List<InputFile> inputs) {

    /** A source file that was read: where it is, how messages name it, and its SHA-256. */
    public record InputFile(Path path, String displayPath, String sha256) {}

    public Compilation {
        diagnostics = List.copyOf(diagnostics);
        inputs = List.copyOf(inputs);
    }

    public boolean hasErrors() {
        return diagnostics.stream().anyMatch(Diagnostic::isError);
    }

    public long errorCount() {
        return diagnostics.stream().filter(Diagnostic::isError).count();
    }

    public long warningCount() {
        return diagnostics.size() - errorCount();
    }
}
