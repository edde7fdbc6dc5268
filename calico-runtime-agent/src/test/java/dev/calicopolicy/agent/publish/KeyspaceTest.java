package dev.calicopolicy.agent.publish;

import static org.assertj.core.api.Assertions.assertThat;

import dev.calicopolicy.agent.run.HostStatus;
import org.junit.jupiter.api.Test;

/** Which keys a publish may own, and so write and delete. */
class KeyspaceTest {
    @Test
    void policyAndHostFilesArePublishableButHostStatusesAndRecordsAreNot() {
        assertThat(Keyspace.isPublishable("/calico/v1/policy/profile/web/rules")).isTrue();
        assertThat(Keyspace.isPublishable(HostFileLayout.indexKey("compute-01"))).isTrue();

        assertThat(Keyspace.isPublishable(HostStatus.key("compute-01"))).isFalse();
        assertThat(Keyspace.isPublishable(Keyspace.PUBLISHED)).isFalse();
        assertThat(Keyspace.isPublishable(Keyspace.LOCK)).isFalse();
    }
}
