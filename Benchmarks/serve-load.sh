#!/usr/bin/env bash
# Benchmarks/serve-load.sh [DIR] [SECONDS] [CONNECTIONS]   (defaults: ./.build-bench, 30, 64)
#
# Starts the release `intake serve` (--workers 0: uploads only) on a fresh data directory under DIR and runs wrk with
# Benchmarks/upload-4k.lua: single-file 4 KiB uploads from CONNECTIONS connections for SECONDS.
# Prints wrk's requests/s and latency distribution; wrk adds a "Non-2xx or 3xx responses" line
# when any upload was not answered 201.
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
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s Benchmarks/upload-4k.lua "http://127.0.0.1:$port"
