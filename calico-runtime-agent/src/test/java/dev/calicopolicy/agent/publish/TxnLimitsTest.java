package dev.calicopolicy.agent.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.calicopolicy.agent.etcd.EtcdFailure;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TxnLimitsTest {
    private static WriteOp put(String key, int bytes) {
        return WriteOp.put(key, new byte[bytes]);
    }

    @Test
    void writesAreOrderedSoThatReferencesStayValid() {
        List<WriteOp> ops =
                new ArrayList<>(
                        List.of(
                                WriteOp.delete("/calico/v1/policy/profile/old/rules", 5),
                                WriteOp.delete("/calico/v1/host/h/workload/o/w/endpoint/old", 5),
                                put("/calico/v1/host/h/workload/o/w/endpoint/new", 10),
                                put("/calico/v1/policy/profile/new/rules", 10),
                                WriteOp.delete("/calico-policy/hosts/h/digest", 5),
                                put("/calico-policy/hosts/g/digest", 10),
                                put("/calico-policy/hosts/g/files/iptables.rules/ab/0000", 10),
                                WriteOp.delete("/calico-policy/hosts/h/files/x.rules/cd/0000", 5)));

        ops.sort(WriteOp.ORDER);

        assertThat(ops)
                .extracting(WriteOp::toString)
                .containsExactly(
                        "put /calico/v1/policy/profile/new/rules",
                        "put /calico/v1/host/h/workload/o/w/endpoint/new",
                        "put /calico-policy/hosts/g/files/iptables.rules/ab/0000",
                        "put /calico-policy/hosts/g/digest",
                        "delete /calico-policy/hosts/h/digest",
                        "delete /calico-policy/hosts/h/files/x.rules/cd/0000",
                        "delete /calico/v1/host/h/workload/o/w/endpoint/old",
                        "delete /calico/v1/policy/profile/old/rules");
    }

    @Test
    void batchesLeaveRoomForTheLockAndCountCompares() throws PublishException {
        List<WriteOp> ops = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ops.add(WriteOp.delete("/calico/v1/k" + i, 7));
        }

        List<List<WriteOp>> batches = new TxnLimits(4, 1 << 20).split(ops, 1, 0);

        assertThat(batches).extracting(List::size).containsExactly(3, 3, 3, 1);
    }

    @Test
    void batchesKeepUnderTheByteLimit() throws PublishException {
        List<WriteOp> ops = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ops.add(put("/k" + i, 3000));
        }

        List<List<WriteOp>> batches = new TxnLimits(128, 10_000).split(ops, 1, 512);

        assertThat(batches).extracting(List::size).containsExactly(2, 2, 2, 2, 2);
    }

    @Test
    void aValueLargerThanATransactionIsRefusedWithAnAdvice() {
        TxnLimits limits = new TxnLimits(128, 8192);

        assertThatThrownBy(() -> limits.split(List.of(put("/calico/v1/big", 9000)), 1, 0))
                .isInstanceOf(PublishException.class)
                .hasMessageContaining("/calico/v1/big with its value is about 9046 bytes")
                .hasMessageContaining("raise etcd's --max-request-bytes and --max-txn-bytes");
    }

    @Test
    void aRefusalHalvesTheLimitDownToTheLeastThatCanWork() {
        TxnLimits limits = new TxnLimits(128, 1 << 20);

        assertThat(limits.lower(EtcdFailure.TOO_MANY_OPERATIONS, 128, 0)).isTrue();
        assertThat(limits.ops()).isEqualTo(64);
        assertThat(limits.lower(EtcdFailure.TOO_MANY_OPERATIONS, 5, 0)).isTrue();
        assertThat(limits.ops()).isEqualTo(PublishOptions.MIN_TXN_OPS);
        assertThat(limits.lower(EtcdFailure.TOO_MANY_OPERATIONS, 3, 0)).isFalse();
        assertThat(limits.lower(EtcdFailure.TOO_LARGE, 3, 100_000)).isTrue();
        assertThat(limits.bytes()).isEqualTo(50_000);
    }
}
