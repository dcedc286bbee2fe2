#!/usr/bin/env bash
# Tests/shell/worker-killed.sh INTAKE_BINARY
#
# A knowledge-base worker process killed with SIGKILL in the middle of a job loses nothing:
# `intake serve --workers 0` takes an upload, `intake worker` claims it and is killed while it
# works, a second `intake worker` takes the job once the lease runs out and finishes it; a worker
# killed while its extraction process runs pdftotext on a hostile PDF takes both with it.
# Ends with "N passed, M failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
intake=${1:?usage: worker-killed.sh INTAKE_BINARY}
work=$(mktemp -d /tmp/intake-worker-XXXXXX)
port=$(free_port)
base=http://127.0.0.1:$port
document() { curl -s "$base/documents/$id" | python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }

"$intake" serve --port "$port" --data-dir "$work/data" --workers 0 >"$work/server.log" 2>&1 &
server=$!
worker=
cleanup() { kill "$server" $worker 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done

# A document big enough that processing it takes a while (tens of thousands of paragraphs).
python3 - "$work/big.md" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(60000):
        f.write(f"## Section {i}\n\nParagraph {i} of the long handbook talks about topic number {i * 7 % 1000}.\n\n")
PY
id=$(curl -s -F "doc=@$work/big.md;type=text/markdown" "$base/uploads" | python3 -c 'import json,sys; print(json.load(sys.stdin)["documents"][0]["id"])')

"$intake" worker --data-dir "$work/data" --workers 1 --lease 3 >"$work/worker1.log" 2>&1 &
worker=$!
for _ in $(seq 1 200); do [[ $(document status) == processing ]] && break; sleep 0.05; done
check "the first worker claimed the job" test "$(document status)" = processing
kill -KILL "$worker"; wait "$worker" 2>/dev/null
check "the job is still 'processing' under the dead worker's lease" test "$(document status)" = processing

"$intake" worker --data-dir "$work/data" --workers 1 --lease 3 >"$work/worker2.log" 2>&1 &
worker=$!
for _ in $(seq 1 1200); do [[ $(document status) == processed ]] && break; sleep 0.1; done
check "a second worker finished the job after the lease ran out" test "$(document status)" = processed
check "it took two attempts" test "$(document attempts)" = 2
check "the document's passages are searchable" bash -c "curl -s '$base/search?q=section%2059999' | grep -q '\"document_id\":\"$id\"'"
check "the events show both claims" test "$(curl -s -H 'Accept: text/event-stream' --max-time 2 "$base/events" | grep -c '^event: processing')" = 2
kill -TERM "$worker"; wait "$worker"
check "a worker stops cleanly on SIGTERM" test $? = 0
worker=

# A worker killed while its extraction process chews on a hostile PDF (a billion nested forms)
# takes that process with it: nothing runs on unbounded by its lease.
python3 - "$work/nested.pdf" <<'PY'
import sys
objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
           b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /X0 4 0 R >> >> /Contents 14 0 R >>"]
def stream(head, body): return head + b" /Length %d >>\nstream\n" % len(body) + body + b"\nendstream"
for level in range(10):
    body = b"/X%d Do\n" % (level + 1) * 10 if level < 9 else b"0 0 1 1 re f"
    resources = b"<< /XObject << /X%d %d 0 R >> >>" % (level + 1, level + 5) if level < 9 else b"<< >>"
    objects.append(stream(b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources " + resources, body))
objects.append(stream(b"<<", b"/X0 Do"))
out = bytearray(b"%PDF-1.4\n"); offsets = []
for i, o in enumerate(objects):
    offsets.append(len(out)); out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
xref = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
open(sys.argv[1], "wb").write(out)
PY
id=$(curl -s -F "doc=@$work/nested.pdf;type=application/pdf" "$base/uploads" | python3 -c 'import json,sys; print(json.load(sys.stdin)["documents"][0]["id"])')
"$intake" worker --data-dir "$work/data" --workers 1 --lease 3 >"$work/worker3.log" 2>&1 &
worker=$!
marker=$(basename "$work")
for _ in $(seq 1 200); do pgrep -f "pdftotext.*$marker" >/dev/null && break; sleep 0.05; done
check "the worker's extraction process runs pdftotext on the hostile PDF" bash -c "pgrep -f '[p]dftotext.*$marker' >/dev/null"
kill -KILL "$worker"; wait "$worker" 2>/dev/null
worker=
for _ in $(seq 1 100); do pgrep -f "(intake extract|pdftotext).*$marker" >/dev/null || break; sleep 0.05; done
check "the extraction process and its pdftotext died with their worker" bash -c "! pgrep -f '(intake [e]xtract|[p]dftotext).*$marker'"

report
