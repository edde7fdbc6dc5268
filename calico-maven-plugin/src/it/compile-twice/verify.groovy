// Four builds in one log: compile, nothing to compile, compile again for a changed option, help.
def log = new File(basedir, 'build.log').text

def compiled = 'calico: compiled 1 policy file into target/calico ('
def unchanged = 'calico: nothing to compile - all policy sources are unchanged'
def first = log.indexOf(compiled)
def second = log.indexOf(unchanged)
def third = log.indexOf(compiled, first + 1)
assert first >= 0: 'the first build did not compile'
assert second > first: 'the second build did not say that nothing changed'
assert third > second: 'the third build, with another workloadToHost, did not compile again'
assert log.count(unchanged) == 1
assert log.count(compiled) == 2

def manifest = new groovy.json.JsonSlurper().parse(new File(basedir, 'target/calico/manifest.json'))
assert manifest.options.workload_to_host == 'accept'

// calico:help lists the goals by their prefix.
assert log.contains('This plugin has')
assert log.contains('\ncalico:check\n')
assert log.contains('\ncalico:compile\n')
assert log.count('BUILD SUCCESS') == 4
true
