// Three builds in one log: a dry run against the empty etcd, a publish, and a dry run of a changed
// policy. The dry runs list every key they would add (+), change (~) or remove (-) with the
// counts, and write nothing. Stops etcd.
import groovy.json.JsonSlurper

def etcd = context.etcd
try {
    def log = new File(basedir, 'build.log').text
    def url = etcd.clientUrls()

    // The dry runs' plans: the line with the counts, then the keys by their mark.
    def plans = []
    def head = "[INFO] calico: dry run against etcd at ${url}: "
    def at = 0
    while ((at = log.indexOf(head, at)) >= 0) {
        def end = log.indexOf('[INFO] calico: dry run: nothing written', at)
        assert end > at: 'a dry run did not say that it wrote nothing'
        def lines = log.substring(at, end).readLines()*.replaceFirst(/^\[INFO\] /, '')
        def keys = { String mark -> lines.findAll { it.startsWith("  ${mark} ") }*.substring(4) }
        plans << [counts: lines[0].substring(head.length() - '[INFO] '.length()),
                  added: keys('+'), changed: keys('~'), removed: keys('-')]
        at = end
    }
    assert plans.size() == 2

    def endpoint = { host, workload -> "/calico/v1/host/${host}/workload/docker/${workload}/endpoint/eth0".toString() }
    def keysIn = { String prefix ->
        def json = new JsonSlurper().parseText(etcd.etcdctl('get', '--prefix', prefix, '--keys-only', '-w', 'json'))
        (json.kvs ?: []).collect { new String(it.key.decodeBase64(), 'UTF-8') }.sort()
    }

    // First dry run, etcd empty: everything is added.
    def first = plans[0]
    def published = keysIn('/calico/v1/') + keysIn('/calico-policy/hosts/')
    assert first.counts == "${published.size()} added, 0 changed, 0 removed, 0 kept, 0 unchanged; 1 transaction"
    assert first.added.sort() == published.sort()
    assert first.added.containsAll([endpoint('bastion-01', 'jump-1'), '/calico/v1/policy/profile/ssh/rules',
            '/calico/v1/policy/profile/ssh/tags', '/calico-policy/hosts/bastion-01/digest'])
    assert first.changed.isEmpty() && first.removed.isEmpty()

    // The publish between them was the only write: a fresh etcd is at revision 1.
    def summary = log =~ /calico: published ${published.size()} keys \(0 deleted\) in 1 transaction, revision (\d+) /
    assert summary.find(): 'the publish between the dry runs did not log its summary'
    assert summary.group(1) == '2'

    // Second dry run: the new host's keys added, the profile's rules changed, the old host's keys
    // removed, the profile's tags unchanged.
    def second = plans[1]
    assert second.added.contains(endpoint('bastion-02', 'jump-2'))
    assert second.added.contains('/calico-policy/hosts/bastion-02/digest')
    assert second.changed == ['/calico/v1/policy/profile/ssh/rules']
    assert second.removed.contains(endpoint('bastion-01', 'jump-1'))
    assert second.removed.contains('/calico-policy/hosts/bastion-01/digest')
    assert second.removed.every { published.contains(it) }
    assert second.counts == "${second.added.size()} added, 1 changed, ${second.removed.size()} removed, 0 kept, 1 unchanged; 1 transaction"

    // Nothing written since the publish: etcd holds the first version, at the same revision.
    assert keysIn('/calico/v1/') == [endpoint('bastion-01', 'jump-1'), '/calico/v1/policy/profile/ssh/rules',
            '/calico/v1/policy/profile/ssh/tags']
    def header = new JsonSlurper().parseText(etcd.etcdctl('get', '/', '-w', 'json')).header
    assert header.revision.toString() == '2'

    assert log.count('BUILD SUCCESS') == 3
    // No errors, also none after the build's result: the etcd client's threads stop before the
    // goal ends, while they can still load the plugin's classes.
    assert !log.contains('[ERROR]')
    assert !log.contains('NoClassDefFoundError')
    true
} finally {
    if (etcd != null) {
        Runtime.runtime.removeShutdownHook(context.stopEtcd)
        etcd.close()
    }
}
