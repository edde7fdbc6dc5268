package dev.calicopolicy.agent.run;

import dev.calicopolicy.agent.publish.HostFileLayout;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.OptionsUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Reads everything under one host's prefix ({@code /calico-policy/hosts/<host>/}) at one revision,
 * page by page, and puts the host's files back together as {@link HostFileLayout} lays them out.
 * Reading at one revision is what makes the files complete: a publish writes a file's new parts
 * before it switches the index and deletes the old parts after.
 */
final class HostFileReader {
    /** Keys per page (a part is at most 256 KiB). */
    private static final int PAGE = 64;

    private final String host;
    private final String prefix;
    private final EtcdCalls calls;

    HostFileReader(String host, EtcdCalls calls) {
        this.host = host;
        this.prefix = HostFileLayout.prefix(host);
        this.calls = calls;
    }

    /**
     * Reads the host's files at the latest revision.
     *
     * @throws IOException if etcd does not answer, or refuses the read
     */
    HostSnapshot read(KV kv) throws IOException {
        ByteSequence end = OptionsUtil.prefixEndOf(bytes(prefix));
        Map<String, byte[]> values = new HashMap<>();
        long revision = 0;
        String from = prefix;
        while (true) {
            GetOption.Builder option =
                    GetOption.builder()
                            .withRange(end)
                            .withLimit(PAGE)
                            .withSortField(GetOption.SortTarget.KEY)
                            .withSortOrder(GetOption.SortOrder.ASCEND);
            if (revision != 0) {
                option.withRevision(revision);
            }
            GetResponse page = calls.await(kv.get(bytes(from), option.build()), "read " + prefix);
            if (revision == 0) {
                revision = page.getHeader().getRevision();
            }
            String last = null;
            for (KeyValue k : page.getKvs()) {
                last = k.getKey().toString(StandardCharsets.UTF_8);
                values.put(last, k.getValue().getBytes());
            }
            if (!page.isMore() || last == null) {
                break;
            }
            from = last + '\0';
        }
        try {
            Optional<HostFileLayout.Fetched> files = HostFileLayout.assemble(host, values);
            return files.isPresent()
                    ? new HostSnapshot.Published(revision, files.get())
                    : new HostSnapshot.Unpublished(revision);
        } catch (IOException e) {
            return new HostSnapshot.Unreadable(revision, e.getMessage());
        }
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }
}
