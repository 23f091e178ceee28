#!/usr/bin/env bash
# Builds dist/cartesia-studio/ (a folder you can zip and ship) with PyInstaller.
# Usage: packaging/build.sh   (from anywhere; uses ./.venv if present)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
python="${PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || python=python3
"$python" -m pip install -q -e . pyinstaller
"$python" -m PyInstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller \
    packaging/cartesia-studio.spec
echo "Built $root/dist/cartesia-studio/cartesia-studio"
