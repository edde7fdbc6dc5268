package dev.calicopolicy.agent.publish;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.calicopolicy.testkit.EtcdServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.SortedMap;
import java.util.TreeMap;

/** What etcd holds, read back with the real {@code etcdctl}. */
record EtcdContents(long revision, SortedMap<String, String> values, SortedMap<String, Long> mods) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Every key under {@code prefix} (at {@code revision}, or the latest when 0). */
    static EtcdContents read(EtcdServer etcd, String prefix, long revision) {
        String out =
                revision == 0
                        ? etcd.etcdctl("get", "--prefix", prefix, "-w", "json")
                        : etcd.etcdctl(
                                "get", "--prefix", prefix, "-w", "json", "--rev=" + revision);
        return parse(out);
    }

    static EtcdContents read(EtcdServer etcd, String prefix) {
        return read(etcd, prefix, 0);
    }

    /** Every key under {@code prefix} as one member alone sees it (a serializable read). */
    static EtcdContents readLocal(EtcdServer etcd, int member, String prefix) {
        return parse(
                etcd.etcdctl(
                        "--endpoints=" + etcd.clientUrl(member),
                        "get",
                        "--prefix",
                        prefix,
                        "--consistency=s",
                        "-w",
                        "json"));
    }

    /** The current revision of the store. */
    static long revision(EtcdServer etcd) {
        return read(etcd, "/no-such-prefix/").revision();
    }

    private static EtcdContents parse(String json) {
        try {
            JsonNode root = JSON.readTree(json);
            SortedMap<String, String> values = new TreeMap<>();
            SortedMap<String, Long> mods = new TreeMap<>();
            for (JsonNode kv : root.path("kvs")) {
                String key = decode(kv.path("key").asText());
                values.put(key, decode(kv.path("value").asText("")));
                mods.put(key, kv.path("mod_revision").asLong());
            }
            return new EtcdContents(root.path("header").path("revision").asLong(), values, mods);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String decode(String base64) {
        return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
    }

    /** The keys changed after {@code revision}. */
    SortedMap<String, String> changedAfter(long revision) {
        SortedMap<String, String> changed = new TreeMap<>();
        mods.forEach(
                (k, rev) -> {
                    if (rev > revision) {
                        changed.put(k, values.get(k));
                    }
                });
        return changed;
    }
}
