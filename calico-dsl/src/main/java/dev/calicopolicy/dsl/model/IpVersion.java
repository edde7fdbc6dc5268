package dev.calicopolicy.dsl.model;

/** The two IP families, each with its address width. */
public enum IpVersion {
    V4(32),
    V6(128);

    private final int bits;

    IpVersion(int bits) {
        this.bits = bits;
    }

    public int bits() {
        return bits;
    }

    /** 4 or 6. */
    public int number() {
        return this == V4 ? 4 : 6;
    }

    @Override
    public String toString() {
        return this == V4 ? "IPv4" : "IPv6";
    }
}
