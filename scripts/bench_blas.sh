#!/usr/bin/env bash
# Measures how much faster OpenBLAS makes training than gonum's pure-Go
# BLAS: the throughput of
#
#   go test -run '^$' -bench '^BenchmarkTrainCNN$' -benchtime 20x ./nn/
#
# (the cnn, batch 128, Adam, GOMAXPROCS threads) built with -tags openblas
# and without. Both test binaries are built once, then run in PAIRS pairs
# (default 3), the two builds one after the other and their order swapped
# from one pair to the next. Each pair runs twice: with the environment as
# it is (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE may be set, as on the AMD
# EPYC of docs/benchmarks.md) and with both unset for that command alone.
# It prints every run, the medians, the ratio and a table row for
# docs/benchmarks.md.
#
# Run it on a quiet machine: other work on the cores shows up as noise.
#
#   scripts/bench_blas.sh
#   PAIRS=5 scripts/bench_blas.sh
set -euo pipefail

cd "$(dirname "$0")/.."
pairs=${PAIRS:-3}
bench=(-test.run '^$' -test.bench '^BenchmarkTrainCNN$' -test.benchtime 20x)

if ! printf 'int main(void){return 0;}\n' | "${CC:-cc}" -x c - -lopenblas -o /dev/null >/dev/null 2>&1; then
  echo "bench_blas: cannot link -lopenblas (Debian: apt-get install libopenblas-dev)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "building the nn test binaries"
go test -c -tags openblas -o "$work/nn-openblas.test" ./nn/
go test -c -o "$work/nn-gonum.test" ./nn/

# The machine.
cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
family=$(grep -m1 '^cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')
model=$(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')
avx512=no
grep -qw avx512f /proc/cpuinfo && avx512=yes
openblas=$(dpkg-query -W -f '${Version}' libopenblas0 2>/dev/null || echo unknown)
echo "CPU: $cpu (family $family, model $model), $(nproc) cores, AVX-512: $avx512"
echo "$(go version); OpenBLAS package: $openblas"
echo "environment as is: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-<unset>} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-<unset>}"
if [ -z "${OPENBLAS_CORETYPE+x}" ] && [ -z "${OPENBLAS_L2_SIZE+x}" ]; then
  echo "note: neither variable is set, so the two environments are the same"
fi
echo

# run BUILD ENV prints the samples/s of one benchmark run of BUILD
# (openblas or gonum) in ENV (asis or unset).
run() {
  local build=$1 env=$2 out
  local cmd=("$work/nn-$build.test" "${bench[@]}")
  if [ "$env" = unset ]; then
    cmd=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${cmd[@]}")
  fi
  out=$(cd nn && "${cmd[@]}" 2>&1) || { echo "$out" >&2; return 1; }
  awk '/^BenchmarkTrainCNN/ { for (i = 2; i < NF; i++) if ($(i+1) == "samples/s") { print $i; exit } }' <<<"$out" |
    grep . || { echo "bench_blas: no samples/s in:" >&2; echo "$out" >&2; return 1; }
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

declare -A runs=([openblas.asis]="" [gonum.asis]="" [openblas.unset]="" [gonum.unset]="")
printf '%-5s %-6s %12s %12s %6s\n' pair env openblas gonum ratio
for ((p = 1; p <= pairs; p++)); do
  for env in asis unset; do
    if ((p % 2)); then
      o=$(run openblas "$env"); g=$(run gonum "$env")
    else
      g=$(run gonum "$env"); o=$(run openblas "$env")
    fi
    runs[openblas.$env]+=" $o"
    runs[gonum.$env]+=" $g"
    printf '%-5s %-6s %12.0f %12.0f %6s\n' "$p" "$env" "$o" "$g" "$(ratio "$o" "$g")"
  done
done

echo
echo "medians of $pairs runs (samples/s, cnn training, batch 128, $(nproc) threads):"
for env in asis unset; do
  o=$(median <<<"${runs[openblas.$env]}")
  g=$(median <<<"${runs[gonum.$env]}")
  label="as is (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-unset}, OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-unset})"
  [ "$env" = unset ] && label="both unset"
  printf '| %s | %.0f | %.0f | %sx |\n' "$label" "$o" "$g" "$(ratio "$o" "$g")"
done
