#!/usr/bin/env bash
# Creates the Python environment the extract benchmark compares against:
# trafilatura and GNE, pinned, in target/extract-venv (never the system Python).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/extract-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import trafilatura, gne' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r bench/extract/requirements.txt
fi
echo "$venv/bin/python"
