// Publishing with nothing compiled fails the build and says to compile first; an etcd out of
// reach is a build error naming the URL and how long it waited. Neither gets as far as writing.
def log = new File(basedir, 'build.log').text

def notCompiled = 'calico: nothing to publish: target/calico holds no compiled policy (no etcd/bundle.json); run calico:compile first, e.g. mvn calico:compile calico:publish'
assert log.contains("[ERROR] Failed to execute goal dev.calicopolicy:calico-maven-plugin:")
assert log.contains(notCompiled)
assert log.contains('MojoFailureException')

assert log.contains('calico: compiled 1 policy file into target/calico')
assert log.contains("calico: cannot reach etcd at ${context.etcdUrl} within 2000 ms")
assert log.contains('MojoExecutionException')

assert log.count('BUILD FAILURE') == 2
// Nothing after the build's result: the etcd client's threads stop before the goal ends, while
// they can still load the plugin's classes.
assert !log.contains('NoClassDefFoundError')
true
