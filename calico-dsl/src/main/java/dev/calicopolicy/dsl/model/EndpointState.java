package dev.calicopolicy.dsl.model;

/** An active endpoint sends and receives as its profiles allow; an inactive one does neither. */
public enum EndpointState {
    ACTIVE,
    INACTIVE;

    public String word() {
        return this == ACTIVE ? "active" : "inactive";
    }
}
