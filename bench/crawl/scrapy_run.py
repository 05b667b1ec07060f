"""The Scrapy side of `cargo bench --bench crawl`: a plain spider that yields
one item per page (its URL and title) and follows every link, as a crawler
user writes it first. Hosts are reached through the bench's loopback server
as an HTTP proxy (the server tells hosts apart by the Host header).

    python scrapy_run.py --per-domain N --depth D --delay S --out FILE
                         [--slot-delay HOST=SECS]... SEED...
"""

import argparse
import os

import scrapy
from scrapy.crawler import CrawlerProcess


class Bench(scrapy.Spider):
    name = "bench"

    def __init__(self, seeds, **kw):
        super().__init__(**kw)
        self.start_urls = seeds

    def parse(self, response):
        yield {"url": response.url, "title": response.css("title::text").get()}
        yield from response.follow_all(css="a")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-domain", type=int, required=True)
    ap.add_argument("--depth", type=int, required=True)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--proxy", required=True)
    # Scrapy does not read Crawl-delay: the bench gives it each host's.
    ap.add_argument("--slot-delay", action="append", default=[])
    ap.add_argument("seeds", nargs="+")
    a = ap.parse_args()
    os.environ["http_proxy"] = a.proxy
    os.environ.pop("no_proxy", None)
    slots = {}
    for s in a.slot_delay:
        host, secs = s.split("=")
        slots[host] = {"delay": float(secs), "concurrency": a.per_domain}
    hosts = len({s.split("/")[2] for s in a.seeds})
    process = CrawlerProcess(
        settings={
            "ROBOTSTXT_OBEY": True,
            "CONCURRENT_REQUESTS": max(16, a.per_domain * hosts),
            "CONCURRENT_REQUESTS_PER_DOMAIN": a.per_domain,
            "DOWNLOAD_DELAY": a.delay,
            "RANDOMIZE_DOWNLOAD_DELAY": False,
            "DOWNLOAD_SLOTS": slots,
            "DEPTH_LIMIT": a.depth,
            "COOKIES_ENABLED": False,
            "TELNETCONSOLE_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            "USER_AGENT": "scrapy-bench (+loopback)",
            "FEEDS": {a.out: {"format": "jsonlines", "overwrite": True}},
        }
    )
    process.crawl(Bench, seeds=a.seeds)
    process.start()


if __name__ == "__main__":
    main()
