// With failOnWarning a warning fails the build at validate, and the failure lists it.
def log = new File(basedir, 'build.log').text
def warning = "src/main/calico/api.calico:3:32: warning: tag 'gateway' is given by no profile, so it matches nothing"
def failure = log.substring(log.indexOf('Failed to execute goal'))
assert failure.contains(':check (default) on project fail-on-warning')
assert failure.contains('calico: 1 warning (failOnWarning is set) in the policy sources:')
assert failure.contains(warning)
assert log.contains('BUILD FAILURE')
assert !new File(basedir, 'target/calico').exists()
true
