// Starts a real etcd for this project's builds and passes its URL to them as -Dcalico.etcd;
// then takes the publish lock, as a publisher half way through its batches holds it.
// verify.groovy stops etcd; the shutdown hook does if verify.groovy never gets that far.
import dev.calicopolicy.testkit.EtcdServer

def etcd = EtcdServer.start()
def stop = new Thread({ etcd.close() } as Runnable)
Runtime.runtime.addShutdownHook(stop)
context.etcd = etcd
context.stopEtcd = stop
context.userProperties.setProperty('calico.etcd', etcd.clientUrls())

etcd.etcdctl('put', '/calico-policy/lock',
        '{"publish":"p-7","by":"deploy@ci-02","started_at":"2024-05-01T10:00:00Z","batch":4}')
true
