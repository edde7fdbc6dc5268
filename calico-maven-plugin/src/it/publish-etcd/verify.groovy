// What the two builds left in etcd, read back with etcdctl: every key and value of the bundle and
// every host file, written by the first build; nothing written by the second. Stops etcd.
import groovy.json.JsonSlurper
import java.nio.file.Files
import java.security.MessageDigest

def etcd = context.etcd
try {
    def log = new File(basedir, 'build.log').text
    def out = new File(basedir, 'target/calico')

    // Every key under a prefix with its value, exactly as etcd holds them.
    def stored = { String prefix ->
        def decode = { String b64 -> new String(b64.decodeBase64(), 'UTF-8') }
        def json = new JsonSlurper().parseText(etcd.etcdctl('get', '--prefix', prefix, '-w', 'json'))
        (json.kvs ?: []).collectEntries { [(decode(it.key)): decode(it.value)] }
    }

    // The bundle, key by key and value by value.
    def bundle = new JsonSlurper().parse(new File(out, 'etcd/bundle.json'))
    def expected = bundle.entries.collectEntries { [(it.key): it.value] }
    assert expected.containsKey('/calico/v1/host/edge-01/workload/openstack/web-1/endpoint/eth0')
    assert expected.containsKey('/calico/v1/policy/profile/db/rules')
    assert stored('/calico/v1/') == expected

    // Each host's files, each under its digest, whole.
    def hostKeys = stored('/calico-policy/hosts/')
    def hosts = new File(out, 'hosts').listFiles()*.name.sort()
    assert hosts == ['data-01', 'edge-01']
    def fileCount = 0
    hosts.each { host ->
        assert hostKeys.containsKey("/calico-policy/hosts/${host}/digest".toString())
        new File(out, "hosts/${host}").listFiles().each { file ->
            def bytes = Files.readAllBytes(file.toPath())
            def sha = MessageDigest.getInstance('SHA-256').digest(bytes).encodeHex().toString()
            def key = "/calico-policy/hosts/${host}/files/${file.name}/${sha}/0000".toString()
            assert hostKeys[key] == new String(bytes, 'UTF-8'): "${key} does not hold ${file}"
            fileCount++
        }
    }
    // The index of each host and one part per file: nothing else.
    assert hostKeys.size() == hosts.size() + fileCount

    // The first build published all of it in one transaction; the second wrote nothing.
    def url = java.util.regex.Pattern.quote(etcd.clientUrls())
    def keys = expected.size() + hostKeys.size()
    def first = log =~ /calico: published ${keys} keys \(0 deleted\) in 1 transaction, revision (\d+) \(etcd ${url}\)/
    assert first.find(): "no summary of ${keys} keys published in build.log"
    def revision = first.group(1)
    def second = log =~ /calico: published 0 keys \(0 deleted\) in 0 transactions, revision (\d+) \(etcd ${url}\)/
    assert second.find(): 'the second build did not say it published 0 keys'
    assert second.group(1) == revision
    assert log.indexOf(second.group(0)) > log.indexOf(first.group(0))
    def header = new JsonSlurper().parseText(etcd.etcdctl('get', '/', '-w', 'json')).header
    assert header.revision.toString() == revision

    assert log.count('calico: nothing to compile - all policy sources are unchanged') == 1
    assert log.count('BUILD SUCCESS') == 2
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
