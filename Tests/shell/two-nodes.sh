#!/usr/bin/env bash
# Tests/shell/two-nodes.sh INTAKE_BINARY
#
# Two `intake serve` nodes on one PostgreSQL (a private cluster this script starts) and one shared
# data directory. Node B is killed with SIGKILL in the middle of a job: node A takes the job once
# the lease runs out and finishes it. Then 200 uploads are spread over both nodes, with
# PostgreSQL restarted in the middle of them: no 201 without its rows, every document processed
# exactly once (one `processed` event each), and an event-stream reader on node A sees node B's
# documents. Ends with "N passed, M failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
intake=${1:?usage: two-nodes.sh INTAKE_BINARY}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../../.ci/postgres.sh"
work=$(mktemp -d /tmp/intake-two-nodes-XXXXXX)
cluster=$(mktemp -d /tmp/intake-two-nodes-postgres-XXXXXX)  # its own folder: the postgres user owns it
port_a=$(free_port)
port_b=$(free_port)
a=http://127.0.0.1:$port_a
b=http://127.0.0.1:$port_b
node_a=
node_b=
reader=
uploads=
cleanup() {
    kill $node_a $node_b $reader $uploads 2>/dev/null
    wait 2>/dev/null
    postgres_stop
    rm -rf "$work" "$cluster"
}
trap cleanup EXIT

