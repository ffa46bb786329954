#!/bin/sh
# Run the built program as a user would: version, demo project, offscreen screenshot, Word export,
# integrity check, a folder of PDFs read by the program's own reading children.
# Usage: packaging/smoke_test.sh [dist/cmo-desk/cmo-desk]
set -eu
cd "$(dirname "$0")/.."
BIN="${1:-dist/cmo-desk/cmo-desk}"
[ -x "$BIN" ] || { echo "No built program at $BIN; run packaging/build_linux.sh first." >&2; exit 2; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# Two small PDFs to import, written before the environment is cleared (any Python with the
# project's test helpers will do; without one the step is skipped).
PDFS=""
if [ -x .venv/bin/python ] && .venv/bin/python - "$WORK/pdfs" <<'PY' 2>/dev/null; then PDFS="$WORK/pdfs"; fi
import sys
from pathlib import Path
sys.path.insert(0, "tests")
from pdf_builder import build_pdf
out = Path(sys.argv[1])
out.mkdir()
for n in (1, 2):
    pages = [[f"Peer navigators in study {n}, page {p}: clients trusted them."] for p in (1, 2)]
    (out / f"study-{n}.pdf").write_bytes(build_pdf(pages, title=f"Peer navigation {n}"))
PY
# A clean environment: no Python on the path, own config and data folders.
export PATH=/usr/bin:/bin PYTHONPATH= PYTHONHOME= CMO_DESK_CONFIG_DIR="$WORK/config" \
       XDG_DATA_HOME="$WORK/data" QT_QPA_PLATFORM=offscreen
fail=0
step() { printf '%-34s' "$1"; }

step "version"
"$BIN" --version

step "demo project"
"$BIN" demo "$WORK/demo.cmo"

step "integrity check"
"$BIN" check "$WORK/demo.cmo" || fail=1

step "backups"
"$BIN" backups "$WORK/demo.cmo" --now | head -1

step "screenshot (offscreen)"
start=$(date +%s.%N)
if "$BIN" "$WORK/demo.cmo" --coder "Lan Nguyen" --screenshot "$WORK/desk.png" 2>"$WORK/shot.err" \
        && [ -s "$WORK/desk.png" ]; then
    end=$(date +%s.%N)
    echo "ok, $(wc -c < "$WORK/desk.png") bytes, $(echo "$end - $start" | bc) s end to end"
    cp "$WORK/desk.png" dist/smoke-screenshot.png 2>/dev/null || true
else
    echo "skipped: the desk could not take a screenshot ($(head -c 300 "$WORK/shot.err"))"
fi

step "Word export"
if "$BIN" export --help >/dev/null 2>&1; then
    if "$BIN" export "$WORK/demo.cmo" --records all -o "$WORK/evidence.docx" >"$WORK/export.out" 2>&1 \
            && [ -s "$WORK/evidence.docx" ]; then
        echo "ok, $(wc -c < "$WORK/evidence.docx") bytes"
    else
        echo "FAILED: $(head -c 400 "$WORK/export.out")"; fail=1
    fi
else
    echo "skipped: this build has no export command"
fi

step "PDF import (reading children)"
if [ -n "$PDFS" ]; then
    "$BIN" new "$WORK/pdfs.cmo" >/dev/null
    if CMO_DESK_CODER="Ana" "$BIN" import "$WORK/pdfs.cmo" "$PDFS" >"$WORK/import.out" 2>&1 \
            && "$BIN" info "$WORK/pdfs.cmo" --json | grep -q '"documents": 2'; then
        echo "ok, 2 PDFs, 4 pages"
    else
        echo "FAILED: $(head -c 400 "$WORK/import.out")"; fail=1
    fi
else
    echo "skipped: no Python with the test helpers to write the PDFs"
fi

[ "$fail" -eq 0 ] && echo "Smoke test passed." || { echo "Smoke test FAILED." >&2; exit 1; }
