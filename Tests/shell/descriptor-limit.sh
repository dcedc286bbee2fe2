#!/usr/bin/env bash
# Tests/shell/descriptor-limit.sh INTAKE_BINARY
#
# Connections never take the server down: under a 256-descriptor limit, 400 clients that each hold
# an upload open meet the connection budget derived from the limit (the rest are closed as they
# arrive), the server answers /healthz meanwhile and afterwards; and with the budget set past
# the limit (--max-connections 1000), running out of descriptors refuses uploads but never crashes
# the server. Ends with "N passed, M failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
intake=${1:?usage: descriptor-limit.sh INTAKE_BINARY}
work=$(mktemp -d /tmp/intake-fds-XXXXXX)
server=
cleanup() { [[ -n $server ]] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# flood PORT: opens 400 connections, each starting an upload it never finishes; prints how many
# the server kept open after a second, then whether /healthz answered meanwhile (it is refused at
# once while the budget is full: a connection past it is closed, not left waiting).
flood() {
    python3 - "$1" <<'PY'
import socket, sys, time, urllib.request
port = int(sys.argv[1])
head = (b"POST /uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\n"
        b"Content-Length: 100000\r\n\r\n--B\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\r\nhello")
sockets = []
for _ in range(400):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.sendall(head)
        sockets.append(s)
    except OSError:
        pass
time.sleep(1)
alive = 0
for s in sockets:
    s.setblocking(False)
    try:
        alive += 1 if s.recv(1) else 0  # b"": closed by the server
    except BlockingIOError:
        alive += 1  # nothing to read: still open
    except OSError:
        pass
try:
    healthy = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read() == b"ok\n"
except OSError:
    healthy = False
print(alive, healthy)
for s in sockets:
    s.close()
PY
}

port=$(free_port)
prlimit --nofile=256:256 "$intake" serve --port "$port" --data-dir "$work/a" --workers 0 >"$work/a.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
read -r alive healthy < <(flood "$port")
check "the default budget under 256 descriptors holds 64 connections (the rest closed): held $alive" test "$alive" -le 64
check "the server is still running" kill -0 "$server"
# The flood's connections are closed by now; the server notices each as it reads its end.
healthy_after() { for _ in $(seq 1 100); do curl -fso /dev/null "http://127.0.0.1:$1/healthz" && return 0; sleep 0.1; done; return 1; }
check "/healthz answers after the flood" healthy_after "$port"
kill "$server"; wait "$server" 2>/dev/null; server=

port=$(free_port)
prlimit --nofile=256:256 "$intake" serve --port "$port" --data-dir "$work/b" --workers 0 --max-connections 1000 >"$work/b.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
flood "$port" >/dev/null
sleep 1
check "past the descriptor limit the server does not crash" kill -0 "$server"
check "and answers /healthz once the clients are gone" healthy_after "$port"
# Each cut upload removes its temporary file as the server reads its connection's end.
empty_after() { for _ in $(seq 1 100); do [[ -z $(ls -A "$1") ]] && return 0; sleep 0.1; done; return 1; }
check "and leaves nothing in tmp/" empty_after "$work/b/tmp"

report