postgres_start "$cluster" || { echo "FAIL PostgreSQL did not start"; exit 1; }
sql() { PGPASSWORD=${POSTGRES_URL#*intake:} PGPASSWORD=${PGPASSWORD%%@*} psql -qtA -h 127.0.0.1 -p "$POSTGRES_PORT" -U intake -d intake -c "$1"; }
PGPASSWORD=${POSTGRES_URL#*intake:} PGPASSWORD=${PGPASSWORD%%@*} psql -q -h 127.0.0.1 -p "$POSTGRES_PORT" -U intake -d postgres -c "CREATE DATABASE intake"
database=${POSTGRES_URL%/postgres}/intake

start_node() {  # start_node PORT LOG: prints the pid
    "$intake" serve --port "$1" --data-dir "$work/data" --database "$database" --workers 2 --lease 3 >>"$2" 2>&1 &
    echo $!
}
wait_healthy() { for _ in $(seq 1 300); do curl -fs "$1/healthz" >/dev/null && return 0; sleep 0.1; done; return 1; }
field() {  # field URL KEY: a key of the JSON at URL
    curl -s "$1" | python3 -c "import json,sys; print(json.load(sys.stdin).get(sys.argv[1]))" "$2"
}

# Node B alone takes a document that keeps a worker busy for a while.
node_b=$(start_node "$port_b" "$work/b.log")
check "node B starts on PostgreSQL" wait_healthy "$b"
python3 - "$work/big.md" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(60000):
        f.write(f"## Section {i}\n\nParagraph {i} of the long handbook talks about topic number {i * 7 % 1000}.\n\n")
PY
big=$(curl -s -F "doc=@$work/big.md;type=text/markdown" "$b/uploads" | python3 -c 'import json,sys; print(json.load(sys.stdin)["documents"][0]["id"])')
for _ in $(seq 1 200); do [[ $(field "$b/documents/$big" status) == processing ]] && break; sleep 0.05; done
check "a worker of node B holds the big document" test "$(field "$b/documents/$big" status)" = processing

# Node A joins, with a reader of its event stream; node B dies mid-job.
node_a=$(start_node "$port_a" "$work/a.log")
check "node A starts on the same database and data directory" wait_healthy "$a"
python3 - "$a/events" "$work/events.txt" <<'PY' &
# Reads GET /events for good, reconnecting with Last-Event-ID when the stream ends.
import http.client, sys, time, urllib.parse
url = urllib.parse.urlparse(sys.argv[1]); out = open(sys.argv[2], "a", buffering=1); last = None
while True:
    try:
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        connection.request("GET", url.path, headers={"Last-Event-ID": last} if last else {})
        response = connection.getresponse()
        event = {}
        for raw in response:
            line = raw.decode().rstrip("\n")
            if not line:
                if "id" in event:
                    last = event["id"]
                    document = event.get("data", "").split('"id":"')[1].split('"')[0] if '"id":"' in event.get("data", "") else ""
                    out.write(f"{event['id']} {event.get('event')} {document}\n")
                event = {}
            elif not line.startswith(":") and ":" in line:
                key, value = line.split(":", 1)
                event[key] = value.strip()
    except Exception:
        pass
    time.sleep(0.2)
PY
reader=$!
kill -KILL "$node_b"; wait "$node_b" 2>/dev/null
node_b=
for _ in $(seq 1 1200); do [[ $(field "$a/documents/$big" status) == processed ]] && break; sleep 0.1; done
check "node A finished the dead node's job after its lease" test "$(field "$a/documents/$big" status)" = processed
check "the job took two attempts" test "$(field "$a/documents/$big" attempts)" = 2

# Node B comes back; 200 uploads over both nodes, PostgreSQL restarted among them.
node_b=$(start_node "$port_b" "$work/b.log")
check "node B restarts" wait_healthy "$b"
mkdir -p "$work/docs" "$work/responses"
for i in $(seq 1 200); do echo "Document $i of the two-node run mentions the word marker$i." >"$work/docs/doc-$i.txt"; done
upload() {  # upload I: to node A when I is even, B when odd; retries while the database is away (503)
    local i=$1 base=$a
    (( i % 2 )) && base=$b
    curl -s --retry 60 --retry-delay 1 --retry-all-errors -o "$work/responses/$i.json" -w '%{http_code}\n' \
        -F "doc=@$work/docs/doc-$i.txt;type=text/plain" "$base/uploads" >"$work/responses/$i.code"
}
export -f upload
export a b work
seq 1 200 | xargs -P 8 -I{} bash -c 'upload {}' &
uploads=$!
for _ in $(seq 1 600); do (( $(ls "$work/responses" | grep -c '\.code$') >= 60 )) && break; sleep 0.1; done
before_restart=$(ls "$work/responses" | grep -c '\.code$')
postgres_stop
# Down until the nodes have answered some requests 503 (each waits a few seconds for a connection).
for _ in $(seq 1 300); do cat "$work/a.log" "$work/b.log" | grep -q 'status=503' && break; sleep 0.1; done
answered_503=$(cat "$work/a.log" "$work/b.log" | grep -c 'status=503')
postgres_resume
check "PostgreSQL went down in the middle of the uploads ($before_restart of 200 answered before)" test "$before_restart" -lt 200
check "while it was down the nodes answered 503 ($answered_503 times), and it came back" test "$answered_503" -gt 0
wait "$uploads"
uploads=
created=$(cat "$work"/responses/*.code | grep -c '^201$')
check "every upload got its 201 in the end (curl retried the 503s)" test "$created" = 200
missing=0
for i in $(seq 1 200); do
    id=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['id'])" "$work/responses/$i.json" 2>/dev/null)
    [[ -n "$id" ]] && curl -fs "$a/uploads/$id" >/dev/null && curl -fs "$b/uploads/$id" >/dev/null || missing=$((missing + 1))
done
check "no 201 without its rows: every created upload is readable on both nodes" test "$missing" = 0

for _ in $(seq 1 1200); do [[ $(sql "SELECT count(*) FROM documents WHERE status <> 'processed'") == 0 ]] && break; sleep 0.25; done
check "every document is processed" test "$(sql "SELECT count(*) FROM documents WHERE status <> 'processed'")" = 0
documents=$(sql "SELECT count(*) FROM documents")
check "each of the $documents documents has exactly one processed event" \
    test "$(sql "SELECT count(*) FROM (SELECT document_id FROM status_events WHERE state = 'processed' GROUP BY document_id HAVING count(*) = 1) AS once")" = "$documents"
check "both nodes' workers processed documents" bash -c "grep -q 'document processed' '$work/a.log' && grep -q 'document processed' '$work/b.log'"
from_b=$(for i in $(seq 1 2 199); do python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['documents'][0]['id'])" "$work/responses/$i.json"; done)
for _ in $(seq 1 300); do
    unseen=0
    for id in $from_b; do grep -q " processed $id" "$work/events.txt" || unseen=$((unseen + 1)); done
    (( unseen == 0 )) && break
    sleep 0.2
done
check "the event stream of node A shows every document uploaded to node B processed" test "$unseen" = 0
check "the event stream's ids only grow" python3 -c "
import sys; ids = [int(l.split()[0]) for l in open('$work/events.txt')]
sys.exit(0 if ids == sorted(ids) and len(ids) == len(set(ids)) else 1)"
check "no upload left a temporary file" test -z "$(ls -A "$work/data/tmp")"
check "both nodes are still serving" bash -c "curl -fs '$a/healthz' >/dev/null && curl -fs '$b/healthz' >/dev/null"

# A node stops on SIGTERM even while its database is away.
postgres_stop
kill -TERM "$node_a" "$node_b"
for _ in $(seq 1 600); do kill -0 "$node_a" 2>/dev/null || kill -0 "$node_b" 2>/dev/null || break; sleep 0.1; done
check "both nodes stopped on SIGTERM with the database down" bash -c "! kill -0 $node_a 2>/dev/null && ! kill -0 $node_b 2>/dev/null"
node_a=
node_b=

report
