#!/usr/bin/env bash
# Benchmark of one host's rules: generates a policy with 250 endpoints on the host, 500 profiles
# of 10 rules each that reference tags, and tags with up to MEMBERS members (default 10,000, from
# endpoints on other hosts); compiles it; prints the rule count, the file sizes, and the time of
# `calico-agent apply` beside a bare ipset/iptables-restore of the same files, each into a fresh
# network namespace. Needs root, Java 17, Maven, iptables, ipset, iproute2.
#
#   scripts/bench-apply.sh [MEMBERS]
#
# The many tag members use IPv6 documentation addresses (2001:db8::/32), as the IPv4
# documentation ranges hold only 768 addresses; the host's own endpoints have both families.
set -euo pipefail
cd "$(dirname "$0")/.."
members=${1:-10000}
work=$(mktemp -d)
ns=calico-bench-$$
cleanup() {
  for n in "$ns-a" "$ns-b"; do ip netns delete "$n" 2>/dev/null || true; done
  if [ -n "${BENCH_KEEP:-}" ]; then cp -r "$work" "$BENCH_KEEP"; fi
  rm -rf "$work"
}
trap cleanup EXIT

[ -f calico-dsl/target/calicoc.jar ] && [ -f calico-runtime-agent/target/calico-agent.jar ] ||
  mvn -q -B -pl calico-dsl,calico-runtime-agent -am package -DskipTests
calicoc="java -jar $PWD/calico-dsl/target/calicoc.jar"
agent="java -jar $PWD/calico-runtime-agent/target/calico-agent.jar"

# policy MEMBERS DIR: writes DIR/policy.calico
policy() {
  local n=$1 dir=$2 i j
  mkdir -p "$dir"
  {
    echo 'profile big { tags big; }'
    for ((i = 0; i < 500; i++)); do
      local k=$(((i + 1) % 20)) k2=$(((i + 7) % 20))
      cat <<PROFILE
profile p$i {
  tags t$((i % 20));
  inbound {
    allow tcp from tag big to ports 80, 443, 8000:8080;
    allow tcp from tag t$k to port 22;
    allow udp from net 198.51.100.0/24 to port 53;
    deny tcp from tag t$k2 to port 23;
    allow icmp type 8;
  }
  outbound {
    allow tcp to tag big port 5432;
    allow udp to net 2001:db8::/32 port 53;
    deny tcp to port 25;
    allow icmpv6 type 128;
    allow tcp to tag t$k ports 1:1024;
  }
}
PROFILE
    done
    echo 'host bench {'
    for ((i = 0; i < 250; i++)); do
      printf '  workload b w%d { endpoint e { interface tap%d; mac 02:00:00:00:%02x:%02x;' \
        "$i" "$i" $((i / 256)) $((i % 256))
      printf ' profiles p%d, p%d; ipv4 198.51.100.%d/32; ipv6 2001:db8::%x/128; } }\n' \
        $((2 * i)) $((2 * i + 1)) $((i + 1)) $((i + 1))
    done
    echo '}'
    for ((j = 0; j < n; j++)); do
      if ((j % 250 == 0)); then
        ((j > 0)) && echo '}'
        echo "host remote$((j / 250)) {"
      fi
      printf '  workload r w%d { endpoint e { interface tap%d; mac 02:00:01:%02x:%02x:%02x;' \
        "$j" $((j % 250)) $((j / 65536)) $((j / 256 % 256)) $((j % 256))
      printf ' profiles big, p%d; ipv6 2001:db8:1::%x/128; } }\n' $((j % 500)) "$j"
    done
    ((n > 0)) && echo '}'
  } >"$dir/policy.calico"
}

ms() { echo $(($(date +%s%N) / 1000000)); }

report() {
  local out=$1/out/hosts/bench
  printf '  rules: %d IPv4 + %d IPv6 (iptables -A lines); set members: %d\n' \
    "$(grep -c '^-A' "$out/iptables.rules")" "$(grep -c '^-A' "$out/ip6tables.rules")" \
    "$(grep -c '^add' "$out/ipset.rules")"
  printf '  files: ipset.rules %d bytes, iptables.rules %d bytes, ip6tables.rules %d bytes\n' \
    "$(wc -c <"$out/ipset.rules")" "$(wc -c <"$out/iptables.rules")" \
    "$(wc -c <"$out/ip6tables.rules")"
}

for n in 1000 "$members"; do
  policy "$n" "$work/m$n"
  t0=$(ms)
  (cd "$work/m$n" && $calicoc compile -o out policy.calico 2>/dev/null)
  t1=$(ms)
  echo "tag 'big' with $n members (250 endpoints on host bench, 500 profiles, 10 rules each):"
  echo "  calicoc compile: $((t1 - t0)) ms"
  report "$work/m$n"
done

if cmp -s "$work/m1000/out/hosts/bench/iptables.rules" "$work/m$members/out/hosts/bench/iptables.rules" &&
  cmp -s "$work/m1000/out/hosts/bench/ip6tables.rules" "$work/m$members/out/hosts/bench/ip6tables.rules"; then
  echo "iptables and ip6tables files with 1000 and $members members: identical"
else
  echo "iptables and ip6tables files with 1000 and $members members: DIFFERENT"
fi

out=$work/m$members/out/hosts/bench
runs=3
# fresh NAME: deletes and adds namespace NAME
fresh() { ip netns delete "$1" 2>/dev/null || true; ip netns add "$1"; }
# best LABEL TIMES...: prints the smallest of the times and all of them
best() {
  local label=$1 min=
  shift
  for t in "$@"; do [ -z "$min" ] || [ "$t" -lt "$min" ] && min=$t; done
  echo "$label: $min ms (best of $#: $*)"
}

times=()
for ((r = 0; r < runs; r++)); do
  fresh "$ns-a"
  t0=$(ms)
  ip netns exec "$ns-a" ipset restore <"$out/ipset.rules"
  ip netns exec "$ns-a" iptables-restore --noflush <"$out/iptables.rules"
  ip netns exec "$ns-a" ip6tables-restore --noflush <"$out/ip6tables.rules"
  times+=($(($(ms) - t0)))
done
best "bare ipset restore + iptables-restore + ip6tables-restore into an empty namespace" "${times[@]}"

first=()
again=()
for ((r = 0; r < runs; r++)); do
  fresh "$ns-b"
  t0=$(ms)
  ip netns exec "$ns-b" $agent apply --host bench "$work/m$members/out" >/dev/null 2>&1
  first+=($(($(ms) - t0)))
  t0=$(ms)
  ip netns exec "$ns-b" $agent apply --host bench "$work/m$members/out" >/dev/null 2>&1
  again+=($(($(ms) - t0)))
done
best "calico-agent apply into an empty namespace (JVM start included)" "${first[@]}"
best "calico-agent apply of the same files again (no change)" "${again[@]}"
jvm=()
for ((r = 0; r < runs; r++)); do
  t0=$(ms)
  java -version 2>/dev/null
  jvm+=($(($(ms) - t0)))
done
best "a bare JVM start (java -version), for comparison" "${jvm[@]}"
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
