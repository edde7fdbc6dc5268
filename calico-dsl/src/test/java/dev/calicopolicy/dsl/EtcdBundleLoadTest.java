package dev.calicopolicy.dsl;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.calicopolicy.dsl.emit.etcd.EtcdBundle;
import dev.calicopolicy.testkit.EtcdServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loads a compiled bundle into a real etcd with {@code etcdctl} and reads back exactly its keys and
 * values: what Calico's agents would find there.
 */
class EtcdBundleLoadTest {
    @TempDir Path out;

    @Test
    void aLoadedBundleReadsBackKeyForKeyAndByteForByte() throws Exception {
        Path src = SamplePoliciesTest.SAMPLES.resolve("three-tier/src").toAbsolutePath();
        Compilation c = new PolicyCompiler(src).compile(List.of(src));
        OutputWriter.write(c, CompileOptions.DEFAULTS, out);
        EtcdBundle bundle = EtcdBundle.read(out.resolve(OutputWriter.BUNDLE));

        try (EtcdServer etcd = EtcdServer.start()) {
            etcd.etcdctl("put", "/calico/v1/config/InterfacePrefix", "tap");
            for (EtcdBundle.Entry e : bundle.entries()) {
                etcd.etcdctl("put", e.key(), e.value());
            }

            JsonNode got =
                    new ObjectMapper()
                            .readTree(etcd.etcdctl("get", "--prefix", "/calico/v1/", "-w", "json"));
            Map<String, String> stored = new LinkedHashMap<>();
            for (JsonNode kv : got.path("kvs")) {
                stored.put(decode(kv.path("key").asText()), decode(kv.path("value").asText()));
            }

            Map<String, String> expected = new LinkedHashMap<>();
            expected.put("/calico/v1/config/InterfacePrefix", "tap");
            bundle.entries().forEach(e -> expected.put(e.key(), e.value()));
            assertThat(stored).containsExactlyInAnyOrderEntriesOf(expected);
            assertThat(stored)
                    .containsEntry(
                            "/calico/v1/host/compute-02/workload/openstack/db-1/endpoint/eth0",
                            "{\"state\":\"inactive\",\"name\":\"tap40\",\"mac\":\"02:00:00:00:01:40\","
                                    + "\"profile_ids\":[\"db\"],\"ipv4_nets\":[\"198.51.100.40/32\"]}");
        }
    }

    private static String decode(String base64) {
        return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
    }
}
