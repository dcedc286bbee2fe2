#!/usr/bin/env bash
# Tests/shell/worker-killed.sh INTAKE_BINARY
#
# A knowledge-base worker process killed with SIGKILL in the middle of a job loses nothing:
# `intake serve --workers 0` takes an upload, `intake worker` claims it and is killed while it
# works, a second `intake worker` takes the job once the lease runs out and finishes it.
# Ends with "N passed, M failed".
set -uo pipefail
intake=${1:?usage: worker-killed.sh INTAKE_BINARY}
work=$(mktemp -d /tmp/intake-worker-XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
passed=0
failed=0
check() {  # check NAME CONDITION...
    local name=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok   $name [${SECONDS}s]"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}
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

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
