#!/usr/bin/env bash
# Runs a fedactor cluster on one machine with real, separate network stacks:
# each party gets its own network namespace and address (10.77.0.1-4),
# joined by a bridge that lives in a namespace of its own, so nothing
# touches the host's interfaces or routes. Traffic between the parties is
# mutual TLS, with a test CA made by `fedactor certs`.
#
# Needs root (ip netns) and iproute2. Data: set FEDACTOR_DATA or pass
# -data-dir in the extra flags. Extra arguments are experiment flags for
# every node, e.g.:
#
#   sudo FEDACTOR_DATA=$HOME/data scripts/netns-cluster.sh -scheme ckks -rounds 3 -limit 6000
set -euo pipefail

cd "$(dirname "$0")/.."
work=$(mktemp -d)
prefix=fa$$
parties=(mo sw bob alice)
ip4() { echo "10.77.0.$(( $1 + 1 ))"; }

cleanup() {
  set +e
  for ns in "${parties[@]}"; do
    ip netns pids "$prefix-$ns" 2>/dev/null | xargs -r kill 2>/dev/null
    ip netns del "$prefix-$ns" 2>/dev/null
  done
  ip netns del "$prefix-br" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "building fedactor"
if printf 'int main(void){return 0;}\n' | cc -x c - -lopenblas -o /dev/null 2>/dev/null; then
  go build -tags openblas -o "$work/fedactor" ./cmd/fedactor
else
  go build -o "$work/fedactor" ./cmd/fedactor
fi

echo "making namespaces ${parties[*]} on bridge $prefix-br"
ip netns add "$prefix-br"
ip -n "$prefix-br" link add br0 type bridge
ip -n "$prefix-br" link set br0 up
for i in "${!parties[@]}"; do
  ns="$prefix-${parties[$i]}"
  ip netns add "$ns"
  ip -n "$prefix-br" link add "v$i" type veth peer name eth0 netns "$ns"
  ip -n "$prefix-br" link set "v$i" master br0 up
  ip -n "$ns" addr add "$(ip4 "$i")/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
done

hosts=$(for i in "${!parties[@]}"; do printf '%s,' "$(ip4 "$i")"; done)
"$work/fedactor" certs -out "$work/certs" -nodes "$(IFS=,; echo "${parties[*]}")" -hosts "${hosts%,}"
seeds=$(for i in "${!parties[@]}"; do printf '%s:7000,' "$(ip4 "$i")"; done)
seeds=${seeds%,}

node() { # node INDEX ROLE-FLAGS...
  local i=$1 name=${parties[$1]}; shift
  ip netns exec "$prefix-$name" "$work/fedactor" node -bind "$(ip4 "$i"):7000" -seeds "$seeds" \
    -tls-cert "$work/certs/$name.pem" -tls-key "$work/certs/$name-key.pem" -tls-ca "$work/certs/ca.pem" \
    -owners 2 -splits iid "$@"
}

node 1 -role secure-worker -out "$work/out-sw" "${@}" >"$work/sw.log" 2>&1 &
node 2 -parties bob -out "$work/out-bob" "${@}" >"$work/bob.log" 2>&1 &
node 3 -parties alice -out "$work/out-alice" "${@}" >"$work/alice.log" 2>&1 &
out=results/netns
node 0 -role model-owner -out "$work/out-mo" "${@}" 2>&1 | grep -v '^⇨'
wait
mkdir -p "$out" && cp -r "$work/out-mo/." "$out/"
echo "results copied to $out"
