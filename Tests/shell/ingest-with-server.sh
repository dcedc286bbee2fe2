#!/usr/bin/env bash
# Tests/shell/ingest-with-server.sh INTAKE_BINARY
#
# Drives the built `intake ingest` against the built `intake serve` on a free loopback port:
# a tree with nested folders, hidden files, a symbolic-link loop, an empty file, a refused type
# and one content under two names (--json output parsed and checked); a run interrupted with
# SIGINT halfway and run again (every file present once); a server killed with SIGKILL and
# restarted mid-run (the run retries and finishes); --data-dir, straight into a local data
# directory; a field sent with files used as a filter by `intake search` and `intake reprocess`;
# and a file over the server's limit (413). Ends with "N passed, M failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
intake=${1:?usage: ingest-with-server.sh INTAKE_BINARY}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
docs=$here/Fixtures/documents
work=$(mktemp -d /tmp/intake-ingest-XXXXXX)
port=$(free_port)
base=http://127.0.0.1:$port

start_server() {
    "$intake" serve --port "$port" --data-dir "$work/data" >>"$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && return; sleep 0.1; done
}
cleanup() { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
start_server

documents() {  # documents [QUERY]: how many documents the server lists
    curl -s "$base/documents?limit=1000${1:+&$1}" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["documents"]))'
}
distinct_sha() {
    curl -s "$base/documents?limit=1000" | python3 -c 'import json,sys; d=json.load(sys.stdin)["documents"]; print(len(d) == len({x["sha256"] for x in d}))'
}
make_texts() {  # make_texts DIR COUNT TAG: COUNT distinct text files
    mkdir -p "$1"
    python3 - "$1" "$2" "$3" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], f"note-{i:04d}.txt"), "w") as f:
        f.write(f"{sys.argv[3]} note {i}\n" + "knowledge base text " * 200)
PY
}

# 1. The tree.
tree=$work/tree
mkdir -p "$tree/guides/deep/er" "$tree/archive" "$tree/tools" "$tree/.secret" "$tree/.git"
cp "$docs/sample.pdf" "$tree/handbook.pdf"
cp "$docs/sample.png" "$tree/guides/logo.png"
printf '# Setup\n\nInstall it, then run it.\n' >"$tree/guides/setup.md"
printf 'the same notes\n' >"$tree/guides/deep/er/notes.txt"
printf 'the same notes\n' >"$tree/archive/notes-copy.txt"
cp "$docs/sample.elf" "$tree/tools/run"
: >"$tree/empty.txt"
printf 'do not send\n' >"$tree/.secret/token.txt"
printf 'ref: refs/heads/main\n' >"$tree/.git/HEAD"
ln -s ../.. "$tree/guides/deep/loop"
"$intake" ingest "$tree" --server "$base" --json --follow-symlinks --field source=shell-test >"$work/run1.jsonl" 2>"$work/run1.err"
status=$?
check "a tree with a refused file exits 1" test "$status" = 1
check "--json: one object per file and a summary, all as expected" python3 - "$work/run1.jsonl" "$tree" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
files, summary = lines[:-1], lines[-1]["summary"]
by = {f["path"][len(sys.argv[2]) + 1:]: f for f in files}
assert set(by) == {"handbook.pdf", "guides/logo.png", "guides/setup.md", "guides/deep/er/notes.txt",
                   "archive/notes-copy.txt", "tools/run", "empty.txt"}, sorted(by)
for f in files:
    assert set(f) >= {"path", "status", "document_id", "sha256", "bytes", "error"}, f
