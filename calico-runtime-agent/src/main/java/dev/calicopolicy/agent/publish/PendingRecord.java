package dev.calicopolicy.agent.publish;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The plan of a batched publish, kept at {@code /calico-policy/pending} from before its first batch
 * until its ownership record is switched. If the publisher dies in between, the next run finds it
 * and knows which keys the dead run may have written: those of {@code target}, and those of the
 * {@code inherited} shards (the plans of earlier runs that died before it).
 */
record PendingRecord(
        String publishId, String startedAt, OwnershipRecord target, List<String> inherited) {
    PendingRecord {
        Objects.requireNonNull(publishId, "publishId should not be null");
        Objects.requireNonNull(startedAt, "startedAt should not be null");
        Objects.requireNonNull(target, "target should not be null");
        inherited = List.copyOf(inherited);
    }

    /** Every shard this plan refers to. */
    List<String> shardNames() {
        List<String> names = new ArrayList<>(target.shardNames());
        names.addAll(inherited);
        return names;
    }

    byte[] toJson() {
        ObjectNode root = RecordJson.MAPPER.createObjectNode();
        root.put("format", OwnershipRecord.FORMAT);
        root.put("publish", publishId);
        root.put("started_at", startedAt);
        root.set("target", target.toJsonNode());
        inherited.forEach(root.putArray("inherited")::add);
        return RecordJson.write(root);
    }

    static PendingRecord parse(byte[] value) throws IOException {
        JsonNode root = RecordJson.read(value, "pending record");
        if (root.path("format").asInt(-1) != OwnershipRecord.FORMAT) {
            throw new IOException("pending record of unknown format " + root.path("format"));
        }
        JsonNode target = root.get("target");
        if (target == null || !target.isObject()) {
            throw new IOException("pending record without a target");
        }
        List<String> inherited = new ArrayList<>();
        for (JsonNode s : root.path("inherited")) {
            inherited.add(s.asText());
        }
        return new PendingRecord(
                RecordJson.text(root, "publish"),
                RecordJson.text(root, "started_at"),
                OwnershipRecord.fromJsonNode(target),
                inherited);
    }
}
