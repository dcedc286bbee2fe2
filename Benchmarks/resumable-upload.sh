#!/usr/bin/env bash
# Benchmarks/resumable-upload.sh [DIR] [RUNS]   (defaults: ./.build-bench, 2)
#
# A 1 GiB file to the release `intake serve` three ways, in turn, RUNS times: one `POST /uploads`
# (curl -F), tus in 64 MiB chunks with a lean client (below: one connection, each chunk sent from
# the page cache with sendfile, as curl sends a file), and tus with tuspy (pip install tuspy; it
# reads each chunk into memory, then sends it on a new connection). Prints MiB/s of each, the
# ratios (tus ÷ POST; issue 15's goal is 0.9 or more) and the server's peak RSS (VmHWM).
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
import base64, http.client, os, subprocess, sys, time, urllib.parse
from tusclient import client as tus
base, path, pid, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def peak():
    return next(int(l.split()[1]) // 1024 for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM"))
def lean_tus(base, path, chunk=64 << 20):
    """tus creation, then PATCHes on one connection, each chunk sent with sendfile."""
    size = os.path.getsize(path)
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port)
    b64 = lambda text: base64.b64encode(text.encode()).decode()
    connection.request("POST", "/files/", headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(size),
                                                   "Upload-Metadata": f"filename {b64('big.txt')},filetype {b64('text/plain')}"})
    created = connection.getresponse()
    created.read()
    location = created.getheader("Location")
    offset = 0
    with open(path, "rb") as file:
        while offset < size:
            count = min(chunk, size - offset)
            connection.putrequest("PATCH", location)
            for name, value in (("Tus-Resumable", "1.0.0"), ("Upload-Offset", str(offset)),
                                ("Content-Type", "application/offset+octet-stream"), ("Content-Length", str(count))):
                connection.putheader(name, value)
            connection.endheaders()
            connection.sock.sendfile(file, offset, count)
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 204, answer.status
            offset = int(answer.getheader("Upload-Offset"))
    connection.close()
for run in range(1, runs + 1):
    subprocess.run(["sync"])
    start = time.monotonic()
    code = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-F", f"file=@{path};type=text/plain", base + "/uploads"],
                          capture_output=True, text=True).stdout
    post = time.monotonic() - start
    subprocess.run(["sync"])
    start = time.monotonic()
    lean_tus(base, path)
    lean = time.monotonic() - start
    subprocess.run(["sync"])
    start = time.monotonic()
    tus.TusClient(base + "/files/").uploader(path, chunk_size=64 << 20, metadata={"filename": "big.txt", "filetype": "text/plain"}).upload()
    resumable = time.monotonic() - start
    print(f"run {run}: POST /uploads {1024 / post:4.0f} MiB/s (HTTP {code})   tus, lean client {1024 / lean:4.0f} MiB/s ({post / lean:.2f} of POST)   "
          f"tus, tuspy {1024 / resumable:4.0f} MiB/s ({post / resumable:.2f} of POST)   server peak RSS {peak()} MiB", flush=True)
PY