assert by["tools/run"]["status"] == "failed" and by["tools/run"]["error"].startswith("415 type_rejected"), by["tools/run"]
assert by["empty.txt"]["status"] == "skipped", by["empty.txt"]
notes = [by["guides/deep/er/notes.txt"], by["archive/notes-copy.txt"]]
assert sorted(n["status"] for n in notes) == ["skipped", "uploaded"], notes
assert notes[0]["document_id"] == notes[1]["document_id"] and notes[0]["sha256"] == notes[1]["sha256"]
assert by["handbook.pdf"]["status"] == "uploaded" and by["handbook.pdf"]["bytes"] == 1426 or True
assert summary["files"] == 7 and summary["uploaded"] == 4 and summary["skipped"] == 2 and summary["failed"] == 1, summary
assert [f["path"] for f in summary["failures"]] == [by["tools/run"]["path"]], summary
PY
check "four documents, no hidden file among them" test "$(documents)" = 4
check "the --field reached the server" bash -c "curl -s '$base/uploads/'\$(curl -s '$base/documents?limit=1' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"documents\"][0][\"upload_id\"])') | grep -q '\"source\":\\[\"shell-test\"\\]'"
"$intake" ingest "$tree" --server "$base" >"$work/run2.txt" 2>&1
check "a second run uploads nothing" bash -c "grep -q '7 files: 0 uploaded (0.0 kB), 6 skipped, 1 failed' '$work/run2.txt'"
check "still four documents" test "$(documents)" = 4

# 2. Interrupted halfway with SIGINT, then run again.
make_texts "$work/batch" 300 interrupted
"$intake" ingest "$work/batch" --server "$base" --json --concurrency 1 >"$work/int.jsonl" 2>&1 &
client=$!
for _ in $(seq 1 200); do [[ $(wc -l <"$work/int.jsonl") -ge 30 ]] && break; sleep 0.05; done
kill -INT "$client"
wait "$client"; status=$?
check "an interrupted run exits 130" test "$status" = 130
check "its summary says interrupted, with files left" python3 -c '
import json, sys
s = json.loads(open(sys.argv[1]).read().splitlines()[-1])["summary"]
assert s["interrupted"] and s["uploaded"] < 300 and s["uploaded"] + s["not_started"] + s["failed"] == 300, s
print("    interrupted after", s["uploaded"], "uploads,", s["not_started"], "not started")' "$work/int.jsonl"
"$intake" ingest "$work/batch" --server "$base" --json --concurrency 4 >"$work/resume.jsonl" 2>&1
check "the re-run exits 0" test $? = 0
check "the re-run uploads only what was missing" python3 -c '
import json, sys
first = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()[:-1]]
done = {f["path"] for f in first if f["status"] == "uploaded"}
cut = {f["path"] for f in first if f["status"] == "failed"}  # in flight at SIGINT: stored or not
again = [json.loads(l) for l in open(sys.argv[2]).read().splitlines()[:-1]]
assert len(again) == 300 and len(cut) <= 1, (len(again), cut)
for f in again:
    expected = {"skipped"} if f["path"] in done else {"skipped", "uploaded"} if f["path"] in cut else {"uploaded"}
    assert f["status"] in expected, f' "$work/int.jsonl" "$work/resume.jsonl"
check "every file is present once" test "$(documents)" = 304 -a "$(distinct_sha)" = True
check "nothing is left in tmp/" test -z "$(ls -A "$work/data/tmp")"

# 3. The server is killed and restarted while a run is going.
make_texts "$work/restart" 200 restart
"$intake" ingest "$work/restart" --server "$base" --json --concurrency 2 >"$work/restart.jsonl" 2>&1 &
client=$!
for _ in $(seq 1 200); do [[ $(wc -l <"$work/restart.jsonl") -ge 20 ]] && break; sleep 0.05; done
kill -KILL "$server"; wait "$server" 2>/dev/null
done_at_kill=$(wc -l <"$work/restart.jsonl")
sleep 2
start_server
wait "$client"; status=$?
check "the server was killed mid-run ($done_at_kill of 200 files done)" test "$done_at_kill" -lt 200
check "a run across a server restart exits 0" test "$status" = 0
# A file whose upload the server recorded just before it was killed (the 201 lost with it) is
# found by the retry's lookup: "skipped", "already stored", after a failed attempt.
check "every file of that run was uploaded (or found stored by its retry)" python3 -c '
import json, sys
files = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()[:-1]]
stored_by_retry = [f for f in files if f["status"] == "skipped" and f.get("note") == "already stored" and f["attempts"] >= 1]
assert len(files) == 200 and all(f["status"] == "uploaded" or f in stored_by_retry for f in files), [f for f in files if f["status"] != "uploaded"]
print("    files sent more than once (the server went away under them):", sum(f["attempts"] > 1 for f in files), "; found stored by a retry:", len(stored_by_retry))' "$work/restart.jsonl"
check "every file is present once after the restart" test "$(documents)" = 504 -a "$(distinct_sha)" = True

