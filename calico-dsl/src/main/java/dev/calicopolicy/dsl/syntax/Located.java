package dev.calicopolicy.dsl.syntax;

import dev.calicopolicy.dsl.model.SourceLocation;
import java.util.Objects;

/** A value of the source model together with where it was written. */
public record Located<T>(T value, SourceLocation location) {
    public Located {
        Objects.requireNonNull(value, "value should not be null");
        Objects.requireNonNull(location, "location should not be null");
    }
}
