// A warning is shown as a warning, by each goal, and does not stop the build.
def log = new File(basedir, 'build.log').text
def warning = "[WARNING] src/main/calico/api.calico:3:32: warning: tag 'gateway' is given by no profile, so it matches nothing\n"
assert log.count(warning) == 2
assert log.contains('calico: checked 1 policy file: 1 warning')
assert log.contains('calico: compiled 1 policy file into target/calico')
assert new File(basedir, 'target/calico/etcd/bundle.json').isFile()
assert log.contains('BUILD SUCCESS')
true
