#!/usr/bin/env bash
# Build the PyInstaller bundle (dist/isthmus/) and the .deb (dist/isthmus_<version>_amd64.deb).
#   packaging/build.sh [PYTHON]     PYTHON: the interpreter with Isthmus and PyInstaller installed
#                                   (default: python3; `make package` passes .venv/bin/python)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="${1:-python3}"
cd "$root"
"$py" -c "import PyInstaller" 2>/dev/null \
  || { echo "packaging/build.sh: PyInstaller is not installed for $py (pip install -e '.[package]')" >&2; exit 2; }
"$py" -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
  packaging/isthmus.spec
packaging/build_deb.sh dist/isthmus dist
