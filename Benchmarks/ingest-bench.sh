#!/usr/bin/env bash
# Benchmarks/ingest-bench.sh [DIR]   (default: a new directory under ./.build-bench)
#
# On the disk that holds DIR: dd writes 1 GiB with conv=fsync (the disk's ceiling), then
# ingest-bench ingests a 1 GiB single-file body, dd runs again, and ingest-bench ingests a body
# of 2,000 x 16 KiB files, each into a fresh data directory. Prints dd's MB/s and one JSON line
# per scenario (MB/s, peak RSS growth).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=${1:-$PWD/.build-bench}
mkdir -p "$dir"
swift build -c release --product ingest-bench >/dev/null
bench=$(swift build -c release --show-bin-path)/ingest-bench

run_dd() {
    rm -f "$dir/dd.bin"
    echo "dd: $(dd if=/dev/zero of="$dir/dd.bin" bs=1M count=1024 conv=fsync 2>&1 | tail -n 1)"
    rm -f "$dir/dd.bin"
}

# This machine's virtual disk is much faster on blocks it has just written, so dd runs before
# and after the 1 GiB ingest: quote the ingest beside both.
run_dd
for scenario in big many; do
    data="$dir/data-$scenario-$$"
    "$bench" "$data" "$scenario" 2>/dev/null
    rm -rf "$data"
    [[ $scenario == big ]] && run_dd
done
