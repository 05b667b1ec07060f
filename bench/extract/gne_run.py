"""Run GNE (GeneralNewsExtractor) on one dev set's pages, in process, timed.

Called by `cargo bench --bench extract` with the venv's python:
    gne_run.py MANIFEST.json OUT.json
MANIFEST.json as for trafilatura_run.py. Writes {"version": ..., "warmup": n,
"pages": {id: {"text", "title", "author", "date", "secs"[, "error"]}}}.

GNE takes a decoded string: the timed call decodes the raw bytes as
trafilatura does (trafilatura.utils.decode_file: BOM, declared charset,
detection), then runs GeneralNewsExtractor().extract(html) with its defaults.
Its publish_time is the page's own string; the Rust side reads the date in it.
GNE has no source field. A page GNE gives up on (NoContentException or any
other error) is an empty result, with the error kept.
"""

import gzip
import json
import pathlib
import sys
import time

import gne
from gne import GeneralNewsExtractor
from trafilatura.utils import decode_file


def read(path):
    raw = pathlib.Path(path).read_bytes()
    return gzip.decompress(raw) if path.endswith(".gz") else raw


def main():
    manifest, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    entries = json.loads(manifest.read_text(encoding="utf-8"))
    pages = [(e["id"], read(e["path"])) for e in entries]
    extractor = GeneralNewsExtractor()

    def run(raw):
        try:
            r = extractor.extract(decode_file(raw))
        except Exception as e:  # a page GNE cannot read is its miss, not the run's end
            return {"text": "", "error": f"{type(e).__name__}: {e}"}
        return {
            "text": r.get("content") or "",
            "title": r.get("title"),
            "author": r.get("author"),
            "date": r.get("publish_time"),
        }

    warm = pages[:5]
    for _, raw in warm:
        run(raw)

    result = {}
    for pid, raw in pages:
        t = time.perf_counter()
        page = run(raw)
        page["secs"] = time.perf_counter() - t
        result[pid] = page
    out.write_text(
        json.dumps({"version": gne.__version__, "warmup": len(warm), "pages": result}, ensure_ascii=False),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
