#!/usr/bin/env bash
# How closely `calico-agent run` follows etcd: agent start to first apply, end of each publish of
# a changed policy to the agent's status saying it is enforced, and SIGTERM to process end. Starts
# its own etcd on free loopback ports and runs the agent in a network namespace it creates and
# deletes; needs root. Optional argument: the number of publishes (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -ntp -pl calico-runtime-agent -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test
cp="calico-runtime-agent/target/test-classes:calico-runtime-agent/target/classes"
cp="$cp:$(cat calico-runtime-agent/target/bench-classpath.txt)"
exec java -cp "$cp" dev.calicopolicy.agent.run.RunBenchmark "$@"
