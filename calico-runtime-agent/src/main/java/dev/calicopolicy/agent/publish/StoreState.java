package dev.calicopolicy.agent.publish;

import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.OptionsUtil;
import java.io.IOException;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

/**
 * The tool's records as read at one revision: the ownership record, the pending record, the lock
 * and the names of all stored shards. Each record comes with its mod revision (0 when absent),
 * which the writes that follow compare.
 */
record StoreState(
        long revision,
        OwnershipRecord record,
        long recordRevision,
        PendingRecord pending,
        long pendingRevision,
        LockRecord lock,
        long lockRevision,
        Set<String> shardNames) {

    /** Reads the records in one read-only transaction, so they are consistent. */
    static StoreState read(EtcdStore store) throws PublishException {
        GetOption shardList =
                GetOption.builder()
                        .withRange(OptionsUtil.prefixEndOf(EtcdStore.bytes(Keyspace.SHARDS)))
                        .withKeysOnly(true)
                        .build();
        TxnResponse r =
                store.read(
                        "read the ownership record",
                        () ->
                                store.kvTxn()
                                        .Then(
                                                get(Keyspace.PUBLISHED),
                                                get(Keyspace.PENDING),
                                                get(Keyspace.LOCK),
                                                Op.get(EtcdStore.bytes(Keyspace.SHARDS), shardList))
                                        .commit());
        GetResponse published = r.getGetResponses().get(0);
        GetResponse pending = r.getGetResponses().get(1);
        GetResponse lock = r.getGetResponses().get(2);
        Set<String> shards = new TreeSet<>();
        for (KeyValue kv : r.getGetResponses().get(3).getKvs()) {
            shards.add(EtcdStore.stored(kv).key().substring(Keyspace.SHARDS.length()));
        }
        try {
            return new StoreState(
                    r.getHeader().getRevision(),
                    published.getKvs().isEmpty()
                            ? null
                            : OwnershipRecord.parse(
                                    published.getKvs().get(0).getValue().getBytes()),
                    modRevision(published),
                    pending.getKvs().isEmpty()
                            ? null
                            : PendingRecord.parse(pending.getKvs().get(0).getValue().getBytes()),
                    modRevision(pending),
                    lock.getKvs().isEmpty()
                            ? null
                            : LockRecord.parse(lock.getKvs().get(0).getValue().getBytes()),
                    modRevision(lock),
                    Collections.unmodifiableSet(shards));
        } catch (IOException e) {
            throw new PublishException(
                    PublishException.Reason.BAD_RECORD,
                    "cannot read the tool's records under "
                            + Keyspace.ROOT
                            + ": "
                            + e.getMessage()
                            + " (written by another version of the tool, or by hand?)",
                    e);
        }
    }

    private static Op get(String key) {
        return Op.get(EtcdStore.bytes(key), GetOption.DEFAULT);
    }

    private static long modRevision(GetResponse r) {
        return r.getKvs().isEmpty() ? 0 : r.getKvs().get(0).getModRevision();
    }
}
