#!/usr/bin/env bash
# Benchmarks/ocr-bench.sh [DIR]   (default ./.build-bench)
#
# OCR through the release `intake serve` with 2 workers: a 20-page text PDF (40 lines of prose a
# page, written here) is rendered at 300 dpi and wrapped back into a PDF with no text layer (a
# scan); prints the time from upload to `processed` for one such scan, then pages per second for
# four at once (2 workers). Needs tesseract-ocr, tesseract-ocr-eng, poppler-utils, img2pdf.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=${1:-$PWD/.build-bench}
mkdir -p "$dir"
for tool in tesseract pdftoppm img2pdf; do command -v $tool >/dev/null || { echo "ocr-bench.sh needs $tool" >&2; exit 2; }; done
swift build -c release --product intake >/dev/null
intake=$(swift build -c release --show-bin-path)/intake
work=$(mktemp -d "$dir/ocr-XXXXXX")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$intake" serve --port "$port" --data-dir "$work/data" --workers 2 >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

python3 - "$work/text.pdf" <<'PY'
import sys
words = ("ingestion knowledge passage upload durable queue worker extract index search ranking chunk "
         "scanned page paragraph archive invoice contract report summary figure table").split()
pages = []
for p in range(20):
    lines = []
    for l in range(40):
        line = " ".join(words[(p * 7 + l * 3 + i) % len(words)] for i in range(11))
        lines.append(f"({line}) Tj 0 -16 Td")
    pages.append("BT /F1 11 Tf 60 760 Td " + " ".join(lines) + " ET")
objects = ["<< /Type /Catalog /Pages 2 0 R >>", None, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
kids = []
for content in pages:
    stream = content.encode()
    objects.append(f"<< /Length {len(stream)} >>\nstream\n{content}\nendstream")
    objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents {len(objects)} 0 R >>")
    kids.append(f"{len(objects)} 0 R")
objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
out = b"%PDF-1.4\n"
offsets = []
for number, body in enumerate(objects, 1):
    offsets.append(len(out))
    out += f"{number} 0 obj\n{body}\nendobj\n".encode()
xref = len(out)
out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode() + b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
open(sys.argv[1], "wb").write(out)
PY
pdftoppm -r 300 -gray -png "$work/text.pdf" "$work/page"
img2pdf "$work"/page-*.png -o "$work/scan.pdf"
echo "scan: $(ls "$work"/page-*.png | wc -l) pages, $(stat -c %s "$work/scan.pdf") bytes"

upload() { curl -s -F "file=@$work/scan.pdf;filename=$1;type=application/pdf" "http://127.0.0.1:$port/uploads" | python3 -c 'import json,sys; print(json.load(sys.stdin)["documents"][0]["id"])'; }
status() { curl -s "http://127.0.0.1:$port/documents/$1" | python3 -c 'import json,sys; d = json.load(sys.stdin); print(d["status"])'; }
wait_processed() { for id in "$@"; do while [[ $(status "$id") != processed && $(status "$id") != dead ]]; do sleep 0.2; done; done; }

# One scan: upload to processed. Each upload here is another content, so none is deduplicated.
start=$(date +%s.%N)
one=$(upload scan-a.pdf)
wait_processed "$one"
end=$(date +%s.%N)
curl -s "http://127.0.0.1:$port/documents/$one" | python3 -c 'import json,sys; d = json.load(sys.stdin); print("note:", d.get("note"), "error:", d.get("error"))'
python3 -c "print(f'one 20-page scan, upload to processed: {$end - $start:.1f} s ({20 / ($end - $start):.2f} pages/s, one worker busy)')"

# Four scans at once (their bytes differ by a comment, so each is its own document): 80 pages, 2 workers.
for n in 1 2 3 4; do cp "$work/scan.pdf" "$work/scan-$n.pdf"; printf '%%%s\n' "copy $n" >>"$work/scan-$n.pdf"; done
start=$(date +%s.%N)
ids=()
for n in 1 2 3 4; do ids+=("$(curl -s -F "file=@$work/scan-$n.pdf;type=application/pdf" "http://127.0.0.1:$port/uploads" | python3 -c 'import json,sys; print(json.load(sys.stdin)["documents"][0]["id"])')"); done
wait_processed "${ids[@]}"
end=$(date +%s.%N)
python3 -c "print(f'four 20-page scans with 2 workers: {$end - $start:.1f} s, {80 / ($end - $start):.2f} pages/s')"
