#!/usr/bin/env bash
# Tests/shell/serve-with-curl.sh INTAKE_BINARY
#
# Starts the built `intake serve` on a free loopback port with a fresh data directory and drives
# it with real `curl -F`: a PDF, a PNG declared as text/plain, a UTF-8 filename, an ELF binary
# (415), a truncated body (400), a file over the limit (413), a body large enough for curl to
# send Expect: 100-continue; and checks that GET /documents/{id}/content returns the exact bytes. Ends with "N passed, M failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
intake=${1:?usage: serve-with-curl.sh INTAKE_BINARY}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
docs=$here/Fixtures/documents
work=$(mktemp -d /tmp/intake-shell-XXXXXX)
port=$(free_port)
base=http://127.0.0.1:$port

"$intake" serve --port "$port" --data-dir "$work/data" --max-file-bytes 2000000 --idle-timeout 2 >"$work/server.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done

status_of() { curl -s -o "$work/body.json" -w '%{http_code}' "$@"; }
field() { python3 -c "import json,sys; d=json.load(open('$work/body.json')); print(eval(sys.argv[1]))" "$1"; }

check "PDF upload is 201" test "$(status_of -F title=Handbook -F "doc=@$docs/sample.pdf" "$base/uploads")" = 201
check "PDF is detected as PDF" test "$(field 'd["documents"][0]["detected_type"]')" = application/pdf
pdf_id=$(field 'd["documents"][0]["id"]')
check "content is the exact bytes" cmp -s <(curl -s "$base/documents/$pdf_id/content") "$docs/sample.pdf"

check "PNG declared as text/plain is 201" test "$(status_of -F "doc=@$docs/sample.png;type=text/plain" "$base/uploads")" = 201
check "PNG keeps its declared and detected types" test "$(field 'd["documents"][0]["declared_type"] + " " + d["documents"][0]["detected_type"]')" = "text/plain image/png"

cp "$docs/sample.txt" "$work/résumé 日本.txt"
check "UTF-8 filename upload is 201" test "$(status_of -F "doc=@$work/résumé 日本.txt" "$base/uploads")" = 201
check "UTF-8 filename comes back as sent" test "$(field 'd["documents"][0]["filename"]')" = "résumé 日本.txt"

check "ELF binary is 415" test "$(status_of -F "doc=@$docs/sample.elf" "$base/uploads")" = 415
check "ELF refusal says type_rejected" test "$(field 'd["error"]["code"]')" = type_rejected

printf -- '--XyZ\r\nContent-Disposition: form-data; name="doc"; filename="cut.txt"\r\n\r\nhalf of it' >"$work/truncated.bin"
check "truncated body is 400" test "$(status_of -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary "@$work/truncated.bin" "$base/uploads")" = 400
check "truncated body error names the offset" grep -q 'at byte' "$work/body.json"

head -c 3000000 /dev/zero | tr '\0' 'a' >"$work/big.txt"
check "file over --max-file-bytes is 413" test "$(status_of -F "doc=@$work/big.txt" "$base/uploads")" = 413

head -c 1500000 /dev/zero | tr '\0' 'b' >"$work/medium.txt"
curl -sv -o /dev/null -F "doc=@$work/medium.txt" "$base/uploads" 2>"$work/verbose.txt"
check "curl's Expect: 100-continue is answered" grep -q '< HTTP/1.1 100 Continue' "$work/verbose.txt"

# A client that stalls mid-file: the idle timeout closes it and its upload leaves nothing.
stalled=$(python3 - "$port" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
body = b'--B\r\nContent-Disposition: form-data; name="doc"; filename="slow.txt"\r\n\r\n' + b"s" * 100000
s.sendall(b"POST /uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 999999\r\n\r\n" + body)
s.settimeout(10)
start = time.time()
try:
    while s.recv(65536): pass
    print("closed after %.0f s" % (time.time() - start))
except socket.timeout:
    print("still open")
PY
)
check "a stalled upload is closed by the idle timeout ($stalled)" test "${stalled% after*}" = closed
check "the server still serves after it" test "$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz")" = 200

