# Tests/shell/lib.sh: what every shell test shares. Source it; it sets `passed` and `failed` and defines
#   check NAME CONDITION...   runs CONDITION, counts it and prints "ok   NAME [Ns]" or "FAIL NAME"
#   free_port                 prints a free TCP port on 127.0.0.1
#   report                    prints "N passed, M failed"; succeeds only when nothing failed
passed=0
failed=0
check() {
    local name=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok   $name [${SECONDS}s]"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
report() {
    echo "$passed passed, $failed failed"
    [[ $failed -eq 0 ]]
}
