#!/usr/bin/env bash
# Times `trailhound lineage` and `timeline --follow` on a store next to the
# same queries written in SQL and run by DuckDB over the same Parquet files,
# in the same run, and prints Markdown rows for docs/benchmarks.md.
#
# Usage: scripts/bench-lineage.sh STORE KEY [RUNS]
#   STORE  a trailhound store (e.g. one built from a corpus made with
#          `trailhound-corpus --attack-scenario`)
#   KEY    the root access key
#   RUNS   repetitions; the median wall time is reported (default 5)
#
# Needs the Python package duckdb (`pip install duckdb`). Wall times include
# process start-up for both tools (for DuckDB, Python's too).
set -euo pipefail

cd "$(dirname "$0")/.."
store="$1"
key="$2"
runs="${3:-5}"
bin="${CARGO_TARGET_DIR:-target}/release/trailhound"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

wall() {
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

measure() {
  local label="$1"
  shift
  "$@" > /dev/null # warm the page cache
  local times=()
  for _ in $(seq "$runs"); do
    times+=("$(wall "$@")")
  done
  printf '| %s | %.3f s |\n' "$label" "$(printf '%s\n' "${times[@]}" | median)"
}

events=$("$bin" --store "$store" stats --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
echo "store: $store ($events distinct events), root key $key, median of $runs runs"
echo
echo "| query | median wall |"
echo "|---|---|"
measure "trailhound lineage --format json" "$bin" --store "$store" lineage --access-key "$key" --format json
measure "DuckDB lineage (recursive CTE)" python3 scripts/duckdb_lineage.py "$store" "$key" lineage
measure "trailhound timeline --follow --format jsonl" "$bin" --store "$store" timeline --access-key "$key" --follow --format jsonl
measure "DuckDB follow timeline (recursive CTE + join)" python3 scripts/duckdb_lineage.py "$store" "$key" follow