# A client that disconnects mid-file: nothing of its upload remains, the server keeps serving.
python3 - "$port" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
body = b'--B\r\nContent-Disposition: form-data; name="doc"; filename="gone.txt"\r\n\r\n' + b"g" * 200000
s.sendall(b"POST /uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 999999\r\n\r\n" + body)
time.sleep(0.3)
s.close()
PY
sleep 0.5
check "a client that disconnects mid-file leaves nothing in tmp/" test -z "$(ls -A "$work/data/tmp")"
check "the server still serves after the disconnect" test "$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz")" = 200

curl -sN --max-time 1 "$base/events" >"$work/events.txt" || true
check "GET /events streams one queued event per document" test "$(grep -c '^event: queued' "$work/events.txt")" = 4
last_but_one=$(grep '^id: ' "$work/events.txt" | tail -n 2 | head -n 1 | cut -d' ' -f2)
curl -sN --max-time 1 -H "Last-Event-ID: $last_but_one" "$base/events" >"$work/resumed.txt" || true
check "GET /events resumes after Last-Event-ID" test "$(grep -c '^event: ' "$work/resumed.txt")" = 1
check "a resumed stream first says where it starts" test "$(grep -m1 '^id: ' "$work/resumed.txt" | cut -d' ' -f2)" = "$last_but_one"

python3 -c 'import openapi_spec_validator, yaml' 2>/dev/null || pip install -q openapi-spec-validator pyyaml >/dev/null 2>&1
curl -s "$base/openapi.yaml" >"$work/openapi.yaml"
check "GET /openapi.yaml is a valid OpenAPI 3.1 document" python3 -c '
import sys, yaml
from openapi_spec_validator import validate
validate(yaml.safe_load(open(sys.argv[1])))' "$work/openapi.yaml"

check "nothing is left in tmp/" test -z "$(ls -A "$work/data/tmp")"
check "four documents are listed" test "$(curl -s "$base/documents" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["documents"]))')" = 4

# SIGTERM while an upload is in flight: it finishes (201), the server exits 0, and a new server
# on the same data directory finds every document.
python3 - "$port" >"$work/inflight.txt" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
body = b'--B\r\nContent-Disposition: form-data; name="doc"; filename="last.txt"\r\n\r\n' + b"l" * 1000
tail = b"\r\n--B--\r\n"
s.sendall(b"POST /uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: %d\r\n\r\n" % (len(body) + len(tail)) + body)
time.sleep(1.5)
s.sendall(tail)
print(s.recv(4096).split(b"\r\n")[0].decode())
PY
client=$!
sleep 0.5
kill -TERM "$server"
wait "$server"; server_status=$?
wait "$client"
check "SIGTERM lets the upload in flight finish" grep -q '201 Created' "$work/inflight.txt"
check "the server exits 0 after SIGTERM" test "$server_status" = 0
"$intake" serve --port "$port" --data-dir "$work/data" >>"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
check "a restarted server finds all five documents" test "$(curl -s "$base/documents" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["documents"]))')" = 5

# An upload that is still in flight when the grace period ends is cancelled: the client gets no
# 201, the server exits 0 soon after the grace period, and nothing of that upload remains.
kill -TERM "$server"; wait "$server" || true
"$intake" serve --port "$port" --data-dir "$work/data" --shutdown-grace 1 >>"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
python3 - "$port" >"$work/stalled.txt" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
body = b'--B\r\nContent-Disposition: form-data; name="doc"; filename="stalled.txt"\r\n\r\n' + b"s" * 100000
s.sendall(b"POST /uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 200000\r\n\r\n" + body)
s.settimeout(10)
try:
    reply = s.recv(4096)
    print(reply.split(b"\r\n")[0].decode() if reply else "closed")
except OSError as error:
    print("error", error)
PY
client=$!
sleep 0.5
started=$SECONDS
kill -TERM "$server"
wait "$server"; server_status=$?
waited=$((SECONDS - started))
wait "$client"
echo "    stalled upload at the end of the grace period: $(cat "$work/stalled.txt"), server exited after ${waited} s"
check "an upload still in flight after the grace period gets no 201" bash -c "! grep -q '201' '$work/stalled.txt'"
check "the server exits 0 within the grace period and a bit" test "$server_status" = 0 -a "$waited" -le 5
check "nothing of the cancelled upload remains in tmp/" test -z "$(ls -A "$work/data/tmp")"
"$intake" serve --port "$port" --data-dir "$work/data" >>"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
check "the cancelled upload was not recorded" test "$(curl -s "$base/documents" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["documents"]))')" = 5

report
