package dev.calicopolicy.dsl.model;

import java.util.Objects;

/** The four names that place an endpoint in the data model's key space. */
public record EndpointKey(String host, String orchestrator, String workload, String endpoint)
        implements Comparable<EndpointKey> {
    public EndpointKey {
        Objects.requireNonNull(host, "host should not be null");
        Objects.requireNonNull(orchestrator, "orchestrator should not be null");
        Objects.requireNonNull(workload, "workload should not be null");
        Objects.requireNonNull(endpoint, "endpoint should not be null");
    }

    /** The path below the prefix: {@code host/H/workload/O/W/endpoint/E}. */
    public String path() {
        return "host/"
                + host
                + "/workload/"
                + orchestrator
                + "/"
                + workload
                + "/endpoint/"
                + endpoint;
    }

    @Override
    public int compareTo(EndpointKey other) {
        return path().compareTo(other.path());
    }

    @Override
    public String toString() {
        return host + "/" + orchestrator + "/" + workload + "/" + endpoint;
    }
}
