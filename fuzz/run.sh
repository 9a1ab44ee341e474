#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 600), two at a time.
# Needs the nightly toolchain and cargo-fuzz:
#   rustup toolchain install nightly && cargo install cargo-fuzz
# Crashes land in fuzz/artifacts/<target>/; minimize one with
#   cargo +nightly fuzz tmin <target> <file>
set -u
cd "$(dirname "$0")"
seconds=${1:-600}
targets=(phone phone_diff email keyword snapshot journal csv_import)
cargo +nightly fuzz build || exit 1
run() {
  mkdir -p "corpus/$1"
  cargo +nightly fuzz run "$1" "corpus/$1" -- -max_total_time="$seconds" -rss_limit_mb=4096 \
    > "logs/$1.log" 2>&1
  echo "$1: exit $? ($(grep -c 'SUMMARY' "logs/$1.log") crash summaries)"
}
mkdir -p logs
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  run "${targets[i]}" &
  if ((i + 1 < ${#targets[@]})); then run "${targets[i + 1]}" & fi
  wait
done
