package dev.calicopolicy.agent.publish;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/** Reading and writing the JSON of the tool's records in etcd. */
final class RecordJson {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private RecordJson() {}

    /** Compact JSON of a record. */
    static byte[] write(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("writing JSON to memory cannot fail", e);
        }
    }

    /** Parses a record, which must be a JSON object. */
    static JsonNode read(byte[] value, String what) throws IOException {
        JsonNode root;
        try {
            root = MAPPER.readTree(value);
        } catch (JsonProcessingException e) {
            throw new IOException(what + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(what + " is not a JSON object");
        }
        return root;
    }

    /** A field that must be a string. */
    static String text(JsonNode node, String field) throws IOException {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw new IOException("field '" + field + "' is missing or not a string");
        }
        return value.asText();
    }
}
