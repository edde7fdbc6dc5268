// Both examples build with the plugin; their bundles hold the keys their policies describe.
import groovy.json.JsonSlurper

def log = new File(basedir, 'build.log').text
def bundle = { String example ->
    new JsonSlurper().parse(new File(basedir, "${example}/target/calico/etcd/bundle.json"))
            .entries.collectEntries { [(it.key): new JsonSlurper().parseText(it.value)] }
}
def endpoint = { host, orchestrator, workload ->
    "/calico/v1/host/${host}/workload/${orchestrator}/${workload}/endpoint/eth0".toString()
}

// The web shop: five endpoints over three hosts (one from the YAML inventory), five profiles.
def shop = bundle('web-shop')
def shopEndpoints = [
        endpoint('edge-01', 'openstack', 'lb-1'), endpoint('edge-01', 'openstack', 'web-1'),
        endpoint('app-01', 'openstack', 'app-1'), endpoint('app-01', 'openstack', 'web-2'),
        endpoint('db-01', 'openstack', 'db-1'),
]
shopEndpoints.each { assert shop.containsKey(it) }
['lb', 'web', 'app', 'db', 'ssh-admin'].each {
    assert shop.containsKey("/calico/v1/policy/profile/${it}/rules".toString())
    assert shop.containsKey("/calico/v1/policy/profile/${it}/tags".toString())
}
def lb = shop[endpoint('edge-01', 'openstack', 'lb-1')]
assert lb.ipv4_nat == [[in_ip: '198.51.100.10', out_ip: '203.0.113.80']]
assert lb.ipv6_nets == ['2001:db8:10::10/128']
assert shop[endpoint('db-01', 'openstack', 'db-1')].profile_ids == ['db', 'ssh-admin']
// Only the application tier reaches the database.
def db = shop['/calico/v1/policy/profile/db/rules']
assert db.inbound_rules.findAll { it.action == 'allow' }*.src_tag == ['app']

// The cluster: ten pods on three nodes, all from the inventory; tenants see only themselves
// and the shared services.
def cluster = bundle('multi-tenant')
assert cluster.keySet().count { it.startsWith('/calico/v1/host/') } == 10
['node-01', 'node-02', 'node-03'].each { node ->
    assert cluster.keySet().any { it.startsWith("/calico/v1/host/${node}/workload/k8s/") }
}
def tenants = ['tenant-acme', 'tenant-globex', 'tenant-initech']
tenants.each { tenant ->
    def rules = cluster["/calico/v1/policy/profile/${tenant}/rules".toString()]
    def tags = (rules.inbound_rules*.src_tag + rules.outbound_rules*.dst_tag).findAll()
    assert tags.toSet() == [tenant].toSet(): "${tenant} reaches ${tags}"
}
def dns = cluster['/calico/v1/policy/profile/dns/rules']
assert dns.inbound_rules*.src_tag.findAll().toSet() == tenants.toSet()

// Both goals ran in each build of each example; the second build compiled nothing.
assert log.count(':check (check-policy) @ ') == 4
assert log.count(':compile (compile-policy) @ ') == 4
assert log.count('calico: nothing to compile - all policy sources are unchanged') == 2
assert log.contains('calico: compiled 4 policy files into web-shop/target/calico')
assert log.contains('calico: compiled 5 policy files into multi-tenant/target/calico')
assert log.count('BUILD SUCCESS') == 2
true
