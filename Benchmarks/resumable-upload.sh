#!/usr/bin/env bash
# Benchmarks/resumable-upload.sh [DIR] [RUNS]   (defaults: ./.build-bench, 2)
#
# A 1 GiB file to the release `intake serve` two ways, alternating, RUNS times: one `POST /uploads`
# (curl -F) and tus with tuspy in 64 MiB chunks (pip install tuspy). Prints MiB/s of each, their
# ratio (tus ÷ POST; issue 15's goal is 0.9 or more) and the server's peak RSS (VmHWM).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=${1:-$PWD/.build-bench}
runs=${2:-2}
python3 -c 'import tusclient' 2>/dev/null || { echo "resumable-upload.sh needs tuspy (pip install tuspy)" >&2; exit 2; }
mkdir -p "$dir"
swift build -c release --product intake >/dev/null
intake=$(swift build -c release --show-bin-path)/intake
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data="$dir/resumable-data-$$"
file="$dir/resumable-1GiB.txt"
# Text, so that the upload is accepted and extracted like a document (base64 lines of random bytes);
# the last `head` ends the pipe early, which pipefail would take for a failure.
if [[ $(stat -c %s "$file" 2>/dev/null || echo 0) != 1073741824 ]]; then
    { head -c 1073741824 /dev/urandom | base64 -w 76 | head -c 1073741824 >"$file"; } || true
fi
"$intake" serve --port "$port" --data-dir "$data" --workers 0 >"$dir/resumable-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
python3 - "http://127.0.0.1:$port" "$file" "$server" "$runs" <<'PY'
import subprocess, sys, time
from tusclient import client as tus
base, path, pid, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def peak():
    return next(int(l.split()[1]) // 1024 for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM"))
for run in range(1, runs + 1):
    subprocess.run(["sync"])
    start = time.monotonic()
    code = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-F", f"file=@{path};type=text/plain", base + "/uploads"],
                          capture_output=True, text=True).stdout
    post = time.monotonic() - start
    subprocess.run(["sync"])
    start = time.monotonic()
    tus.TusClient(base + "/files/").uploader(path, chunk_size=64 << 20, metadata={"filename": "big.txt", "filetype": "text/plain"}).upload()
    resumable = time.monotonic() - start
    print(f"run {run}: POST /uploads {1024 / post:6.0f} MiB/s (HTTP {code})   tus {1024 / resumable:6.0f} MiB/s   "
          f"tus ÷ POST {post / resumable:.2f}   server peak RSS {peak()} MiB", flush=True)
PY
