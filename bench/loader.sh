#!/usr/bin/env bash
# The loader's time and peak memory on generated topologies, for
# BENCHMARKS.md ("Hostile input"): `bottleneck validate` on 1k, 10k and 100k
# nodes, a 4 MB file, and the adversarial files of issue 12.
#
#   cargo build --release && bench/loader.sh [path/to/bottleneck]
#
# Each run is stopped after $TIMEOUT seconds (default 600): exit 124.
set -uo pipefail
cd "$(dirname "$0")/.."
bin="${1:-${CARGO_TARGET_DIR:-target}/release/bottleneck}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
gen() { python3 bench/gen.py "$@"; }
gen nodes 1000 > "$dir/nodes-1k.ron"
gen nodes 10000 > "$dir/nodes-10k.ron"
gen nodes 100000 > "$dir/nodes-100k.ron"
gen nodes 10000 4000000 > "$dir/nodes-10k-4mb.ron"
gen balancer > "$dir/balancer-260k-backends.ron"
gen unknown 10000 > "$dir/unknown-10k-targets.ron"
gen regions 3000 > "$dir/regions-3k.ron"
gen regions 9000 > "$dir/regions-9k.ron"
printf '%-24s %10s %5s %10s %13s\n' file bytes exit "wall (ms)" "peak RSS"
for f in nodes-1k nodes-10k nodes-100k nodes-10k-4mb balancer-260k-backends unknown-10k-targets regions-3k regions-9k; do
  path="$dir/$f.ron"
  start=$EPOCHREALTIME
  /usr/bin/time -v timeout "${TIMEOUT:-600}" "$bin" validate "$path" >/dev/null 2>"$dir/err.txt"
  end=$EPOCHREALTIME
  code=$(grep -oP 'Exit status: \K[0-9]+' "$dir/err.txt")
  rss=$(grep -oP 'Maximum resident set size \(kbytes\): \K[0-9]+' "$dir/err.txt")
  ms=$(python3 -c "print(f'{($end - $start) * 1000:.0f}')")
  printf '%-24s %10s %5s %10s %9s KiB\n' "$f" "$(stat -c %s "$path")" "$code" "$ms" "$rss"
done
