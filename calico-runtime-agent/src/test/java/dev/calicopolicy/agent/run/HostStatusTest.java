package dev.calicopolicy.agent.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The status value {@code calico-agent run} writes, as tools read it. */
class HostStatusTest {
    private static final String D1 = "sha256:" + "1".repeat(64);
    private static final String D2 = "sha256:" + "2".repeat(64);
    private static final Instant T1 = Instant.parse("2025-05-01T12:00:00.123Z");
    private static final Instant T2 = Instant.parse("2025-05-01T12:05:00Z");

    @Test
    void aFailedApplyIsWrittenAsDocumentedWithTheFilesStillInTheKernel() throws IOException {
        HostStatus status =
                new HostStatus(
                        "compute-01",
                        HostStatus.State.FAILED,
                        1880,
                        Optional.of(D2),
                        Optional.of(new HostStatus.Applied(D1, 1873, T1)),
                        Optional.of("/calico-policy/hosts/compute-01/files/iptables.rules:12: x"),
                        T2);

        String json = new String(status.toJson(), StandardCharsets.UTF_8);

        assertThat(json)
                .isEqualTo(
                        "{\"format\":1,\"host\":\"compute-01\",\"state\":\"failed\","
                                + "\"revision\":1880,\"digest\":\""
                                + D2
                                + "\",\"applied\":{\"digest\":\""
                                + D1
                                + "\",\"revision\":1873,\"time\":\"2025-05-01T12:00:00.123Z\"},"
                                + "\"error\":\"/calico-policy/hosts/compute-01/files/"
                                + "iptables.rules:12: x\",\"time\":\"2025-05-01T12:05:00Z\"}");
        assertThat(HostStatus.parse(status.toJson())).isEqualTo(status);
    }

    @Test
    void aHostWithoutFilesHasNeitherDigestNorError() throws IOException {
        HostStatus status =
                new HostStatus(
                        "compute-01",
                        HostStatus.State.NO_FILES,
                        7,
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty(),
                        T1);

        assertThat(new String(status.toJson(), StandardCharsets.UTF_8))
                .isEqualTo(
                        "{\"format\":1,\"host\":\"compute-01\",\"state\":\"no-files\","
                                + "\"revision\":7,\"time\":\"2025-05-01T12:00:00.123Z\"}");
        assertThat(HostStatus.parse(status.toJson())).isEqualTo(status);
    }

    @Test
    void statusesThatDifferOnlyInTimeAndRevisionSayTheSame() {
        HostStatus a =
                new HostStatus(
                        "h",
                        HostStatus.State.APPLIED,
                        10,
                        Optional.of(D1),
                        Optional.of(new HostStatus.Applied(D1, 10, T1)),
                        Optional.empty(),
                        T1);
        HostStatus later =
                new HostStatus("h", a.state(), 12, a.digest(), a.applied(), a.error(), T2);
        HostStatus failed =
                new HostStatus(
                        "h",
                        HostStatus.State.FAILED,
                        12,
                        Optional.of(D2),
                        a.applied(),
                        Optional.of("bad"),
                        T2);

        assertThat(a.saysTheSameAs(later)).isTrue();
        assertThat(a.saysTheSameAs(failed)).isFalse();
        assertThat(a.saysTheSameAs(null)).isFalse();
    }

    @Test
    void anUnknownStateIsRefusedByName() {
        byte[] value =
                ("{\"format\":1,\"host\":\"h\",\"state\":\"sleeping\",\"revision\":1,"
                                + "\"time\":\"2025-05-01T12:00:00Z\"}")
                        .getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> HostStatus.parse(value))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("unknown host state 'sleeping'");
    }

    @Test
    void theStatusKeyIsOutsideWhatPublishOwns() {
        assertThat(HostStatus.key("compute-01")).isEqualTo("/calico-policy/status/compute-01");
    }
}
