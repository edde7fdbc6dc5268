package dev.calicopolicy.dsl.model;

/** Inbound rules apply to traffic towards an endpoint, outbound rules to traffic it sends. */
public enum Direction {
    INBOUND,
    OUTBOUND;

    public String word() {
        return this == INBOUND ? "inbound" : "outbound";
    }
}
