#!/bin/sh
# Build the one-folder desktop program into dist/cmo-desk/ and report its size.
# Usage: packaging/build_linux.sh [PYTHON]   (default: .venv/bin/python)
# PyInstaller is needed for building only: pip install "pyinstaller>=6".
set -eu
cd "$(dirname "$0")/.."
PY="${1:-.venv/bin/python}"
"$PY" -c "import PyInstaller" 2>/dev/null || {
    echo "PyInstaller is not installed: $PY -m pip install 'pyinstaller>=6'" >&2; exit 2; }
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/cmo-desk.spec
echo "Built dist/cmo-desk ($(du -sh dist/cmo-desk | cut -f1))"
echo "Largest files:"
find dist/cmo-desk -type f -printf '%s\t%P\n' | sort -rn | head -15 |
    awk -F'\t' '{ printf "  %7.1f MB  %s\n", $1 / 1048576, $2 }'
