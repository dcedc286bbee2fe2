#!/usr/bin/env bash
# Tests/shell/server-killed.sh INTAKE_BINARY
#
# `intake serve` killed with SIGKILL while 8 clients upload without pause (so that uploads share
# group commits): after a restart on the same data directory every upload that was answered 201
# is there with its bytes, every recorded document's content can be read, and tmp/ is empty.
# Ends with "N passed, M failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
intake=${1:?usage: server-killed.sh INTAKE_BINARY}
work=$(mktemp -d /tmp/intake-killed-XXXXXX)
port=$(free_port)
base=http://127.0.0.1:$port
server=
client=
cleanup() {
    [[ -z $client ]] || kill "$client" 2>/dev/null
    [[ -z $server ]] || kill "$server" 2>/dev/null
    wait $server $client 2>/dev/null
    [[ $failed -eq 0 ]] && rm -rf "$work"
}
trap cleanup EXIT
start() {
    "$intake" serve --port "$port" --data-dir "$work/data" --workers 0 >>"$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 200); do curl -fs "$base/healthz" >/dev/null && return 0; sleep 0.05; done
    return 1
}
check "intake serve starts" start

# 8 clients upload distinct 2 KiB text files as fast as they are answered, each writing a line
# (document id, SHA-256, the text) once its 201 has arrived, until the server is gone.
python3 - "$port" "$work/answered.jsonl" <<'PY' &
import hashlib, http.client, json, sys, threading
port, path = int(sys.argv[1]), sys.argv[2]
out, lock = open(path, "w"), threading.Lock()
def client(number):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for sequence in range(100000):
        text = f"client {number} upload {sequence}\n" + "knowledge " * 200
        boundary = "killedBoundary7MA4YWxk"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"n{number}-{sequence}.txt\"\r\n"
                f"Content-Type: text/plain\r\n\r\n{text}\r\n--{boundary}--\r\n").encode()
        try:
            connection.request("POST", "/uploads", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
            response = connection.getresponse()
            answer = response.read()
        except Exception:
            return
        if response.status != 201:
            continue
        document = json.loads(answer)["documents"][0]
        line = json.dumps({"id": document["id"], "sha256": document["sha256"], "text": text,
                           "expected": hashlib.sha256(text.encode()).hexdigest()})
        with lock:
            out.write(line + "\n")
            out.flush()
threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
for thread in threads: thread.start()
for thread in threads: thread.join()
PY
client=$!
answered() { [[ -f $work/answered.jsonl ]] && wc -l <"$work/answered.jsonl" || echo 0; }
for _ in $(seq 1 600); do (( $(answered) >= 400 )) && break; sleep 0.05; done
check "400 uploads were answered 201 before the kill" test "$(answered)" -ge 400
kill -KILL "$server"
wait "$server" 2>/dev/null
server=
wait "$client" 2>/dev/null
client=
echo "     $(answered) uploads answered 201 in all"
check "intake serve starts again on the same data directory" start

python3 - "$base" "$work/answered.jsonl" "$work/verdict.json" <<'PY'
import json, sys, urllib.request
base, path, verdict_path = sys.argv[1:4]
answered = [json.loads(line) for line in open(path)]
missing, wrong_bytes, wrong_digest = [], [], []
for entry in answered:
    try:
        document = json.load(urllib.request.urlopen(f"{base}/documents/{entry['id']}"))
        content = urllib.request.urlopen(f"{base}/documents/{entry['id']}/content").read().decode()
    except Exception:
        missing.append(entry["id"]); continue
    if document["sha256"] != entry["expected"] or entry["sha256"] != entry["expected"]: wrong_digest.append(entry["id"])
    if content != entry["text"]: wrong_bytes.append(entry["id"])
# Every recorded document, answered or not (a commit the kill cut off from its answer), has its bytes.
listed, unreadable, cursor = 0, [], None
while True:
    page = json.load(urllib.request.urlopen(f"{base}/documents?limit=500" + (f"&cursor={cursor}" if cursor else "")))
    for document in page["documents"]:
        listed += 1
        try:
            urllib.request.urlopen(f"{base}/documents/{document['id']}/content").read()
        except Exception:
            unreadable.append(document["id"])
    cursor = page.get("next_cursor")
    if not cursor: break
json.dump({"answered": len(answered), "missing": missing, "wrong_bytes": wrong_bytes, "wrong_digest": wrong_digest,
           "listed": listed, "unreadable": unreadable}, open(verdict_path, "w"))
PY
verdict() { python3 -c "import json,sys; v=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {'v': v}))" "$work/verdict.json" "$1"; }
echo "     $(verdict 'v["listed"]') documents recorded, $(verdict 'v["answered"]') answered"
check "every upload answered 201 is there after the crash" test "$(verdict 'len(v["missing"])')" = 0
check "with the SHA-256 of what was sent" test "$(verdict 'len(v["wrong_digest"])')" = 0
check "and exactly those bytes" test "$(verdict 'len(v["wrong_bytes"])')" = 0
check "every recorded document's content can be read" test "$(verdict 'len(v["unreadable"])')" = 0
check "at least as many documents are recorded as were answered" test "$(verdict 'v["listed"] >= v["answered"]')" = True
check "tmp/ is empty after the restart" test -z "$(ls "$work/data/tmp")"
report
