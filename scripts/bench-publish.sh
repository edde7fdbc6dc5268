#!/usr/bin/env bash
# Publishing speed: calico-agent publish of 100,000 endpoint keys into an empty etcd and a
# one-profile change, beside etcdctl loading the same keys as 128-put transactions. Starts its own
# etcd processes on free loopback ports; prints the figures. Optional argument: endpoint count.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -ntp -pl calico-runtime-agent -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test
cp="calico-runtime-agent/target/test-classes:calico-runtime-agent/target/classes"
cp="$cp:$(cat calico-runtime-agent/target/bench-classpath.txt)"
exec java -cp "$cp" dev.calicopolicy.agent.publish.PublishBenchmark "$@"
