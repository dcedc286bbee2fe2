#!/usr/bin/env bash
# Benchmarks/serve-load.sh [DIR] [SECONDS] [CONNECTIONS]   (defaults: ./.build-bench, 30, 64)
#
# Starts the release `intake serve` (--workers 0: uploads only) on a fresh data directory under DIR and runs wrk with
# Benchmarks/upload-4k.lua: single-file 4 KiB uploads from CONNECTIONS connections for SECONDS.
# Prints wrk's requests/s and latency distribution (wrk adds a "Non-2xx or 3xx responses" line
# when any upload was not answered 201), then the cost model in two lines: req/s, p50, p99, the
# server's CPU per request (from /proc), and its fsyncs, renames and file opens per request
# (counted by strace -c -f over a further 5 s of the same load, which strace slows).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=${1:-$PWD/.build-bench}
seconds=${2:-30}
connections=${3:-64}
command -v wrk >/dev/null || { echo "serve-load.sh needs wrk (apt-get install wrk)" >&2; exit 2; }
mkdir -p "$dir"
swift build -c release --product intake >/dev/null
intake=$(swift build -c release --show-bin-path)/intake
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data="$dir/load-data-$$"
"$intake" serve --port "$port" --data-dir "$data" --sniffers 8 --workers 0 >"$dir/load-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
cpu() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }  # utime + stime, in clock ticks
ticks=$(getconf CLK_TCK)
before=$(cpu)
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s Benchmarks/upload-4k.lua "http://127.0.0.1:$port" | tee "$dir/load-wrk.txt"
after=$(cpu)
requests=$(awk '/requests in/ { print $1 }' "$dir/load-wrk.txt")
# The same load for a few seconds under strace, which slows the server but counts its syscalls.
syscalls=
if command -v strace >/dev/null; then
    strace -c -f -e trace=fsync,fdatasync,sync_file_range,rename,renameat,renameat2,openat -o "$dir/load-strace.txt" -p "$server" &
    tracer=$!
    sleep 1
    wrk -t2 -c"$connections" -d5s -s Benchmarks/upload-4k.lua "http://127.0.0.1:$port" >"$dir/load-wrk-traced.txt"
    kill -INT $tracer; wait $tracer 2>/dev/null || true
    traced=$(awk '/requests in/ { print $1 }' "$dir/load-wrk-traced.txt")
    syscalls=$(awk -v n="$traced" '$NF ~ /^(fsync|fdatasync|sync_file_range|rename|renameat|renameat2|openat)$/ { calls = ($4 ~ /^[0-9]+$/ && $5 ~ /^[0-9]+$/) ? $4 : $4; printf "%s %.2f  ", $NF, $4 / n }' "$dir/load-strace.txt")
fi
awk -v r="$requests" -v b="$before" -v a="$after" -v t="$ticks" -v s="$seconds" -v sys="$syscalls" '
    /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 } /Non-2xx/ { errors = $NF }
    END { printf "== %.0f req/s  p50 %s  p99 %s  server CPU %.0f us/request  non-2xx %d\n== per request: %s\n", r / s, p50, p99, (a - b) / t / r * 1e6, errors, sys }' "$dir/load-wrk.txt"
