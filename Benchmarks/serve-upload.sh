#!/usr/bin/env bash
# Benchmarks/serve-upload.sh [DIR] [MIB...]   (defaults: ./.build-bench, 64 1024)
#
# Starts the release `intake serve` (--workers 0: uploads only) with its data directory in DIR, uploads one file of each
# size with `curl -F` over loopback, and prints MB/s beside `dd conv=fsync` of the same size on
# the same disk, and the server's peak RSS (VmHWM) after each upload: it must stay flat.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. Benchmarks/lib.sh
dir=${1:-$PWD/.build-bench}
shift || true
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(64 1024)
mkdir -p "$dir"
swift build -c release --product intake >/dev/null
intake=$(swift build -c release --show-bin-path)/intake
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data="$dir/serve-data-$$"
"$intake" serve --port "$port" --data-dir "$data" --workers 0 >"$dir/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data" "$dir"/upload-*.txt "$dir/dd.bin"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

printf '%-6s %10s %12s %10s %16s\n' MiB "dd MB/s" "upload MB/s" "÷ dd" "server VmHWM KiB"
for mib in "${sizes[@]}"; do
    file="$dir/upload-$mib.txt"
    make_text_file "$mib" "$file"
    dd_seconds=$(dd_seconds "$dir" "$mib")
    seconds=$(curl -s -o /dev/null -w '%{time_total}' -F "doc=@$file;type=text/plain" "http://127.0.0.1:$port/uploads")
    hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$server/status")
    awk -v m="$mib" -v d="$dd_seconds" -v s="$seconds" -v h="$hwm" 'BEGIN {
        b = m * 1048576 / 1e6; printf "%-6s %10.0f %12.0f %9.0f%% %16s\n", m, b / d, b / s, 100 * d / s, h }'
    rm -f "$file"
done
