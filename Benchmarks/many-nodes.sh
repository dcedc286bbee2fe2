#!/usr/bin/env bash
# Benchmarks/many-nodes.sh [DIR] [SECONDS]   (defaults: ./.build-bench, 20)
#
# The figures of a deployment on PostgreSQL beside the embedded SQLite store, on a private
# PostgreSQL cluster this script starts (.ci/postgres.sh) and the release build:
#   1. claims per second of 8 workers with empty work (store-bench), SQLite and PostgreSQL;
#   2. 4 KiB uploads per second from 64 connections (wrk, Benchmarks/upload-4k.lua) on one node
#      with SQLite, one node with PostgreSQL, and two nodes on one PostgreSQL (32 connections each,
#      at once, one data directory);
#   3. a 1 GiB upload (curl -F) with SQLite and with PostgreSQL, beside `dd conv=fsync`.
# Nodes run with --workers 0 (uploads only), as Benchmarks/serve-load.sh does.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. Benchmarks/lib.sh
. .ci/postgres.sh
dir=${1:-$PWD/.build-bench}
seconds=${2:-20}
command -v wrk >/dev/null || { echo "many-nodes.sh needs wrk (apt-get install wrk)" >&2; exit 2; }
mkdir -p "$dir"
swift build -c release --product intake >/dev/null
swift build -c release --product store-bench >/dev/null
bin=$(swift build -c release --show-bin-path)
cluster=$(mktemp -d /tmp/intake-bench-postgres-XXXXXX)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; postgres_stop; rm -rf "$cluster" "$dir"/nodes-*; }
trap cleanup EXIT
postgres_start "$cluster"
admin() { PGPASSWORD=${POSTGRES_URL#*intake:} PGPASSWORD=${PGPASSWORD%%@*} psql -q -h 127.0.0.1 -p "$POSTGRES_PORT" -U intake -d postgres -c "$1"; }
fresh_database() { admin "DROP DATABASE IF EXISTS $1 WITH (FORCE)"; admin "CREATE DATABASE $1"; echo "${POSTGRES_URL%/postgres}/$1"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

echo "== 1. the queue: claims per second, 8 workers, empty work"
"$bin/store-bench" "$(fresh_database claims)" 2>&1 | grep claims

# start_node PORT DATA [DATABASE_URL]: a release node, uploads only; waits until it answers.
start_node() {
    "$bin/intake" serve --port "$1" --data-dir "$2" --workers 0 --sniffers 8 ${3:+--database "$3"} >>"$dir/nodes-$1.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.1; done
    echo "the node on port $1 did not start" >&2; exit 1
}
stop_nodes() { kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true; pids=(); }
requests_per_second() { awk '/Requests\/sec/ { print $2 }' "$1"; }
errors() { grep -E "Non-2xx|Socket errors" "$1" || true; }

echo "== 2. 4 KiB uploads, 64 connections, ${seconds} s"
port=$(free_port)
start_node "$port" "$dir/nodes-sqlite"
wrk -t2 -c64 -d"${seconds}s" -s Benchmarks/upload-4k.lua "http://127.0.0.1:$port" >"$dir/nodes-wrk-sqlite.txt"
stop_nodes
printf '%-28s %10s req/s %s\n' "one node, SQLite" "$(requests_per_second "$dir/nodes-wrk-sqlite.txt")" "$(errors "$dir/nodes-wrk-sqlite.txt")"

database=$(fresh_database uploads_one)
port=$(free_port)
start_node "$port" "$dir/nodes-pg1" "$database"
wrk -t2 -c64 -d"${seconds}s" -s Benchmarks/upload-4k.lua "http://127.0.0.1:$port" >"$dir/nodes-wrk-pg1.txt"
stop_nodes
printf '%-28s %10s req/s %s\n' "one node, PostgreSQL" "$(requests_per_second "$dir/nodes-wrk-pg1.txt")" "$(errors "$dir/nodes-wrk-pg1.txt")"

database=$(fresh_database uploads_two)
port_a=$(free_port)
port_b=$(free_port)
start_node "$port_a" "$dir/nodes-pg2" "$database"
start_node "$port_b" "$dir/nodes-pg2" "$database"
wrk -t1 -c32 -d"${seconds}s" -s Benchmarks/upload-4k.lua "http://127.0.0.1:$port_a" >"$dir/nodes-wrk-pg2a.txt" &
first=$!
wrk -t1 -c32 -d"${seconds}s" -s Benchmarks/upload-4k.lua "http://127.0.0.1:$port_b" >"$dir/nodes-wrk-pg2b.txt"
wait "$first"
stop_nodes
total=$(awk -v a="$(requests_per_second "$dir/nodes-wrk-pg2a.txt")" -v b="$(requests_per_second "$dir/nodes-wrk-pg2b.txt")" 'BEGIN { printf "%.2f", a + b }')
printf '%-28s %10s req/s %s %s\n' "two nodes, one PostgreSQL" "$total" "$(errors "$dir/nodes-wrk-pg2a.txt")" "$(errors "$dir/nodes-wrk-pg2b.txt")"

echo "== 3. a 1 GiB upload beside dd conv=fsync (3 runs each, alternating; the disk is noisy)"
make_text_file 1024 "$dir/nodes-1g.txt"
printf '%-12s %4s %10s %12s %8s\n' store run "dd MB/s" "upload MB/s" "÷ dd"
for run in 1 2 3; do
    for store in sqlite postgresql; do
        port=$(free_port)
        if [[ $store == sqlite ]]; then start_node "$port" "$dir/nodes-big-sqlite-$run"; else start_node "$port" "$dir/nodes-big-pg-$run" "$(fresh_database big)"; fi
        dd=$(dd_seconds "$dir" 1024)
        upload=$(curl -s -o /dev/null -w '%{time_total}' -F "doc=@$dir/nodes-1g.txt;type=text/plain" "http://127.0.0.1:$port/uploads")
        stop_nodes
        rm -rf "$dir/nodes-big-"*
        awk -v n="$store" -v r="$run" -v d="$dd" -v s="$upload" 'BEGIN { b = 1024 * 1048576 / 1e6; printf "%-12s %4s %10.0f %12.0f %7.0f%%\n", n, r, b / d, b / s, 100 * d / s }' | tee -a "$dir/nodes-big.txt"
    done
done
python3 - "$dir/nodes-big.txt" <<'PY'
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
    store, _, _, upload, _ = line.split()
    rates.setdefault(store, []).append(float(upload))
for store, values in rates.items():
    print(f"{store:<12} median upload {statistics.median(values):.0f} MB/s")
if "sqlite" in rates and "postgresql" in rates:
    print(f"postgresql ÷ sqlite: {100 * statistics.median(rates['postgresql']) / statistics.median(rates['sqlite']):.0f}%")
PY
