// Starts a real etcd for this project's builds and passes its URL to them as -Dcalico.etcd.
// verify.groovy stops it; the shutdown hook does if verify.groovy never gets that far.
import dev.calicopolicy.testkit.EtcdServer

def etcd = EtcdServer.start()
def stop = new Thread({ etcd.close() } as Runnable)
Runtime.runtime.addShutdownHook(stop)
context.etcd = etcd
context.stopEtcd = stop
context.userProperties.setProperty('calico.etcd', etcd.clientUrls())
true
