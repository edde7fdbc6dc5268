package dev.calicopolicy.dsl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Policy sources written into a temporary directory and compiled from there, as a user would. */
final class Sources {
    private final Path dir;
    private final Map<String, String> files = new LinkedHashMap<>();

    Sources(Path dir) {
        this.dir = dir;
    }

    Sources file(String name, String text) {
        files.put(name, text);
        try {
            Path path = dir.resolve(name);
            Files.createDirectories(path.getParent());
            Files.writeString(path, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    Compilation compile() {
        return new PolicyCompiler(dir).compile(List.of(dir));
    }

    /** The diagnostics as the command line prints them. */
    List<String> messages() {
        return compile().diagnostics().stream().map(Diagnostic::toString).toList();
    }
}
