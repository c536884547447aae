"""Collateral end to end: loopback KDS at the real URL paths, verify, cache, bundle, CLI."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

import teeclient
from teeclient.cli import app
from teeclient.collateral.cache import AsyncCachingFetcher, CachingFetcher, DiskCache
from teeclient.collateral.fetch import AsyncHttpFetcher, HttpFetcher
from teeclient.collateral.gather import gather_async
from teeclient.collateral.items import CollateralSet
from teeclient.errors import ChainExpiredError, CollateralFetchError
from teeclient.platforms import VerifyOptions
from teeclient.platforms.sev_snp import abi, kds
from teeclient.platforms.sev_snp.collateral import plan
from teeclient.policy.load import parse_policy
from teeclient.policy.result import CheckStatus
from teeclient.testing.evidence import SnpReportSpec
from teeclient.testing.pki.amd import AmdPki
from teeclient.trust import TrustStore

from .conftest import GENOA, GENOA_NOW, NO_SOCKET, REAL, Clock, fast_settings

REPORT = (GENOA / "report.bin").read_bytes()
VCEK = (GENOA / "vcek.der").read_bytes()
runner = CliRunner()


def _vcek_path() -> tuple[str, str]:
    parsed = abi.parse_report(REPORT)
    url = kds.vcek_url(
        abi.Product.GENOA,
        parsed.chip_id,
        abi.decode_tcb(parsed.reported_tcb, abi.Product.GENOA),
        base="http://h",
    )
    split = urlsplit(url)
    return split.path, split.query


def _serve_real_vcek(httpserver: HTTPServer) -> None:
    path, query = _vcek_path()
    httpserver.expect_request(path, query_string=query).respond_with_data(
        VCEK, content_type="application/pkix-cert"
    )


def _requests_to(httpserver: HTTPServer, path: str) -> int:
    return sum(1 for request, _ in httpserver.log if request.path == path)


def _fetcher(
    httpserver: HTTPServer, cache: Path, clock: Clock | None = None, grace: timedelta = timedelta(0)
) -> CachingFetcher:
    settings = fast_settings(httpserver.url_for(""), cache)
    return CachingFetcher(
        HttpFetcher(settings=settings, sleep=lambda s: None),
        DiskCache(cache),
        clock=clock or (lambda: GENOA_NOW),
        stale_grace=grace,
    )


def test_cold_fetches_once_warm_fetches_nothing(httpserver: HTTPServer, tmp_path: Path) -> None:
    _serve_real_vcek(httpserver)
    settings = fast_settings(httpserver.url_for(""), tmp_path)
    fetcher = _fetcher(httpserver, tmp_path)
    cold = teeclient.verify(REPORT, at=GENOA_NOW, fetcher=fetcher, settings=settings)
    assert cold.accepted
    assert len(httpserver.log) == 1
    warm = teeclient.verify(REPORT, at=GENOA_NOW, fetcher=fetcher, settings=settings)
    assert warm.accepted
    assert len(httpserver.log) == 1
    sources = {c.id: c for c in warm.checks}["collateral.sources"]
    assert sources.actual == "1 cache"
    unavailable = [c for c in warm.checks if c.id == "collateral.unavailable"]
    assert unavailable and unavailable[0].status is CheckStatus.SKIP  # CRL: if-present, loud


def test_corrupted_cached_vcek_is_refetched(httpserver: HTTPServer, tmp_path: Path) -> None:
    _serve_real_vcek(httpserver)
    settings = fast_settings(httpserver.url_for(""), tmp_path)
    fetcher = _fetcher(httpserver, tmp_path)
    teeclient.verify(REPORT, at=GENOA_NOW, fetcher=fetcher, settings=settings)
    (body,) = tmp_path.glob("*.bin")
    data = bytearray(body.read_bytes())
    data[200] ^= 0x01
    body.write_bytes(bytes(data))
    assert teeclient.verify(REPORT, at=GENOA_NOW, fetcher=fetcher, settings=settings).accepted
    assert len(httpserver.log) == 2


def test_swapped_cached_certificate_is_caught_by_verification(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    """A cache entry replaced by another valid certificate (consistent hash) still fails."""
    import hashlib

    _serve_real_vcek(httpserver)
    settings = fast_settings(httpserver.url_for(""), tmp_path)
    fetcher = _fetcher(httpserver, tmp_path)
    teeclient.verify(REPORT, at=GENOA_NOW, fetcher=fetcher, settings=settings)
    (body,) = tmp_path.glob("*.bin")
    other = (REAL / "turin-v5-oak" / "vcek.der").read_bytes()
    body.write_bytes(other)
    meta = body.with_suffix(".json")
    doc = json.loads(meta.read_text())
    doc.update(sha256=hashlib.sha256(other).hexdigest(), size=len(other))
    meta.write_text(json.dumps(doc))
    with pytest.raises(teeclient.EvidenceError):
        teeclient.verify(REPORT, at=GENOA_NOW, fetcher=fetcher, settings=settings)


def test_service_down_fails_with_collateral_error_exit_4(tmp_path: Path) -> None:
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    report = tmp_path / "r.bin"
    report.write_bytes(REPORT)
    result = runner.invoke(
        app,
        [
            "verify",
            str(report),
            "--at",
            "2026-01-01T00:00:00Z",
            "--kds-url",
            f"http://127.0.0.1:{port}",
            "--cache-dir",
            str(tmp_path / "c"),
            "--json",
        ],
        env={"TEECLIENT_HTTP_ATTEMPTS": "2", "TEECLIENT_HTTP_TIMEOUT": "0.5"},
    )
    assert result.exit_code == 4, result.output
    out = json.loads(result.stdout)
    assert out["error"]["code"] == "collateral.fetch_failed"
    assert out["verified"] is False


def test_offline_without_vcek_is_collateral_missing(tmp_path: Path) -> None:
    report = tmp_path / "r.bin"
    report.write_bytes(REPORT)
    result = runner.invoke(
        app, ["verify", str(report), "--offline", "--cache-dir", str(tmp_path / "c"), "--json"]
    )
    assert result.exit_code == 4
    assert json.loads(result.stdout)["error"]["code"] == "collateral.missing"


def test_fifty_concurrent_verifications_make_one_request(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    path, _ = _vcek_path()
    _serve_real_vcek(httpserver)
    settings = fast_settings(httpserver.url_for(""), tmp_path)
    fetcher = _fetcher(httpserver, tmp_path)
    trust = TrustStore.vendor()
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(
            pool.map(
                lambda _: teeclient.verify(
                    REPORT, at=GENOA_NOW, fetcher=fetcher, settings=settings, trust=trust
                ),
                range(50),
            )
        )
    assert all(r.accepted for r in results)
    assert _requests_to(httpserver, path) == 1


def test_fifty_concurrent_async_fetches_make_one_request(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    path, _ = _vcek_path()
    _serve_real_vcek(httpserver)
    settings = fast_settings(httpserver.url_for(""), tmp_path)
    requests = plan(
        REPORT,
        supplied=CollateralSet(),
        options=VerifyOptions(),
        settings=settings,
        revocation="off",
    )
    assert len(requests) == 1

    async def run() -> None:
        inner = AsyncHttpFetcher(settings=settings)
        fetcher = AsyncCachingFetcher(inner, DiskCache(tmp_path), clock=lambda: GENOA_NOW)
        try:
            results = await asyncio.gather(*(gather_async(requests, fetcher) for _ in range(50)))
        finally:
            await inner.aclose()
        assert all(r.items[0].data == VCEK for r in results)

    asyncio.run(run())
    assert _requests_to(httpserver, path) == 1


# --- generated PKI: CRL freshness, refetch after nextUpdate, stale-if-error ----------------


@pytest.fixture(scope="module")
def genoa_pki() -> AmdPki:
    return AmdPki.generate("genoa")


def _generated(pki: AmdPki) -> tuple[bytes, bytes]:
    spec = SnpReportSpec.for_product("genoa")
    vcek = pki.issue_vcek(chip_id=spec.chip_id, tcb={"bl": 10, "tee": 0, "snp": 25, "ucode": 84})
    return spec.build(vcek.key), vcek.der


def _serve_generated(
    httpserver: HTTPServer,
    pki: AmdPki,
    clock: Clock,
    vcek_der: bytes,
    spec_report: bytes,
    state: dict[str, int],
) -> None:
    parsed = abi.parse_report(spec_report)
    vurl = urlsplit(
        kds.vcek_url(
            abi.Product.GENOA,
            parsed.chip_id,
            abi.decode_tcb(parsed.reported_tcb, abi.Product.GENOA),
            base="http://h",
        )
    )
    httpserver.expect_request(vurl.path, query_string=vurl.query).respond_with_data(vcek_der)

    def crl(request: Request) -> Response:
        state["crl"] = state.get("crl", 0) + 1
        if state.get("down"):
            return Response(b"", status=503)
        return Response(pki.crl(this_update=clock.now, next_update=clock.now + timedelta(days=1)))

    httpserver.expect_request("/vcek/v1/Genoa/crl").respond_with_handler(crl)


def test_crl_required_fetched_refetched_after_next_update_and_stale_if_error(
    httpserver: HTTPServer, tmp_path: Path, genoa_pki: AmdPki
) -> None:
    clock = Clock(now=datetime(2026, 3, 1, tzinfo=UTC))
    report, vcek_der = _generated(genoa_pki)
    state: dict[str, int] = {}
    _serve_generated(httpserver, genoa_pki, clock, vcek_der, report, state)
    policy = parse_policy(
        textwrap.dedent("""
        version = 1
        [revocation]
        amd_crl = "allow-stale-until:2d"
        [collateral]
        max_staleness = "2d"
        [[sev_snp]]
        products = ["genoa"]
    """)
    )
    trust = genoa_pki.trust_store()
    settings = fast_settings(httpserver.url_for(""), tmp_path)
    fetcher = _fetcher(httpserver, tmp_path, clock, grace=policy.collateral.max_staleness)

    def run() -> teeclient.Appraisal:
        return teeclient.verify(
            report, at=clock.now, policy=policy, trust=trust, fetcher=fetcher, settings=settings
        )

    first = run()
    assert first.accepted and state["crl"] == 1
    assert {c.id: c.status for c in first.checks}["sev_snp.revocation"] is CheckStatus.PASS
    run()
    assert state["crl"] == 1  # cached CRL still fresh
    clock.advance(timedelta(days=1, hours=1))
    assert run().accepted and state["crl"] == 2  # refetched after nextUpdate
    # The service goes down; the cached CRL goes stale but stays within both graces.
    state["down"] = 1
    clock.advance(timedelta(days=1, hours=1))
    stale = run()
    assert stale.accepted
    statuses = {c.id: c.status for c in stale.checks}
    assert statuses["collateral.stale"] is CheckStatus.WARN
    assert statuses["sev_snp.revocation"] is CheckStatus.WARN
    # Beyond the grace: a collateral error (exit 4 class).
    clock.advance(timedelta(days=3))
    with pytest.raises(CollateralFetchError):
        run()


# --- bundles: fetch, then re-verify offline in a process that cannot open sockets ---------


def _checks(doc: dict[str, object]) -> list[tuple[str, str]]:
    checks = doc["checks"]
    assert isinstance(checks, list)
    return [(c["id"], c["status"]) for c in checks if not c["id"].startswith("collateral.")]


def test_fetch_bundle_reverifies_offline_with_no_socket(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    _serve_real_vcek(httpserver)
    report = tmp_path / "report.bin"
    report.write_bytes(REPORT)
    bundle = tmp_path / "bundle.json"
    cache = tmp_path / "cache"
    fetched = runner.invoke(
        app,
        [
            "fetch",
            str(report),
            "-o",
            str(bundle),
            "--kds-url",
            httpserver.url_for(""),
            "--cache-dir",
            str(cache),
            "--json",
        ],
    )
    assert fetched.exit_code == 0, fetched.output
    summary = json.loads(fetched.stdout)
    assert [c["origin"] for c in summary["collateral"]] == ["network"]
    assert summary["unavailable"][0]["url"].endswith("/vcek/v1/Genoa/crl")  # not served: optional
    online = runner.invoke(
        app,
        [
            "verify",
            str(report),
            "--at",
            summary["captured_at"],
            "--kds-url",
            httpserver.url_for(""),
            "--cache-dir",
            str(cache),
            "--json",
        ],
    )
    assert online.exit_code == 0, online.output
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            NO_SOCKET,
            "verify",
            str(bundle),
            "--offline",
            "--json",
            "--cache-dir",
            str(tmp_path / "empty-cache"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SOCKET_ATTEMPTS=0" in proc.stderr
    offline = json.loads(proc.stdout)
    assert offline["at"] == summary["captured_at"]
    assert offline["accepted"] is True
    assert _checks(offline) == _checks(json.loads(online.stdout))
    sources = next(c for c in offline["checks"] if c["id"] == "collateral.sources")
    assert sources["actual"] == "1 bundle"


def test_save_bundle_from_verify_and_library_verify_bundle(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    _serve_real_vcek(httpserver)
    report = tmp_path / "report.bin"
    report.write_bytes(REPORT)
    bundle = tmp_path / "b.json"
    result = runner.invoke(
        app,
        [
            "verify",
            str(report),
            "--at",
            "2026-01-01T00:00:00Z",
            "--kds-url",
            httpserver.url_for(""),
            "--no-cache",
            "--save-bundle",
            str(bundle),
        ],
    )
    assert result.exit_code == 0, result.output
    appraisal = teeclient.verification.verify_bundle(bundle)
    assert appraisal.accepted
    assert appraisal.at == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ChainExpiredError):
        teeclient.verification.verify_bundle(bundle, at=datetime(2033, 1, 1, tzinfo=UTC))


# --- planning --------------------------------------------------------------------------


def test_plan_turin_url_uses_fmc_and_eight_byte_hwid() -> None:
    data = (REAL / "turin-v5-oak" / "report.bin").read_bytes()
    (request, crl) = plan(
        data,
        supplied=CollateralSet(),
        options=VerifyOptions(),
        settings=fast_settings("https://kds.test"),
        revocation="fetch",
    )
    split = urlsplit(request.url)
    assert split.path == "/vcek/v1/Turin/3b42092f69c656d3"
    query = dict(p.split("=") for p in split.query.split("&"))
    assert query == {"fmcSPL": "0", "blSPL": "1", "teeSPL": "0", "snpSPL": "2", "ucodeSPL": "71"}
    assert request.required and crl.required and crl.allow_network
    assert crl.url == "https://kds.test/vcek/v1/Turin/crl"


def test_plan_cases() -> None:
    empty = CollateralSet()
    settings = fast_settings("https://kds.test")
    v2 = (REAL / "milan-v2-virtee" / "report.bin").read_bytes()
    assert (
        plan(v2, supplied=empty, options=VerifyOptions(), settings=settings, revocation="off") == []
    )
    milan = plan(
        v2,
        supplied=empty,
        options=VerifyOptions(product="milan"),
        settings=settings,
        revocation="cached",
    )
    assert milan[0].url.startswith("https://kds.test/vcek/v1/Milan/")
    assert len(urlsplit(milan[0].url).path.rsplit("/", 1)[1]) == 128
    assert not milan[1].required and not milan[1].allow_network
    vlek = (REAL / "milan-v3-vlek-aws" / "report.bin").read_bytes()
    (crl,) = plan(
        vlek,
        supplied=empty,
        options=VerifyOptions(),
        settings=settings,
        revocation="fetch-optional",
    )
    assert crl.url == "https://kds.test/vlek/v1/Milan/crl" and not crl.required
    supplied = CollateralSet.from_files([GENOA / "vcek.der"])
    assert (
        plan(
            REPORT, supplied=supplied, options=VerifyOptions(), settings=settings, revocation="off"
        )
        == []
    )


def test_settings_change_base_url_in_plan() -> None:
    settings = replace(fast_settings("https://mirror.example/kds/"))
    (request,) = plan(
        REPORT,
        supplied=CollateralSet(),
        options=VerifyOptions(),
        settings=settings,
        revocation="off",
    )
    assert request.url.startswith("https://mirror.example/kds/vcek/v1/Genoa/")
