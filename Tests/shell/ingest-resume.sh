#!/usr/bin/env bash
# Tests/shell/ingest-resume.sh INTAKE_BINARY
#
# `intake ingest` sends a 300 MiB file to the built `intake serve` in pieces (tus), is
# interrupted with SIGINT partway (the first run is slowed with --limit-rate so that the signal
# lands mid-file, whatever the machine), and a second run resumes it from the offset the server
# acknowledged: it sends the rest only, and the document has the file's SHA-256.
# Ends with "N passed, M failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
intake=${1:?usage: ingest-resume.sh INTAKE_BINARY}
work=$(mktemp -d /tmp/intake-ingest-resume-XXXXXX)
port=$(free_port)
base=http://127.0.0.1:$port
size=$((300 << 20))
"$intake" serve --port "$port" --data-dir "$work/data" --workers 0 >"$work/server.log" 2>&1 &
server=$!
cleanup() { kill "$server" "${client:-}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done

# Text, so that the type policy takes it: base64 lines of random bytes.
{ head -c $((size * 3 / 4 + 4096)) /dev/urandom | base64 -w 76 | head -c "$size" >"$work/big.txt"; } || true
sha=$(sha256sum "$work/big.txt" | cut -d' ' -f1)
check "the file is 300 MiB" test "$(stat -c %s "$work/big.txt")" = "$size"

# The URL of the file's upload, once the client has recorded it; its offset on the server.
upload_url() { local entry; entry=$(ls "$work/journal" 2>/dev/null | grep -v '\.tmp$' | head -1); [[ -n $entry ]] && cat "$work/journal/$entry"; }
offset_of() { curl -fsI -H 'Tus-Resumable: 1.0.0' "$base$1" | tr -d '\r' | awk -F': ' 'tolower($1) == "upload-offset" { print $2 }'; }
# The offset once no append holds the upload any more (the one SIGINT cut ends when the server has
# synced what it received): an append at an offset no upload has is refused with "append_in_progress"
# while one holds it, with "offset_mismatch" and the offset after.
settled_offset() {
    local answer
    for _ in $(seq 1 300); do
        answer=$(curl -s -X PATCH -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 999999999999' \
            -H 'Content-Type: application/offset+octet-stream' --data-binary '' -D - "$base$1" | tr -d '\r')
        if grep -q offset_mismatch <<<"$answer"; then
            awk -F': ' 'tolower($1) == "upload-offset" { print $2 }' <<<"$answer"
            return
        fi
        sleep 0.1
    done
}

"$intake" ingest --server "$base" --resume-dir "$work/journal" --piece-size 8MiB --limit-rate 40MiB --json "$work/big.txt" >"$work/first.json" 2>"$work/first.err" &
client=$!
# Interrupted once the server has acknowledged at least 48 MiB (a few seconds at 40 MiB/s).
acknowledged=0
for _ in $(seq 1 600); do
    url=$(upload_url || true)
    if [[ -n $url ]]; then acknowledged=$(offset_of "$url" || echo 0); fi
    [[ ${acknowledged:-0} -ge $((48 << 20)) ]] && break
    kill -0 "$client" 2>/dev/null || break
    sleep 0.1
done
kill -INT "$client"
wait "$client"
status=$?
client=
check "the first run, interrupted, exits 130" test "$status" = 130
check "its summary says it was interrupted" grep -q '"interrupted":true' "$work/first.json"
url=$(upload_url || true)
check "the upload's URL is remembered for the next run" test -n "$url"
first=$(settled_offset "$url")
echo "     acknowledged before SIGINT: $first of $size bytes"
check "the server holds part of the file, not all" test "${first:-0}" -gt 0 -a "${first:-0}" -lt "$size"

"$intake" ingest --server "$base" --resume-dir "$work/journal" --piece-size 8MiB --json "$work/big.txt" >"$work/second.json" 2>"$work/second.err"
status=$?
check "the second run exits 0" test "$status" = 0
check "and uploads the file" grep -q '"status":"uploaded"' "$work/second.json"
sent=$(grep -o '"bytes_sent":[0-9]*' "$work/second.json" | cut -d: -f2)
echo "     sent by the second run: $sent bytes (the rest: $((size - first)))"
check "it sends only what the server did not have" test "${sent:-$size}" -eq $((size - first))
check "the document has the file's SHA-256" sh -c "curl -fs '$base/documents?sha256=$sha' | grep -q '\"sha256\":\"$sha\"'"
check "the journal forgets the finished upload" test -z "$(ls "$work/journal")"
check "the server keeps no piece of it in resumable/" test -z "$(ls "$work/data/resumable")"
# A third run finds the content there and sends nothing.
"$intake" ingest --server "$base" --resume-dir "$work/journal" --json "$work/big.txt" >"$work/third.json" 2>&1
check "a third run skips the file" grep -q '"status":"skipped"' "$work/third.json"
report || { tail -5 "$work/first.err" "$work/second.err" "$work/server.log"; exit 1; }
