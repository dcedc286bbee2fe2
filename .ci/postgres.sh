# A private PostgreSQL cluster for a test run: sourced by .ci/run and by the shell tests that
# need one. `postgres_start DIR` initialises a cluster in DIR (a folder of its own that the
# `postgres` user can reach, such as `mktemp -d` in /tmp: it is given to that user, since
# PostgreSQL refuses to run as root), starts it on a free loopback port with a
# random password, and exports POSTGRES_URL (postgres://intake:PASSWORD@127.0.0.1:PORT/postgres),
# POSTGRES_PORT and POSTGRES_DIR. `postgres_stop` stops it, `postgres_resume` starts it again and
# `postgres_restart` restarts it, on the same port (for the tests that take the database away).

postgres_bin() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [[ -n "$found" ]] || { echo "postgres_bin: no PostgreSQL server installed (apt-get install postgresql)" >&2; return 1; }
    echo "$found"
}

# Runs a command as the postgres user when we are root, as ourselves otherwise.
postgres_as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

postgres_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

postgres_start() {
    local dir=$1 bin password
    bin=$(postgres_bin)
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
    chmod 700 "$dir"
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    printf '%s\n' "$password" > "$dir/.pwfile"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$dir/.pwfile"
    postgres_as_owner "$bin/initdb" -D "$dir/data" -U intake --pwfile="$dir/.pwfile" --auth=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    rm -f "$dir/.pwfile"
    POSTGRES_PORT=$(postgres_free_port)
    POSTGRES_DIR=$dir
    cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $POSTGRES_PORT
unix_socket_directories = '$dir'
max_connections = 200
fsync = on
CONF
    postgres_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
        || { cat "$dir/server.log" >&2; return 1; }
    POSTGRES_URL="postgres://intake:$password@127.0.0.1:$POSTGRES_PORT/postgres"
    export POSTGRES_URL POSTGRES_PORT POSTGRES_DIR
}

postgres_stop() {
    [[ -n "${POSTGRES_DIR:-}" && -d "$POSTGRES_DIR/data" ]] || return 0
    postgres_as_owner "$(postgres_bin)/pg_ctl" -D "$POSTGRES_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
}

# Starts the stopped cluster again, on the same port.
postgres_resume() {
    postgres_as_owner "$(postgres_bin)/pg_ctl" -D "$POSTGRES_DIR/data" -l "$POSTGRES_DIR/server.log" -w -t 60 start >/dev/null
}

postgres_restart() {
    postgres_as_owner "$(postgres_bin)/pg_ctl" -D "$POSTGRES_DIR/data" -l "$POSTGRES_DIR/server.log" -m fast -w -t 60 restart >/dev/null
}
