// The plugin's output must be byte for byte what the command-line compiler writes for the same
// sources, run from the same directory.
import java.nio.file.Files
import java.nio.file.Path

Path plugin = basedir.toPath().resolve('target/calico')
Path cli = basedir.toPath().resolve('target/cli-out')

assert new File(calicocJar).isFile(): "no ${calicocJar}: build calico-dsl in the same reactor (-am)"
def java = new File(System.getProperty('java.home'), 'bin/java').path
def command = [java, '-jar', calicocJar, 'compile', '-o', cli.toString(), 'src/main/calico']
def process = command.execute(null, basedir)
def stdout = new StringBuilder()
def stderr = new StringBuilder()
process.waitForProcessOutput(stdout, stderr)
assert process.exitValue() == 0: "calicoc failed: ${stderr}"

def files = { Path root ->
    Files.walk(root).withCloseable { walk ->
        walk.filter { Files.isRegularFile(it) }.collect { root.relativize(it).toString() }.sort()
    }
}
assert files(plugin) == files(cli)
assert files(plugin).containsAll(['etcd/bundle.json', 'manifest.json'])
files(plugin).each { name ->
    assert Arrays.equals(Files.readAllBytes(plugin.resolve(name)), Files.readAllBytes(cli.resolve(name))):
            "${name} differs between the plugin and calicoc"
}

// Every source and the import from outside the source directory are in the manifest.
def manifest = new groovy.json.JsonSlurper().parse(plugin.resolve('manifest.json').toFile())
assert manifest.inputs*.path == ['common/nets.calico', 'src/main/calico/hosts.calico',
        'src/main/calico/inventory/compute-02.calico.yaml', 'src/main/calico/profiles.calico']

def bundle = new groovy.json.JsonSlurper().parse(plugin.resolve('etcd/bundle.json').toFile())
def keys = bundle.entries*.key
assert keys.contains('/calico/v1/host/compute-01/workload/openstack/vm-0001/endpoint/ep1')
assert keys.contains('/calico/v1/host/compute-02/workload/openstack/vm-0002/endpoint/ep1')
assert keys.contains('/calico/v1/policy/profile/web/rules')
assert keys.contains('/calico/v1/policy/profile/db/tags')

def log = new File(basedir, 'build.log').text
assert log.contains('calico: checked 4 policy files: 0 warnings')
assert log.contains("calico: compiled 4 policy files into target/calico (${files(plugin).size()} files: 2 profiles, 2 endpoints, 2 hosts)")
assert log.contains('BUILD SUCCESS')
true
