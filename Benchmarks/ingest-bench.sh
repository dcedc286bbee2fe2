#!/usr/bin/env bash
# Benchmarks/ingest-bench.sh [DIR]   (default: a new directory under ./.build-bench)
#
# On the disk that holds DIR: dd writes 1 GiB with conv=fsync (the disk's ceiling), then
# ingest-bench ingests a 1 GiB single-file body and a body of 2,000 x 16 KiB files into fresh
# data directories. Prints dd's MB/s and one JSON line per scenario (MB/s, peak RSS growth).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=${1:-$PWD/.build-bench}
mkdir -p "$dir"
swift build -c release --product ingest-bench >/dev/null
bench=$(swift build -c release --show-bin-path)/ingest-bench

rm -f "$dir/dd.bin"
dd_line=$(dd if=/dev/zero of="$dir/dd.bin" bs=1M count=1024 conv=fsync 2>&1 | tail -n 1)
rm -f "$dir/dd.bin"
echo "dd: $dd_line"

for scenario in big many; do
    data="$dir/data-$scenario"
    rm -rf "$data"
    "$bench" "$data" "$scenario"
    rm -rf "$data"
done