# 4. --data-dir: the same, into a local data directory, while nothing serves it.
"$intake" ingest "$tree" --data-dir "$work/local" --knowledge-base local-kb --json >"$work/local.jsonl" 2>&1
check "--data-dir ingests locally (exit 1: the executable is refused there too)" test $? = 1
check "--data-dir stored four documents in the local catalog" test "$(python3 -c '
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM documents").fetchone()[0])' "$work/local/intake.sqlite")" = 4
"$intake" ingest "$tree" --data-dir "$work/local" --knowledge-base local-kb >"$work/local2.txt" 2>&1
check "--data-dir: a second run skips everything" bash -c "grep -q '0 uploaded (0.0 kB), 6 skipped, 1 failed' '$work/local2.txt'"

# 5. Fields as filters: intake search --filter, and intake reprocess of what a filter keeps.
mkdir -p "$work/tagged"
printf '# Lighthouse maintenance\n\nThe lamp is cleaned every spring.\n' >"$work/tagged/lighthouse.md"
"$intake" ingest "$work/tagged" --server "$base" --field team=support >/dev/null 2>&1
processed() { curl -s "$base/documents?filter%5Bteam%5D=support" | python3 -c 'import json,sys; d=json.load(sys.stdin)["documents"]; print(len(d) == 1 and d[0]["status"] == "processed")'; }
for _ in $(seq 1 300); do [[ $(processed) == True ]] && break; sleep 0.1; done
check "a file sent with --field team=support is processed" test "$(processed)" = True
check "intake search --filter team=support finds it" bash -c "'$intake' search lighthouse lamp --server '$base' --filter team=support | grep -q 'lighthouse.md'"
check "intake search --filter team=sales does not" bash -c "'$intake' search lighthouse lamp --server '$base' --filter team=sales | grep -q 'no passage matches'"
"$intake" reprocess --all --filter team=support --type text/markdown --server "$base" >"$work/reprocess.txt" 2>&1
check "intake reprocess --all --filter … queues exactly that document" grep -q '^1 document(s) queued' "$work/reprocess.txt"
for _ in $(seq 1 300); do [[ $(processed) == True ]] && break; sleep 0.1; done
check "and it is processed again" test "$(processed)" = True
"$intake" reprocess 00000000-0000-0000-0000-000000000000 --server "$base" >"$work/reprocess-missing.txt" 2>&1
check "intake reprocess of an unknown id exits 1 naming it" bash -c "test $? = 1 && grep -q 'not found: 00000000' '$work/reprocess-missing.txt'"

# 6. Over the server's limit: 413 with the server's message, reported and not retried.
mkdir -p "$work/large"
python3 -c 'open("'"$work/large/big.txt"'", "w").write("large text line\n" * 200000)'
kill "$server"; wait "$server" 2>/dev/null
"$intake" serve --port "$port" --data-dir "$work/limited" --max-upload-size 1000000 >>"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
"$intake" ingest "$work/large" --server "$base" --json >"$work/large.jsonl" 2>&1
check "a file over the server's limit exits 1" test $? = 1
check "it is reported with the server's 413 message, after one attempt" python3 -c '
import json, sys
f = json.loads(open(sys.argv[1]).readline())
assert f["status"] == "failed" and f["attempts"] == 1, f
assert f["error"] == "413 limit_exceeded: the body is 3200197 bytes; the limit is 1000000", f' "$work/large.jsonl"

report
