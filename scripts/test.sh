#!/usr/bin/env bash
# The test command: installs what the tests need beyond Rust, then runs
# `cargo test` with any extra arguments.
#
# The report test opens the HTML report in headless Chromium, taken from
# Debian's chromium package when it is missing (apt-get, through sudo when
# not root). Set TRAILHOUND_CHROMIUM to use another Chromium binary.
set -euo pipefail

cd "$(dirname "$0")/.."

if [[ -z "${TRAILHOUND_CHROMIUM:-}" ]] && ! command -v chromium > /dev/null; then
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  echo "installing Debian's chromium package for the report test" >&2
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq chromium > /dev/null
fi

exec cargo test "$@"
