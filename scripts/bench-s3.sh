#!/usr/bin/env bash
# Measures `trailhound ingest` of one generated AWSLogs tree from disk and
# from a local S3 server (examples/s3_serve.rs, s3s-fs on 127.0.0.1) in the
# same run, and prints Markdown rows for docs/benchmarks.md.
#
# Usage: scripts/bench-s3.sh [SIZE] [RUNS] [CONCURRENCY]
#   SIZE         compressed size of the corpus to generate (default 100MB)
#   RUNS         repetitions of each ingest; the median is reported (default 3)
#   CONCURRENCY  --concurrency of the S3 ingest (default 32)
# PROFILE=debug in the environment measures the debug build instead of the
# release build, which is slower but compiles much faster. BIN_DIR=DIR skips
# the build and takes trailhound, trailhound-corpus and examples/s3_serve
# from DIR, for a target folder that other builds share and overwrite.
#
# The server runs on the same machine and shares its cores with trailhound,
# so the S3 numbers include the server's CPU time. No request leaves
# 127.0.0.1, and the AWS configuration of the machine is not read.
set -euo pipefail

cd "$(dirname "$0")/.."
size="${1:-100MB}"
runs="${2:-3}"
concurrency="${3:-32}"
work="$(mktemp -d /var/tmp/trailhound-bench-s3.XXXXXX)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2> /dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

profile="${PROFILE:-release}"
if [[ -n "${BIN_DIR:-}" ]]; then
  bin="$BIN_DIR"
elif [[ "$profile" == release ]]; then
  cargo build --release --bins --example s3_serve >&2
  bin="${CARGO_TARGET_DIR:-target}/release"
else
  cargo build --bins --example s3_serve >&2
  bin="${CARGO_TARGET_DIR:-target}/debug"
fi

mkdir -p "$work/root/bench"
"$bin/trailhound-corpus" --out "$work/root/bench/corpus" --size "$size" --seed 7 > "$work/report.json"
corpus="$work/root/bench/corpus"

"$bin/examples/s3_serve" "$work/root" > "$work/endpoint" &
server_pid=$!
for _ in $(seq 50); do
  [[ -s "$work/endpoint" ]] && break
  sleep 0.1
done
endpoint="$(head -n 1 "$work/endpoint")"

# Test credentials of the local server; nothing from ~/.aws is read.
export AWS_ACCESS_KEY_ID=AKIDLOCALSERVE000001
export AWS_SECRET_ACCESS_KEY=local-serve-secret-not-for-aws
export AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true
export NO_PROXY=127.0.0.1,localhost
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy

objects=$(find "$corpus" -type f | wc -l)
compressed_bytes=$(find "$corpus" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Runs one ingest into a fresh store; prints "seconds peak_rss_kib".
measure() {
  local store="$1"
  shift
  rm -rf "$store"
  /usr/bin/time -f '%e %M' -o "$work/time" "$bin/trailhound" --quiet --store "$store" ingest "$@" >&2
  cat "$work/time"
}

: > "$work/disk"
: > "$work/s3"
# Disk and S3 alternate, so both see the same load on the shared machine.
for _ in $(seq "$runs"); do
  measure "$work/store-disk" "$corpus" >> "$work/disk"
  measure "$work/store-s3" "s3://bench/corpus" --endpoint-url "$endpoint" --path-style \
    --concurrency "$concurrency" >> "$work/s3"
done

# Data files differ with the order objects arrive in, so only counts are compared.
counts='{events, rows, sources, failed_sources, partial_sources, digest_sources}'
rows_disk=$("$bin/trailhound" --store "$work/store-disk" stats --format json | jq -c "$counts")
rows_s3=$("$bin/trailhound" --store "$work/store-s3" stats --format json | jq -c "$counts")
if [[ "$rows_disk" != "$rows_s3" ]]; then
  echo "the stores differ: disk $rows_disk, S3 $rows_s3" >&2
  exit 1
fi
records=$(jq .rows <<< "$rows_disk")

echo "corpus: $objects objects, $compressed_bytes bytes compressed, $records rows; $profile build; endpoint $endpoint"
echo
echo "| source | wall (s, median of $runs) | objects/s | MiB/s compressed | records/s | peak RSS |"
echo "|---|---|---|---|---|---|"
for source in disk s3; do
  wall=$(awk '{ print $1 }' "$work/$source" | median)
  rss=$(awk '{ print $2 }' "$work/$source" | median)
  label="disk folder"
  [[ "$source" == s3 ]] && label="s3s-fs on 127.0.0.1, --concurrency $concurrency"
  awk -v label="$label" -v wall="$wall" -v rss="$rss" -v objects="$objects" \
    -v bytes="$compressed_bytes" -v records="$records" 'BEGIN {
      printf "| %s | %.1f | %.0f | %.1f | %.0f | %.0f MiB |\n",
        label, wall, objects / wall, bytes / wall / 1048576, records / wall, rss / 1024
    }'
done
