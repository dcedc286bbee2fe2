#!/usr/bin/env bash
# Benchmarks/ingest-cli.sh [DIR] [FILES] [MIB...]   (defaults: ./.build-bench, 10000, 64 1024)
#
# Starts the release `intake serve` (no knowledge-base workers: this measures uploading; see
# kb-bench.sh for processing) with its data directory in DIR and runs the release
# `intake ingest` against it over loopback:
#   - FILES distinct 4 KiB text files with --concurrency 8: files/s, and the CLI's peak RSS;
#   - one file of each MIB size: MB/s (hashing pass included) beside `dd conv=fsync` of the same
#     size on the same disk, and the CLI's peak RSS, which must stay flat.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. Benchmarks/lib.sh
dir=${1:-$PWD/.build-bench}
files=${2:-10000}
shift 2 || shift $#
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(64 1024)
mkdir -p "$dir"
swift build -c release --product intake >/dev/null
intake=$(swift build -c release --show-bin-path)/intake
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data="$dir/ingest-data-$$"
small="$dir/ingest-small-$$"
"$intake" serve --port "$port" --data-dir "$data" --sniffers 8 --workers 0 >"$dir/ingest-serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data" "$small" "$dir"/ingest-big-*.txt "$dir/dd.bin"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

python3 - "$small" "$files" <<'PY'
import os, sys
os.makedirs(sys.argv[1], exist_ok=True)
filler = ("knowledge base text " * 210)[: 4096 - 24]
for i in range(int(sys.argv[2])):
    folder = os.path.join(sys.argv[1], f"d{i // 1000:02d}")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"note-{i:05d}.txt"), "w") as f:
        f.write(f"{i:023d}\n" + filler)
PY
sync
/usr/bin/time -f '%e %M' -o "$dir/ingest-time.txt" "$intake" ingest "$small" --server "http://127.0.0.1:$port" --concurrency 8 --json >"$dir/ingest-small.jsonl"
read -r seconds rss <"$dir/ingest-time.txt"
uploaded=$(tail -1 "$dir/ingest-small.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["uploaded"])')
awk -v n="$files" -v u="$uploaded" -v s="$seconds" -v r="$rss" 'BEGIN {
    printf "%d files of 4 KiB, --concurrency 8: %d uploaded in %.1f s = %.0f files/s; CLI peak RSS %d KiB\n", n, u, s, u / s, r }'

printf '%-6s %10s %12s %10s %16s\n' MiB "dd MB/s" "ingest MB/s" "÷ dd" "CLI peak RSS KiB"
for mib in "${sizes[@]}"; do
    file="$dir/ingest-big-$mib.txt"
    make_text_file "$mib" "$file"
    sync
    dd_seconds=$(dd_seconds "$dir" "$mib")
    sync
    /usr/bin/time -f '%e %M' -o "$dir/ingest-time.txt" "$intake" ingest "$file" --server "http://127.0.0.1:$port" >/dev/null
    read -r seconds rss <"$dir/ingest-time.txt"
    awk -v m="$mib" -v d="$dd_seconds" -v s="$seconds" -v r="$rss" 'BEGIN {
        b = m * 1048576 / 1e6; printf "%-6s %10.0f %12.0f %9.0f%% %16s\n", m, b / d, b / s, 100 * d / s, r }'
    rm -f "$file"
done
