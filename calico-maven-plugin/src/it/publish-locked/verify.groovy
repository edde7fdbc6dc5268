// With another publish holding the lock, a dry run still shows its plan, and the publisher's own
// log line saying so reaches the build's log through Maven's logging; a publish fails the build,
// as a failure (not an error), and writes nothing. Stops etcd.
import groovy.json.JsonSlurper

def etcd = context.etcd
try {
    def log = new File(basedir, 'build.log').text

    assert log.contains('[INFO] publish p-7 by deploy@ci-02 holds the lock; this plan may be out of date when it ends')
    assert log.contains('calico: dry run: nothing written')

    def failure = log.substring(log.indexOf('[ERROR] Failed to execute goal'))
    assert failure.contains("calico: cannot publish to etcd at ${etcd.clientUrls()}: another publish is in progress: /calico-policy/lock is held by publish p-7 by deploy@ci-02")
    assert failure.contains('nothing was written')
    assert failure.contains('MojoFailureException')
    assert log.count('BUILD SUCCESS') == 1 && log.count('BUILD FAILURE') == 1

    def keys = new JsonSlurper().parseText(etcd.etcdctl('get', '--prefix', '/', '--keys-only', '-w', 'json'))
            .kvs.collect { new String(it.key.decodeBase64(), 'UTF-8') }
    assert keys == ['/calico-policy/lock']
    assert !log.contains('NoClassDefFoundError')
    true
} finally {
    if (etcd != null) {
        Runtime.runtime.removeShutdownHook(context.stopEtcd)
        etcd.close()
    }
}
