package dev.calicopolicy.dsl.model;

import java.util.Comparator;
import java.util.Objects;

/**
 * A position in a source file, as users see it: the file's display path, a 1-based line and a
 * 1-based column. {@link #NONE} stands for data that came from somewhere other than source text (a
 * bundle read back from etcd, say).
 */
public record SourceLocation(String file, int line, int column)
        implements Comparable<SourceLocation> {
    public static final SourceLocation NONE = new SourceLocation("", 0, 0);

    private static final Comparator<SourceLocation> ORDER =
            Comparator.comparing(SourceLocation::file)
                    .thenComparingInt(SourceLocation::line)
                    .thenComparingInt(SourceLocation::column);

    public SourceLocation {
        Objects.requireNonNull(file, "file should not be null");
    }

    @Override
    public int compareTo(SourceLocation other) {
        return ORDER.compare(this, other);
    }

    /** {@code file:line:col}; {@code file} alone for a problem with a whole file. */
    @Override
    public String toString() {
        if (line <= 0) {
            return file;
        }
        return column > 0 ? file + ":" + line + ":" + column : file + ":" + line;
    }
}
