#!/usr/bin/env bash
# Measures `trailhound ingest` on a generated AWSLogs corpus next to the
# decompression floor of the same files, and prints Markdown rows for
# docs/benchmarks.md.
#
# Usage: scripts/bench-corpus.sh [CORPUS_DIR] [SIZE] [RUNS]
#   CORPUS_DIR  generated once if absent (default /var/tmp/trailhound-corpus-1GB)
#   SIZE        compressed size to generate (default 1GB)
#   RUNS        ingest and floor repetitions; the median is reported (default 3)
#
# The floor is two parallel `gzip -dc` streams (and `pigz -dc` when installed)
# over the same .json.gz files, each stream taking half of them: the fastest
# a 2-core machine can merely decompress this input.
set -euo pipefail

cd "$(dirname "$0")/.."
corpus="${1:-/var/tmp/trailhound-corpus-1GB}"
size="${2:-1GB}"
runs="${3:-3}"
work="$(mktemp -d /var/tmp/trailhound-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT

cargo build --release --bins >&2
bin="${CARGO_TARGET_DIR:-target}/release"

if [[ ! -d "$corpus" ]]; then
  echo "generating $size corpus in $corpus" >&2
  "$bin/trailhound-corpus" --out "$corpus" --size "$size" --seed 7 > "$work/report.json"
  cp "$work/report.json" "$corpus.report.json"
fi

find "$corpus" -name '*.json.gz' | sort > "$work/all"
total=$(wc -l < "$work/all")
split -n l/2 "$work/all" "$work/half."
compressed_bytes=$(xargs -a "$work/all" cat | wc -c)
uncompressed_bytes=$(xargs -a "$work/all" gzip -dc | wc -c)

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

time_floor() {
  local tool="$1"
  local start end
  start=$(date +%s.%N)
  xargs -a "$work/half.aa" "$tool" -dc > /dev/null &
  xargs -a "$work/half.ab" "$tool" -dc > /dev/null &
  wait
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

sync
floor_gzip=$(for _ in $(seq "$runs"); do time_floor gzip; done | median)
floor_pigz=""
if command -v pigz > /dev/null; then
  floor_pigz=$(for _ in $(seq "$runs"); do time_floor pigz; done | median)
fi

ingest_times=()
ingest_rss=()
for run in $(seq "$runs"); do
  rm -rf "$work/store"
  /usr/bin/time -f '%e %M' -o "$work/time.$run" \
    "$bin/trailhound" --quiet --store "$work/store" ingest "$corpus" || true
  read -r seconds rss_kib < "$work/time.$run"
  ingest_times+=("$seconds")
  ingest_rss+=("$rss_kib")
done
ingest_median=$(printf '%s\n' "${ingest_times[@]}" | median)
rss_max=$(printf '%s\n' "${ingest_rss[@]}" | sort -n | tail -1)

stats=$("$bin/trailhound" --store "$work/store" stats --format json)
rows=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"])')
events=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
store_bytes=$(du -sb "$work/store" | cut -f1)

machine="$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
mib() { echo "scale=1; $1 / 1048576" | bc -l; }
rate() { echo "scale=1; $1 / $2" | bc -l; }

cat <<REPORT
corpus: $corpus ($total gzip objects, $(mib "$compressed_bytes") MiB compressed, $(mib "$uncompressed_bytes") MiB JSON, $rows rows, $events distinct events)
machine: $machine
runs: $runs (median wall time; peak RSS is the largest of the runs)

| what | wall (s) | records/s | MiB/s compressed | MiB/s JSON | peak RSS |
|---|---|---|---|---|---|
| floor: 2 × gzip -dc | $floor_gzip | | $(rate "$(mib "$compressed_bytes")" "$floor_gzip") | $(rate "$(mib "$uncompressed_bytes")" "$floor_gzip") | |
REPORT
if [[ -n "$floor_pigz" ]]; then
  echo "| floor: 2 × pigz -dc | $floor_pigz | | $(rate "$(mib "$compressed_bytes")" "$floor_pigz") | $(rate "$(mib "$uncompressed_bytes")" "$floor_pigz") | |"
fi
echo "| trailhound ingest | $ingest_median | $(rate "$rows" "$ingest_median") | $(rate "$(mib "$compressed_bytes")" "$ingest_median") | $(rate "$(mib "$uncompressed_bytes")" "$ingest_median") | $(echo "scale=0; $rss_max / 1024" | bc) MiB |"
echo
echo "ingest speed as a share of the gzip floor: $(echo "scale=0; 100 * $floor_gzip / $ingest_median" | bc)%"
echo "store size: $(mib "$store_bytes") MiB"
