package dev.calicopolicy.agent.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class HostFileLayoutTest {
    private static SortedMap<String, byte[]> files(String... nameAndContent) {
        SortedMap<String, byte[]> files = new TreeMap<>();
        for (int i = 0; i < nameAndContent.length; i += 2) {
            files.put(nameAndContent[i], nameAndContent[i + 1].getBytes(StandardCharsets.UTF_8));
        }
        return files;
    }

    @Test
    void storesEachFileInPartsNamedByItsDigestAndAnIndex() {
        SortedMap<String, byte[]> entries =
                HostFileLayout.entries("compute-01", files("iptables.rules", "*filter\nCOMMIT\n"));

        String sha = Digests.sha256Hex("*filter\nCOMMIT\n".getBytes(StandardCharsets.UTF_8));
        assertThat(entries.keySet())
                .containsExactly(
                        "/calico-policy/hosts/compute-01/digest",
                        "/calico-policy/hosts/compute-01/files/iptables.rules/" + sha + "/0000");
        assertThat(new String(entries.get("/calico-policy/hosts/compute-01/digest")))
                .startsWith("{\"format\":1,\"host\":\"compute-01\",\"digest\":\"sha256:")
                .contains(
                        "\"files\":[{\"name\":\"iptables.rules\",\"sha256\":\""
                                + sha
                                + "\",\"bytes\":15,\"parts\":1}]");
    }

    @Test
    void aLargeFileIsSplitAtLineEndsIntoPartsThatJoinBackWhole() throws IOException {
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() < 3 * HostFileLayout.PART_BYTES; i++) {
            text.append("add cali-set 10.0.").append(i % 256).append('.').append(i / 256);
            text.append('\n');
        }
        byte[] content = text.toString().getBytes(StandardCharsets.UTF_8);

        List<byte[]> parts = HostFileLayout.split(content);

        assertThat(parts).hasSize(4);
        assertThat(parts).allMatch(p -> p.length <= HostFileLayout.PART_BYTES);
        assertThat(parts.subList(0, 3)).allMatch(p -> p[p.length - 1] == '\n');
        Map<String, byte[]> stored =
                new TreeMap<>(HostFileLayout.entries("h", files("ipset.rules", text.toString())));
        assertThat(HostFileLayout.assemble("h", stored).orElseThrow().files().get("ipset.rules"))
                .isEqualTo(content);
    }

    @Test
    void aLineLongerThanAPartIsCutWhereThePartEnds() {
        byte[] content = new byte[HostFileLayout.PART_BYTES + 10];
        java.util.Arrays.fill(content, (byte) 'x');

        assertThat(HostFileLayout.split(content))
                .extracting(p -> p.length)
                .containsExactly(HostFileLayout.PART_BYTES, 10);
    }

    @Test
    void theHostsDigestChangesExactlyWhenAFileChanges() {
        String one = HostFileLayout.digest(files("a.rules", "x\n", "b.rules", "y\n"));

        assertThat(HostFileLayout.digest(files("a.rules", "x\n", "b.rules", "y\n"))).isEqualTo(one);
        assertThat(HostFileLayout.digest(files("a.rules", "x\n", "b.rules", "z\n")))
                .isNotEqualTo(one);
        assertThat(HostFileLayout.digest(files("a.rules", "x\n"))).isNotEqualTo(one);
    }

    @Test
    void assemblingWithoutAnIndexFindsNothingPublished() throws IOException {
        assertThat(HostFileLayout.assemble("h", Map.of())).isEmpty();
    }

    @Test
    void assemblingWithAMissingPartOrAChangedPartFailsNamingTheFile() {
        Map<String, byte[]> stored =
                new TreeMap<>(HostFileLayout.entries("h", files("iptables.rules", "*filter\n")));
        String part =
                stored.keySet().stream().filter(k -> k.endsWith("/0000")).findFirst().orElseThrow();

        Map<String, byte[]> changed = new TreeMap<>(stored);
        changed.put(part, "*nat\n".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> HostFileLayout.assemble("h", changed))
                .hasMessage(
                        "host h: iptables.rules does not match its index (expected 8 bytes with"
                                + " SHA-256 "
                                + Digests.sha256Hex("*filter\n".getBytes(StandardCharsets.UTF_8))
                                + ")");

        stored.remove(part);
        assertThatThrownBy(() -> HostFileLayout.assemble("h", stored))
                .hasMessage("host h: part " + part + " of iptables.rules is missing");
    }

    @Test
    void refusesNamesThatCannotBeAKeySegment() {
        assertThatThrownBy(() -> HostFileLayout.prefix("a/b"))
                .hasMessageContaining("host name 'a/b' is not valid");
        assertThatThrownBy(() -> HostFileLayout.prefix(".."))
                .hasMessageContaining("host name '..' is not valid");
    }
}
