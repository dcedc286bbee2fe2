#!/usr/bin/env bash
# Tests/shell/tus-resume.sh INTAKE_BINARY
#
# Starts the built `intake serve` (with workers) on a free loopback port and a fresh data
# directory, and sends a 200 MiB file through tus with tuspy in 8 MiB chunks, cutting a chunk
# midway and killing the server (SIGKILL) and starting it again on the way (Tests/tus/resume_test.py).
# Ends with "N passed, M failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
intake=${1:?usage: tus-resume.sh INTAKE_BINARY}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d /tmp/intake-tus-XXXXXX)
port=$(free_port)
base=http://127.0.0.1:$port
start() {
    "$intake" serve --port "$port" --data-dir "$work/data" >>"$work/server.log" 2>&1 &
    echo $! >"$work/server.pid"
    for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && return; sleep 0.1; done
    echo "the server did not start" >&2
    return 1
}
cleanup() { kill "$(cat "$work/server.pid")" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
start
export -f start
export intake port work base
python3 "$here/Tests/tus/resume_test.py" "$base" "$work" "kill -KILL \$(cat $work/server.pid); sleep 0.5; start"
status=$?
[[ $status -eq 0 ]] || tail -20 "$work/server.log"
exit $status
