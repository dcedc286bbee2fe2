#!/usr/bin/env bash
# Benchmarks/kb-bench.sh [DIR]   (default: ./.build-bench)
#
# Builds kb-bench in release, makes 50 PDFs of 20 pages each (reportlab) in DIR if missing, and
# runs it: documents/s for 1,000 small text files and for the 50 PDFs with 2 workers, and search
# latency p50/p99 over >= 10,000 chunks. Needs pdftotext (poppler-utils) and `pip install reportlab`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=${1:-$PWD/.build-bench}
mkdir -p "$dir/kb-pdfs"
swift build -c release --product kb-bench >/dev/null
if [[ $(ls "$dir/kb-pdfs" | wc -l) -lt 50 ]]; then
    python3 - "$dir/kb-pdfs" <<'PY'
import random, sys
from reportlab.pdfgen import canvas
words = "ingestion parser boundary chunk passage search ranking worker lease queue document knowledge upload stream".split()
random.seed(7)
for n in range(50):
    c = canvas.Canvas(f"{sys.argv[1]}/report-{n:02d}.pdf", invariant=1)
    for page in range(20):
        for line in range(40):
            c.drawString(54, 760 - 18 * line, " ".join(random.choice(words) for _ in range(12)).capitalize() + ".")
        c.showPage()
    c.save()
PY
fi
"$(swift build -c release --show-bin-path)/kb-bench" "$dir/kb-data" "$dir/kb-pdfs"
rm -rf "$dir/kb-data"
