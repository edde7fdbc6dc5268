// With calico.skip both goals say they were skipped and write nothing.
def log = new File(basedir, 'build.log').text
assert log.count('calico: skipped (calico.skip is set)') == 2
assert !log.contains('policy files checked')
assert !new File(basedir, 'target/calico').exists()
assert log.contains('BUILD SUCCESS')
true
