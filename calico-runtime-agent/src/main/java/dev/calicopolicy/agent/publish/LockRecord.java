package dev.calicopolicy.agent.publish;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Objects;

/**
 * The value of {@code /calico-policy/lock}, held on a lease by a publisher writing batches. Every
 * batch rewrites it with the batch's number, in the same transaction as the batch, and compares its
 * revision first: so a batch is applied at most once, and after a request whose outcome is unknown,
 * reading the lock tells whether the batch went in.
 */
record LockRecord(String publishId, String by, String startedAt, int batch) {
    LockRecord {
        Objects.requireNonNull(publishId, "publishId should not be null");
        Objects.requireNonNull(by, "by should not be null");
        Objects.requireNonNull(startedAt, "startedAt should not be null");
    }

    LockRecord atBatch(int number) {
        return new LockRecord(publishId, by, startedAt, number);
    }

    byte[] toJson() {
        ObjectNode root = RecordJson.MAPPER.createObjectNode();
        root.put("publish", publishId);
        root.put("by", by);
        root.put("started_at", startedAt);
        root.put("batch", batch);
        return RecordJson.write(root);
    }

    static LockRecord parse(byte[] value) throws IOException {
        JsonNode root = RecordJson.read(value, "lock record");
        return new LockRecord(
                RecordJson.text(root, "publish"),
                root.path("by").asText("?"),
                root.path("started_at").asText("?"),
                root.path("batch").asInt(-1));
    }
}
