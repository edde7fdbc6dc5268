package dev.calicopolicy.dsl.model;

/** What a rule does with traffic it matches. */
public enum Action {
    ALLOW,
    DENY;

    /** The data model's spelling: {@code allow} or {@code deny}. */
    public String dataModelName() {
        return this == ALLOW ? "allow" : "deny";
    }
}
