"""Run trafilatura on one dev set's pages, in process, and time each page.

Called by `cargo bench --bench extract` with the venv's python:
    trafilatura_run.py MANIFEST.json OUT.json [--fast] [--metadata]
MANIFEST.json is [{"id": ..., "path": ".../page.html[.gz]", "url": ... or null}, ...].
Writes {"version": ..., "warmup": n, "pages": {id: {"text", "secs", ...}}}.
Pages are read and decompressed before timing; the timed call is
trafilatura.extract on the raw bytes (it sniffs the encoding itself), as the
Rust side times decode + clean from raw bytes.

Without --metadata the call is the plain text extraction (the aeb table).
With it, the output is trafilatura's JSON with metadata (title, author, date,
and sitename as the source: the nearest field it has to 来源),
and the date is asked for with its time (htmldate's default parameters plus an
output format with hours and minutes; a time htmldate does not find prints as
00:00:00).
"""

import gzip
import json
import pathlib
import sys
import time

import trafilatura
from trafilatura.settings import set_date_params


def read(path):
    raw = pathlib.Path(path).read_bytes()
    return gzip.decompress(raw) if path.endswith(".gz") else raw


def main():
    manifest, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    fast = "--fast" in sys.argv[3:]
    metadata = "--metadata" in sys.argv[3:]
    entries = json.loads(manifest.read_text(encoding="utf-8"))
    pages = [(e["id"], read(e["path"]), e.get("url")) for e in entries]
    date_params = {**set_date_params(True), "outputformat": "%Y-%m-%d %H:%M:%S"}

    def run(raw, url):
        if not metadata:
            return {"text": trafilatura.extract(raw, url=url, include_comments=False, fast=fast) or ""}
        out = trafilatura.extract(
            raw,
            url=url,
            include_comments=False,
            fast=fast,
            output_format="json",
            with_metadata=True,
            date_extraction_params=date_params,
        )
        doc = json.loads(out) if out else {}
        return {
            "text": doc.get("text") or "",
            "title": doc.get("title"),
            "author": doc.get("author"),
            "date": doc.get("date"),
            "source": doc.get("sitename"),
        }

    # Warm-up: imports, lazy tables, caches.
    warm = pages[:5]
    for _, raw, url in warm:
        run(raw, url)

    result = {}
    for pid, raw, url in pages:
        t = time.perf_counter()
        page = run(raw, url)
        page["secs"] = time.perf_counter() - t
        result[pid] = page
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
