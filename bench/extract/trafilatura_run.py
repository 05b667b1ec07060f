"""Run trafilatura on the aeb pages, in process, and time each page.

Called by `cargo bench --bench extract` with the venv's python:
    trafilatura_run.py AEB_DIR OUT.json [--fast]
Writes {"version": ..., "warmup": n, "pages": {id: {"text": ..., "secs": ...}}}.
Pages are read and decompressed before timing; the timed call is
trafilatura.extract on the raw bytes (it sniffs the encoding itself), as the
Rust side times decode + clean from raw bytes.
"""

import gzip
import json
import pathlib
import sys
import time

import trafilatura


def main():
    aeb, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    fast = "--fast" in sys.argv[3:]
    truth = json.loads((aeb / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for pid in sorted(truth):
        raw = gzip.decompress((aeb / "html" / f"{pid}.html.gz").read_bytes())
        pages.append((pid, raw, truth[pid].get("url")))

    def run(raw, url):
        return trafilatura.extract(
            raw, url=url, include_comments=False, fast=fast
        ) or ""

    # Warm-up: imports, lazy tables, caches.
    warm = pages[:5]
    for _, raw, url in warm:
        run(raw, url)

    result = {}
    for pid, raw, url in pages:
        t = time.perf_counter()
        text = run(raw, url)
        result[pid] = {"text": text, "secs": time.perf_counter() - t}
    out.write_text(
        json.dumps(
            {
                "version": trafilatura.__version__,
                "fast": fast,
                "warmup": len(warm),
                "pages": result,
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
