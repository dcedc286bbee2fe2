#!/usr/bin/env bash
# Benchmarks/inspect-memory.sh [MIB...]   (default: 64 1024)
#
# Shows that parsing streams: for each size, writes a body holding one file part of that many
# MiB (random data) and a field, runs the release `intake inspect` on it, and prints the peak RSS
# and the throughput. Memory must not grow with the body.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(64 1024)

swift build -c release --product intake >/dev/null
intake=$(swift build -c release --show-bin-path)/intake
work=$(mktemp -d /tmp/intake-memory-XXXXXX)
trap 'rm -rf "$work"' EXIT
boundary=----IntakeMemoryBench7d3f9a

printf '%-8s %14s %12s %10s\n' "MiB" "peak RSS KiB" "seconds" "MB/s"
for mib in "${sizes[@]}"; do
    body="$work/body-$mib.bin"
    {
        printf -- '--%s\r\nContent-Disposition: form-data; name="title"\r\n\r\nmemory test\r\n' "$boundary"
        printf -- '--%s\r\nContent-Disposition: form-data; name="doc"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n' "$boundary"
        head -c "$((mib * 1024 * 1024))" /dev/urandom
        printf -- '\r\n--%s--\r\n' "$boundary"
    } >"$body"
    start=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$work/rss" "$intake" inspect --boundary="$boundary" "$body" >"$work/out"
    end=$(date +%s.%N)
    grep -q '"size":'"$((mib * 1024 * 1024))" "$work/out" || { echo "wrong size for $mib MiB" >&2; exit 1; }
    awk -v m="$mib" -v r="$(cat "$work/rss")" -v a="$start" -v b="$end" \
        'BEGIN { s = b - a; printf "%-8s %14s %12.3f %10.0f\n", m, r, s, m * 1048576 / 1e6 / s }'
    rm -f "$body"
done
