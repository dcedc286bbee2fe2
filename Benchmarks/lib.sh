# Shared by the benchmark scripts: source it (`. "$(dirname "$0")/lib.sh"`).

# make_text_file MIB PATH: a text file of MIB MiB whose lines name MIB (distinct per size, and
# text, so the knowledge-base policy accepts it).
make_text_file() {
    python3 -c 'import sys
line = ("intake benchmark line %s\n" % sys.argv[1]).encode()
size = int(sys.argv[1]) << 20
block = line * (1048576 // len(line) + 1)
with open(sys.argv[2], "wb") as out:
    for start in range(0, size, 1048576):
        out.write(block[: min(1048576, size - start)])' "$1" "$2"
}

# dd_seconds DIR MIB: seconds `dd conv=fsync` takes to write MIB MiB into DIR (the file is removed).
dd_seconds() {
    local start
    rm -f "$1/dd.bin"
    start=$(date +%s.%N)
    dd if=/dev/zero of="$1/dd.bin" bs=1M count="$2" conv=fsync 2>/dev/null
    awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'
    rm -f "$1/dd.bin"
}
