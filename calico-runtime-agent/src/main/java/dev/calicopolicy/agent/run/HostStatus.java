package dev.calicopolicy.agent.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calicopolicy.agent.publish.Keyspace;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@code calico-agent run} reports about its host, stored as compact JSON at {@code
 * /calico-policy/status/<host>} (a key no publish owns, writes or deletes):
 *
 * <pre>
 * {"format":1,"host":"compute-01","state":"applied","revision":1873,"digest":"sha256:…",
 *  "applied":{"digest":"sha256:…","revision":1873,"time":"2025-05-01T12:00:00.123Z"},
 *  "time":"2025-05-01T12:00:00.130Z"}
 * </pre>
 *
 * @param host the host
 * @param state what became of the host's files as read at {@code revision}
 * @param revision the etcd revision at which the agent read the host's files
 * @param digest the host's digest at that revision (absent when it has no files there, or when they
 *     could not be put together)
 * @param applied the last files this agent process put into the kernel, absent before the first
 * @param error why the files read at {@code revision} are not in the kernel ({@link State#FAILED}
 *     only)
 * @param time when the agent wrote this status
 */
public record HostStatus(
        String host,
        State state,
        long revision,
        Optional<String> digest,
        Optional<Applied> applied,
        Optional<String> error,
        Instant time) {

    private static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What became of the files read at the status's revision. */
    public enum State {
        /** The kernel enforces them. */
        APPLIED("applied"),
        /**
         * They could not be applied (the kernel refused them, or they are incomplete); the kernel
         * keeps what it had, which {@code applied} names when this agent applied it.
         */
        FAILED("failed"),
        /** Nothing is published for the host: the agent waits, and the kernel keeps what it had. */
        NO_FILES("no-files");

        private final String json;

        State(String json) {
            this.json = json;
        }

        /** The state as the status value spells it. */
        public String json() {
            return json;
        }

        static State ofJson(String text) throws IOException {
            for (State s : values()) {
                if (s.json.equals(text)) {
                    return s;
                }
            }
            throw new IOException(
                    "unknown host state '"
                            + text
                            + "' (expected "
                            + Arrays.toString(values())
                            + ")");
        }
    }

    /** Files this agent put into the kernel: their digest, where it read them, and when. */
    public record Applied(String digest, long revision, Instant time) {
        public Applied {
            Objects.requireNonNull(digest, "digest should not be null");
            Objects.requireNonNull(time, "time should not be null");
        }
    }

    public HostStatus {
        Objects.requireNonNull(host, "host should not be null");
        Objects.requireNonNull(state, "state should not be null");
        Objects.requireNonNull(digest, "digest should not be null");
        Objects.requireNonNull(applied, "applied should not be null");
        Objects.requireNonNull(error, "error should not be null");
        Objects.requireNonNull(time, "time should not be null");
    }

    /** {@code /calico-policy/status/<host>}. */
    public static String key(String host) {
        return Keyspace.STATUS + host;
    }

    /** True when the two say the same about the host, whenever and at whatever revision. */
    boolean saysTheSameAs(HostStatus other) {
        return other != null
                && host.equals(other.host)
                && state == other.state
                && digest.equals(other.digest)
                && applied.equals(other.applied)
                && error.equals(other.error);
    }

    /** The status as stored in etcd. */
    public byte[] toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("host", host);
        root.put("state", state.json());
        root.put("revision", revision);
        digest.ifPresent(d -> root.put("digest", d));
        applied.ifPresent(
                a ->
                        root.putObject("applied")
                                .put("digest", a.digest())
                                .put("revision", a.revision())
                                .put("time", a.time().toString()));
        error.ifPresent(e -> root.put("error", e));
        root.put("time", time.toString());
        try {
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a host status as JSON", e);
        }
    }

    /**
     * Reads a status value.
     *
     * @throws IOException if it is not one
     */
    public static HostStatus parse(byte[] value) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(value);
        } catch (IOException e) {
            throw new IOException(
                    "host status is not JSON: " + new String(value, StandardCharsets.UTF_8), e);
        }
        if (root == null || root.path("format").asInt(-1) != FORMAT) {
            throw new IOException("host status of unknown format " + root);
        }
        try {
            JsonNode applied = root.path("applied");
            return new HostStatus(
                    text(root, "host"),
                    State.ofJson(text(root, "state")),
                    root.path("revision").asLong(),
                    optionalText(root, "digest"),
                    applied.isObject()
                            ? Optional.of(
                                    new Applied(
                                            text(applied, "digest"),
                                            applied.path("revision").asLong(),
                                            Instant.parse(text(applied, "time"))))
                            : Optional.empty(),
                    optionalText(root, "error"),
                    Instant.parse(text(root, "time")));
        } catch (DateTimeParseException e) {
            throw new IOException("host status has a time that is not ISO-8601: " + root, e);
        }
    }

    private static String text(JsonNode node, String field) throws IOException {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw new IOException("host status lacks the text field '" + field + "': " + node);
        }
        return value.asText();
    }

    private static Optional<String> optionalText(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? Optional.empty() : Optional.of(value.asText());
    }
}
