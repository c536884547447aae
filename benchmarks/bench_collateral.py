"""Collateral benchmarks: cold verify (VCEK fetched from a loopback KDS) vs warm (cached)."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from pytest_httpserver import HTTPServer

from benchmarks._harness import Result, measure

ROOT = Path(__file__).resolve().parent.parent
VECTOR = ROOT / "fixtures" / "real" / "sev-snp" / "genoa-v5-oak"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def run() -> list[Result]:
    """Cold and warm verification through the cache, with requests counted."""
    import teeclient
    from teeclient.collateral.cache import CachingFetcher, DiskCache
    from teeclient.collateral.fetch import HttpFetcher
    from teeclient.collateral.settings import CollateralSettings
    from teeclient.platforms.sev_snp import abi, kds
    from teeclient.trust import TrustStore

    report = (VECTOR / "report.bin").read_bytes()
    vcek = (VECTOR / "vcek.der").read_bytes()
    parsed = abi.parse_report(report)
    url = urlsplit(
        kds.vcek_url(
            abi.Product.GENOA,
            parsed.chip_id,
            abi.decode_tcb(parsed.reported_tcb, abi.Product.GENOA),
        )
    )
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(url.path, query_string=url.query).respond_with_data(vcek)
    server.start()
    trust = TrustStore.vendor()
    workdir = Path(tempfile.mkdtemp(prefix="teeclient-bench-"))
    try:
        settings = replace(
            CollateralSettings().with_base_url("amd_kds", server.url_for("")),
            cache_dir=workdir / "cache",
        )
        http = HttpFetcher(settings=settings)
        counter = {"n": 0}

        def cold() -> None:
            shutil.rmtree(workdir / "cache", ignore_errors=True)
            fetcher = CachingFetcher(http, DiskCache(workdir / "cache"))
            teeclient.verify(report, at=NOW, trust=trust, fetcher=fetcher, settings=settings)
            counter["n"] += 1

        server.clear_log()
        cold_result = measure(
            "sev-snp cold verify (VCEK from loopback KDS)", cold, samples=60, warmup=5
        )
        cold_requests = len(server.log) / counter["n"]
        warm_fetcher = CachingFetcher(http, DiskCache(workdir / "cache"))
        teeclient.verify(report, at=NOW, trust=trust, fetcher=warm_fetcher, settings=settings)
        server.clear_log()
        warm_result = measure(
            "sev-snp warm verify (VCEK from disk cache)",
            lambda: teeclient.verify(
                report, at=NOW, trust=trust, fetcher=warm_fetcher, settings=settings
            ),
            samples=200,
        )
        warm_requests = len(server.log) / (200 + 20)
        offline = measure(
            "sev-snp verify, VCEK supplied (no fetcher)",
            lambda: teeclient.verify(report, at=NOW, trust=trust, collateral=[vcek]),
            samples=200,
        )
        http.close()
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return [
        replace(cold_result, note=f"{cold_requests:.2f} HTTP requests per verify"),
        replace(warm_result, note=f"{warm_requests:.2f} HTTP requests per verify"),
        offline,
    ]


def main() -> int:
    """Print the results and their JSON."""
    results = run()
    for r in results:
        sys.stdout.write(r.line() + "\n")
    sys.stdout.write(json.dumps([r.to_dict() for r in results]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
