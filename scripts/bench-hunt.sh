#!/usr/bin/env bash
# Times `trailhound hunt` with the whole built-in rule set over a store of at
# least 10 million events, next to plain scans of the same store in the same
# run, and prints Markdown rows for docs/benchmarks.md.
#
# Usage: scripts/bench-hunt.sh [CORPUS_DIR] [SIZE] [RUNS]
#   CORPUS_DIR  generated once if absent (default /var/tmp/trailhound-corpus-1500MB)
#   SIZE        compressed size to generate (default 1500MB, about 10.4 million
#               records at the generator's 1 GB ≈ 6.9 million records)
#   RUNS        repetitions of each measurement; the median is reported (default 3)
#
# The corpus includes the generator's attack scenario, so the hunt has
# findings to build. The plain scans are `stats` (reads every row) and a
# `timeline` whose event-name filter matches nothing (reads one column of
# every row group).
set -euo pipefail

cd "$(dirname "$0")/.."
corpus="${1:-/var/tmp/trailhound-corpus-1500MB}"
size="${2:-1500MB}"
runs="${3:-3}"
store="${corpus}.store"

cargo build --release --bins >&2
bin="${CARGO_TARGET_DIR:-target}/release"

if [[ ! -d "$corpus" ]]; then
  echo "generating $size corpus in $corpus" >&2
  "$bin/trailhound-corpus" --out "$corpus" --size "$size" --seed 7 --attack-scenario > "$corpus.report.json"
fi
if [[ ! -d "$store" ]]; then
  echo "ingesting into $store" >&2
  "$bin/trailhound" --quiet --store "$store" ingest "$corpus"
fi
"$bin/trailhound" --store "$store" stats --format json > "$store.stats.json"
events=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events"])' "$store.stats.json")
echo "the store contains $events distinct events" >&2

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Prints "seconds peak_rss_kib" of one run of the given command, output discarded.
measure() {
  local log
  log="$(mktemp)"
  /usr/bin/time -f '%e %M' -o "$log" "$@" > /dev/null 2>&1 || true
  # time(1) writes a status line first when the command exits non-zero, as
  # a timeline with no match does, so the figures are on the last line.
  tail -n 1 "$log"
  rm -f "$log"
}

declare -A wall rss
for name in hunt stats scan; do
  case "$name" in
    hunt) command=("$bin/trailhound" --quiet --store "$store" hunt --min-severity info --format jsonl) ;;
    stats) command=("$bin/trailhound" --quiet --store "$store" stats --format json) ;;
    scan) command=("$bin/trailhound" --quiet --store "$store" timeline --event-name NoSuchEventName --format jsonl) ;;
  esac
  results=()
  for _ in $(seq "$runs"); do
    results+=("$(measure "${command[@]}")")
  done
  wall[$name]=$(printf '%s\n' "${results[@]}" | awk '{ print $1 }' | median)
  rss[$name]=$(printf '%s\n' "${results[@]}" | awk '{ print $2 }' | median)
done

findings=$("$bin/trailhound" --quiet --store "$store" hunt --min-severity info --format jsonl | wc -l)
echo "| what | wall (s, median of $runs) | events/s | peak RSS |"
echo "|---|---|---|---|"
for name in hunt stats scan; do
  rate=$(echo "$events / ${wall[$name]}" | bc)
  echo "| $name | ${wall[$name]} | $rate | $(( ${rss[$name]} / 1024 )) MiB |"
done
echo
echo "hunt findings (all severities): $findings"
