#!/usr/bin/env bash
# Fuzz/run.sh [SECONDS]  (default 60)
#
# Builds the Multipart sources with Fuzz/MultipartFuzz.swift under libFuzzer and AddressSanitizer
# (one swiftc call: a SwiftPM executable's own main would win over libFuzzer's), seeds a corpus
# from Fixtures/ (each conformance case as "Content-Type LF body"), and fuzzes for SECONDS.
# Exits non-zero on any crash, trap, sanitizer report or whole-vs-split disagreement; the
# crashing input is left in .build-fuzz/artifacts/. Reproduce one with
#   SWIFT_BACKTRACE=enable=no .build-fuzz/fuzz-multipart .build-fuzz/artifacts/crash-...
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-60}
out=.build-fuzz
mkdir -p "$out/corpus" "$out/artifacts"

# The linker warns about every sanitizer helper symbol; keep its output for when the build fails.
if ! swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name MultipartFuzz \
    Sources/Multipart/*.swift Fuzz/MultipartFuzz.swift -o "$out/fuzz-multipart" >"$out/build.log" 2>&1; then
    grep -v 'ld.gold: warning' "$out/build.log" >&2
    exit 1
fi

for case_dir in Fixtures/conformance/*/*/; do
    name=$(echo "$case_dir" | tr '/' '_')
    { cat "$case_dir/content-type.txt"; printf '\n'; cat "$case_dir/body.bin"; } > "$out/corpus/seed_$name"
    # The parameter parser alone, on every Content-Disposition of the case.
    { grep -a -i "^content-disposition:" "$case_dir/body.bin" || true; } | head -3 | while IFS= read -r line; do
        printf '#%s' "${line#*:}" | tr -d '\r' > "$out/corpus/seed_param_$(printf '%s' "$line" | cksum | cut -d' ' -f1)"
    done
done

"$out/fuzz-multipart" "$out/corpus" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -artifact_prefix="$out/artifacts/" -print_final_stats=1 >"$out/fuzz.log" 2>&1 && status=0 || status=$?
grep -E '^Done|ERROR|SUMMARY|Fatal error|Precondition failed|stat::number_of_executed_units|stat::peak_rss' "$out/fuzz.log" || true
if [[ $status -ne 0 ]]; then
    echo "fuzzing found a failure (exit $status); see $out/fuzz.log and $out/artifacts/" >&2
    exit 1
fi
