package dev.calicopolicy.agent.run;

import dev.calicopolicy.agent.publish.HostFileLayout;
import java.util.Objects;

/** What etcd holds for one host at one revision. */
sealed interface HostSnapshot {
    /** The revision of the read. */
    long revision();

    /** The host's files, complete and checked against their index. */
    record Published(long revision, HostFileLayout.Fetched files) implements HostSnapshot {
        public Published {
            Objects.requireNonNull(files, "files should not be null");
        }
    }

    /** Nothing is published for the host (it has no index). */
    record Unpublished(long revision) implements HostSnapshot {}

    /** The host has an index, but its files cannot be put together from what etcd holds. */
    record Unreadable(long revision, String problem) implements HostSnapshot {
        public Unreadable {
            Objects.requireNonNull(problem, "problem should not be null");
        }
    }
}
