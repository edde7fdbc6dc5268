package dev.calicopolicy.agent.publish;

import dev.calicopolicy.agent.etcd.EtcdFailure;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The size of the largest transaction etcd takes: operations (etcd compares the count of compares
 * and of operations each against {@code --max-txn-ops}) and bytes ({@code --max-request-bytes}).
 * They start from the options and are halved when the server refuses a transaction as too big,
 * which it does before applying anything.
 */
final class TxnLimits {
    private static final Logger LOG = LoggerFactory.getLogger(TxnLimits.class);

    /** Bytes counted for a transaction's own framing. */
    static final long TXN_OVERHEAD = 512;

    private int ops;
    private long bytes;

    TxnLimits(int ops, long bytes) {
        this.ops = ops;
        this.bytes = bytes;
    }

    int ops() {
        return ops;
    }

    long bytes() {
        return bytes;
    }

    boolean fits(int operations, int compares, long size) {
        return operations <= ops && compares <= ops && size + TXN_OVERHEAD <= bytes;
    }

    /**
     * Splits {@code writes}, in order, into transactions that fit, each leaving room for {@code
     * reservedOps} more operations and compares and {@code reservedBytes} more bytes.
     *
     * @throws PublishException if one operation alone is too large
     */
    List<List<WriteOp>> split(List<WriteOp> writes, int reservedOps, long reservedBytes)
            throws PublishException {
        List<List<WriteOp>> batches = new ArrayList<>();
        List<WriteOp> batch = new ArrayList<>();
        int compares = 0;
        long size = 0;
        for (WriteOp op : writes) {
            long opBytes = op.bytes();
            if (opBytes + reservedBytes + TXN_OVERHEAD > bytes) {
                throw new PublishException(
                        PublishException.Reason.REFUSED,
                        op.key()
                                + " with its value is about "
                                + opBytes
                                + " bytes, more than a transaction may hold ("
                                + bytes
                                + " bytes); raise etcd's --max-request-bytes and"
                                + " --max-txn-bytes");
            }
            int opCompares = op.hasCompare() ? 1 : 0;
            if (!batch.isEmpty()
                    && (batch.size() + 1 + reservedOps > ops
                            || compares + opCompares + reservedOps > ops
                            || size + opBytes + reservedBytes + TXN_OVERHEAD > bytes)) {
                batches.add(batch);
                batch = new ArrayList<>();
                compares = 0;
                size = 0;
            }
            batch.add(op);
            compares += opCompares;
            size += opBytes;
        }
        if (!batch.isEmpty()) {
            batches.add(batch);
        }
        return batches;
    }

    /**
     * Lowers the limits after the server refused a transaction of {@code sentOps} operations and
     * {@code sentBytes} bytes as too big.
     *
     * @return false if they cannot go lower
     */
    boolean lower(EtcdFailure refusal, int sentOps, long sentBytes) {
        if (refusal == EtcdFailure.TOO_MANY_OPERATIONS) {
            if (sentOps <= PublishOptions.MIN_TXN_OPS) {
                return false;
            }
            int lowered = Math.max(PublishOptions.MIN_TXN_OPS, Math.min(ops, sentOps) / 2);
            LOG.warn(
                    "etcd refused a transaction of {} operations; sending at most {} from now on"
                            + " (set --max-txn-ops to the server's limit to skip this)",
                    sentOps,
                    lowered);
            ops = lowered;
            return true;
        }
        if (refusal == EtcdFailure.TOO_LARGE) {
            if (sentBytes <= PublishOptions.MIN_TXN_BYTES) {
                return false;
            }
            long lowered = Math.max(PublishOptions.MIN_TXN_BYTES, Math.min(bytes, sentBytes) / 2);
            LOG.warn(
                    "etcd refused a transaction of about {} bytes as too large; sending at most {}"
                            + " from now on (set --max-txn-bytes to the server's limit to skip"
                            + " this)",
                    sentBytes,
                    lowered);
            bytes = lowered;
            return true;
        }
        return false;
    }
}
