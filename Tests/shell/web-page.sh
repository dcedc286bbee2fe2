#!/usr/bin/env bash
# Tests/shell/web-page.sh INTAKE_BINARY [--screenshot PNG]
#
# Starts the built `intake serve` (with its workers, so documents reach `processed`) on a free
# loopback port and a fresh data directory, and drives its page in headless Chromium
# (Tests/web/page_test.py, Selenium). Ends with "N passed, M failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
intake=${1:?usage: web-page.sh INTAKE_BINARY [--screenshot PNG]}
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d /tmp/intake-web-XXXXXX)
port=$(free_port)
base=http://127.0.0.1:$port
"$intake" serve --port "$port" --data-dir "$work/data" --max-file-bytes $((64 * 1024 * 1024)) >"$work/server.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
mkdir -p "$work/files"
# Last, the test makes a key with the CLI (from then on the server needs one).
python3 "$here/Tests/web/page_test.py" "$base" "$work/files" --make-key "$intake keys create --data-dir $work/data --knowledge-base team" "$@"
status=$?
[[ $status -eq 0 ]] || tail -20 "$work/server.log"
exit $status
