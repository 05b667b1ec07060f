#!/usr/bin/env bash
# Creates the Python environment the crawl benchmark compares against:
# Scrapy, pinned, in target/crawl-venv (never the system Python).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/crawl-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import scrapy' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r bench/crawl/requirements.txt
fi
echo "$venv/bin/python"
