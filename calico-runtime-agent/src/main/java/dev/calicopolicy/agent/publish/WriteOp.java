package dev.calicopolicy.agent.publish;

import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;

/**
 * One put or delete of a publish. A delete carries the revision at which the key was read back
 * holding a value this tool wrote; the transaction compares it, so a key someone changed in the
 * meantime is not deleted.
 *
 * @param key the key
 * @param value the value to put, {@code null} for a delete
 * @param expectedModRevision for a delete, the revision the key must still have
 * @param phase where it goes in the order of a batched publish
 */
record WriteOp(String key, byte[] value, long expectedModRevision, WritePhase phase) {
    /** Overhead counted per operation and compare, beyond key and value. */
    static final int OVERHEAD = 32;

    /** Ordered as a batched publish writes. */
    static final Comparator<WriteOp> ORDER =
            Comparator.comparing(WriteOp::phase).thenComparing(WriteOp::key);

    static WriteOp put(String key, byte[] value) {
        return new WriteOp(key, value, 0, WritePhase.of(key, false));
    }

    static WriteOp shard(OwnedKeys.Shard shard) {
        return new WriteOp(Keyspace.shardKey(shard.name()), shard.value(), 0, WritePhase.SHARDS);
    }

    static WriteOp delete(String key, long expectedModRevision) {
        return new WriteOp(key, null, expectedModRevision, WritePhase.of(key, true));
    }

    boolean isDelete() {
        return value == null;
    }

    boolean hasCompare() {
        return expectedModRevision > 0;
    }

    /** The bytes this operation (and its compare) adds to a transaction, roughly from above. */
    long bytes() {
        int keyBytes = utf8Length(key);
        long size = keyBytes + OVERHEAD;
        if (value != null) {
            size += value.length;
        }
        if (hasCompare()) {
            size += keyBytes + OVERHEAD;
        }
        return size;
    }

    Op toOp() {
        if (value == null) {
            return Op.delete(EtcdStore.bytes(key), DeleteOption.DEFAULT);
        }
        return Op.put(
                EtcdStore.bytes(key), io.etcd.jetcd.ByteSequence.from(value), PutOption.DEFAULT);
    }

    Cmp toCompare() {
        return new Cmp(
                EtcdStore.bytes(key), Cmp.Op.EQUAL, CmpTarget.modRevision(expectedModRevision));
    }

    @Override
    public String toString() {
        return (value == null ? "delete " : "put ") + key;
    }

    static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
