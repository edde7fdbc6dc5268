// A chain prefix iptables would not like is refused with the parameter's name and the rule.
def log = new File(basedir, 'build.log').text
assert log.contains("calico: chainPrefix: chain prefix 'Calico_' must be 1-6 lower-case letters")
assert log.contains('BUILD FAILURE')
assert !new File(basedir, 'target/calico').exists()
true
