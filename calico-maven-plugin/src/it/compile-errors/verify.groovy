// A policy with errors fails the build; the log names every error as path:line:col, shows the
// warnings as warnings, and nothing is written.
def log = new File(basedir, 'build.log').text

def errors = [
        "src/main/calico/hosts.calico.yaml:10:24: error: unknown profile 'wbe' (did you mean 'web'?)",
        'src/main/calico/hosts.calico.yaml:11:20: error: endpoint nets must be single addresses (/32), found 192.0.2.0/24',
        "src/main/calico/web.calico:6:36: error: unknown port set 'webb' (did you mean 'web'?)",
        'src/main/calico/web.calico:7:23: error: port 70000 out of range 0-65535',
]
def warnings = [
        "src/main/calico/hosts.calico.yaml:11:20: warning: CIDR '192.0.2.10/24' has host bits set; it means 192.0.2.0/24, write that",
        "src/main/calico/web.calico:6:24: warning: tag 'lb' is given by no profile, so it matches nothing",
]
errors.each { assert log.contains("[ERROR] ${it}\n"): "the log does not show: ${it}" }
warnings.each { assert log.contains("[WARNING] ${it}\n"): "the log does not show: ${it}" }

// The failure itself lists every error, after the count.
def failure = log.substring(log.indexOf('Failed to execute goal'))
assert failure.contains('calico: 4 errors in the policy sources:')
errors.each { assert failure.contains(it) }
warnings.each { assert !failure.contains(it) }

assert log.contains('BUILD FAILURE')
assert !new File(basedir, 'target/calico').exists()
true
