"""Intel TDX collateral end to end: real Intel PCS responses (bodies and issuer-chain headers)
served on loopback at the real PCS v4 paths; planning, cache, refetch, outages, bundles."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from urllib.parse import quote, urlsplit

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

import teeclient
from teeclient.cli import app
from teeclient.collateral.cache import CachingFetcher, DiskCache
from teeclient.collateral.fetch import HttpFetcher, OfflineFetcher
from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.errors import CollateralFetchError, TdxCollateralMissingError
from teeclient.platforms import VerifyOptions
from teeclient.platforms.tdx.collateral import plan
from teeclient.policy.result import CheckStatus
from teeclient.trust import TrustStore
from teeclient.verification import collect_collateral, load_evidence

from .conftest import Clock, appraisal_checks, run_without_network, service_settings

TDX = Path(__file__).resolve().parents[2] / "fixtures" / "real" / "tdx"
COLL = TDX / "collateral-2026-01-tinfoil"
QUOTE = (TDX / "v5-tdx15-90c06f-gtg" / "quote.dat").read_bytes()
NOW = datetime(2026, 2, 3, 1, tzinfo=UTC)  # go-tdx-guest's time for this quote: UpToDate
runner = CliRunner()

TCB_PATH = "/tdx/certification/v4/tcb"
QE_PATH = "/tdx/certification/v4/qe/identity"
CRL_PATH = "/sgx/certification/v4/pckcrl"
ROOT_PATH = "/IntelSGXRootCA.der"


def _chain_header(name: str) -> str:
    """An issuer chain as Intel PCS sends it: URL-encoded concatenated PEM."""
    return quote((COLL / name).read_text(), safe="")


# (path, query, body file, content type, issuer-chain header) exactly as Intel PCS v4 serves.
PCS: tuple[tuple[str, str, str, str, dict[str, str]], ...] = (
    (
        TCB_PATH,
        "fmspc=90c06f000000",
        "tcb_info_90c06f000000.json",
        "application/json",
        {"TCB-Info-Issuer-Chain": _chain_header("tcb_info_90c06f000000_issuer_chain.pem")},
    ),
    (
        TCB_PATH,
        "fmspc=00a06d080000",
        "tcb_info_00a06d080000.json",
        "application/json",
        {"TCB-Info-Issuer-Chain": _chain_header("tcb_info_00a06d080000_issuer_chain.pem")},
    ),
    (
        QE_PATH,
        "",
        "qe_identity.json",
        "application/json",
        {"SGX-Enclave-Identity-Issuer-Chain": _chain_header("qe_identity_issuer_chain.pem")},
    ),
    (
        CRL_PATH,
        "ca=platform&encoding=der",
        "pck_crl_platform.der",
        "application/pkix-crl",
        {"SGX-PCK-CRL-Issuer-Chain": _chain_header("pck_crl_platform_issuer_chain.pem")},
    ),
    (
        CRL_PATH,
        "ca=processor&encoding=der",
        "pck_crl_processor.der",
        "application/pkix-crl",
        {"SGX-PCK-CRL-Issuer-Chain": _chain_header("pck_crl_processor_issuer_chain.pem")},
    ),
    (ROOT_PATH, "", "root_ca_crl.der", "application/pkix-crl", {}),
)


def serve_pcs(server: HTTPServer, status: dict[str, int] | None = None) -> None:
    """Serve the real PCS responses; ``status[path] = code`` makes a path fail."""
    for path, query, name, content_type, headers in PCS:
        body = (COLL / name).read_bytes()

        def handler(
            request: Request,
            body: bytes = body,
            ctype: str = content_type,
            hdrs: dict[str, str] = headers,
        ) -> Response:
            code = (status or {}).get(request.path, 200)
            if code != 200:
                return Response(b"", status=code, headers={"Retry-After": "0"})
            return Response(body, content_type=ctype, headers=hdrs)

        server.expect_request(path, query_string=query or None).respond_with_handler(handler)


def _count(server: HTTPServer) -> dict[str, int]:
    out: dict[str, int] = {}
    for request, _ in server.log:
        key = request.path + ("?" + request.query_string.decode() if request.query_string else "")
        out[key] = out.get(key, 0) + 1
    return out


def _fetcher(server: HTTPServer, cache: Path, clock: Clock) -> CachingFetcher:
    settings = service_settings(server.url_for(""), cache)
    return CachingFetcher(
        HttpFetcher(settings=settings, sleep=lambda s: None), DiskCache(cache), clock=clock
    )


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    return TrustStore.vendor()


@pytest.fixture
def pcs(httpserver: HTTPServer) -> HTTPServer:
    serve_pcs(httpserver)
    return httpserver


def _supplied_appraisal(trust: TrustStore) -> teeclient.Appraisal:
    return teeclient.verify(QUOTE, collateral=sorted(COLL.iterdir()), at=NOW, trust=trust)


# --- planning ---------------------------------------------------------------------------------


def test_plan_pcs_v4_requests_and_revocation_modes() -> None:
    settings = service_settings("https://pccs.example:8081/")
    fetch = plan(
        QUOTE,
        supplied=CollateralSet(),
        options=VerifyOptions(),
        settings=settings,
        revocation="fetch",
    )
    assert [r.url for r in fetch] == [
        "https://pccs.example:8081/tdx/certification/v4/tcb?fmspc=90c06f000000",
        "https://pccs.example:8081/tdx/certification/v4/qe/identity",
        "https://pccs.example:8081/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
        "https://pccs.example:8081/IntelSGXRootCA.der",
    ]
    assert [r.purpose for r in fetch] == [
        "tdx.tcb_info.90c06f000000",
        "tdx.qe_identity",
        "tdx.pck_crl.platform",
        "tdx.root_ca_crl",
    ]
    assert all(r.required and r.allow_network and r.method == "GET" for r in fetch)
    cached = plan(
        QUOTE,
        supplied=CollateralSet(),
        options=VerifyOptions(),
        settings=settings,
        revocation="cached",
    )
    assert [(r.required, r.allow_network) for r in cached[2:]] == [(False, False)] * 2
    optional = plan(
        QUOTE,
        supplied=CollateralSet(),
        options=VerifyOptions(),
        settings=settings,
        revocation="fetch-optional",
    )
    assert [(r.required, r.allow_network) for r in optional[2:]] == [(False, True)] * 2
    off = plan(
        QUOTE,
        supplied=CollateralSet(),
        options=VerifyOptions(),
        settings=settings,
        revocation="off",
    )
    assert [r.purpose for r in off] == ["tdx.tcb_info.90c06f000000", "tdx.qe_identity"]
    default = plan(
        QUOTE,
        supplied=CollateralSet(),
        options=VerifyOptions(),
        settings=teeclient.collateral.settings.CollateralSettings(),
        revocation="fetch",
    )
    assert default[0].url.startswith("https://api.trustedservices.intel.com/tdx/")
    assert default[3].url == "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"


def test_plan_skips_what_is_supplied() -> None:
    settings = service_settings("https://pcs.test")
    everything = CollateralSet.from_files(sorted(COLL.iterdir()))
    assert (
        plan(
            QUOTE,
            supplied=everything,
            options=VerifyOptions(),
            settings=settings,
            revocation="fetch",
        )
        == []
    )
    # Another platform's TCB Info does not count; the QE identity and CRLs do.
    partial = CollateralSet.from_files(
        [COLL / "tcb_info_00a06d080000.json", COLL / "qe_identity.json", COLL / "root_ca_crl.der"]
    )
    assert [
        r.purpose
        for r in plan(
            QUOTE, supplied=partial, options=VerifyOptions(), settings=settings, revocation="fetch"
        )
    ] == ["tdx.tcb_info.90c06f000000", "tdx.pck_crl.platform"]
    # dcap-qvl's collateral.json holds all four.
    dcap = TDX / "v4-b0c06f-dcap"
    assert (
        plan(
            (dcap / "quote.dat").read_bytes(),
            supplied=CollateralSet.from_files([dcap / "collateral.json"]),
            options=VerifyOptions(),
            settings=settings,
            revocation="fetch",
        )
        == []
    )


# --- fetching through the cache ---------------------------------------------------------------


def test_cold_fetches_each_item_once_warm_fetches_nothing(
    pcs: HTTPServer, tmp_path: Path, trust: TrustStore
) -> None:
    settings = service_settings(pcs.url_for(""), tmp_path)
    fetcher = _fetcher(pcs, tmp_path, Clock(NOW))
    cold = teeclient.verify(QUOTE, at=NOW, fetcher=fetcher, settings=settings, trust=trust)
    assert cold.accepted
    assert _count(pcs) == {
        f"{TCB_PATH}?fmspc=90c06f000000": 1,
        QE_PATH: 1,
        f"{CRL_PATH}?ca=platform&encoding=der": 1,
        ROOT_PATH: 1,
    }
    warm = teeclient.verify(QUOTE, at=NOW, fetcher=fetcher, settings=settings, trust=trust)
    assert warm.accepted
    assert len(pcs.log) == 4
    by_id = {c.id: c for c in warm.checks}
    assert by_id["collateral.sources"].actual == "4 cache"
    assert by_id["tdx.revocation.pck_crl"].status is CheckStatus.PASS
    assert by_id["tdx.revocation.root_crl"].status is CheckStatus.PASS
    # Fetched collateral gives exactly the appraisal of the same files supplied by hand.
    same = [(c.id, c.status, c.message) for c in _supplied_appraisal(trust).checks]
    assert [(c.id, c.status, c.message) for c in warm.checks][:-1] == same[:-1]


def test_fetched_items_keep_the_issuer_chain_headers_the_verifier_reads(
    pcs: HTTPServer, tmp_path: Path, trust: TrustStore
) -> None:
    settings = service_settings(pcs.url_for(""), tmp_path)
    gathered = collect_collateral(
        load_evidence(QUOTE),
        supplied=CollateralSet(),
        fetcher=HttpFetcher(settings=settings),
        revocation="fetch",
        settings=settings,
    )
    headers = {urlsplit(i.source).path: dict(i.headers) for i in gathered.items}
    assert "tcb-info-issuer-chain" in headers[TCB_PATH]
    assert "sgx-enclave-identity-issuer-chain" in headers[QE_PATH]
    assert "sgx-pck-crl-issuer-chain" in headers[CRL_PATH]
    assert headers[TCB_PATH]["tcb-info-issuer-chain"].startswith("-----BEGIN%20CERTIFICATE")
    # The chains travel only in the headers: without them, the TCB Info has no signer.
    assert teeclient.verify(QUOTE, collateral=gathered.items, at=NOW, trust=trust).accepted
    stripped = [
        CollateralItem(data=i.data, source=i.source, headers=MappingProxyType({}))
        for i in gathered.items
    ]
    with pytest.raises(TdxCollateralMissingError, match="issuer chain"):
        teeclient.verify(QUOTE, collateral=stripped, at=NOW, trust=trust)


def test_refetch_after_next_update(pcs: HTTPServer, tmp_path: Path, trust: TrustStore) -> None:
    clock = Clock(NOW)
    settings = service_settings(pcs.url_for(""), tmp_path)
    fetcher = _fetcher(pcs, tmp_path, clock)
    assert teeclient.verify(QUOTE, at=NOW, fetcher=fetcher, settings=settings, trust=trust).accepted
    assert len(pcs.log) == 4
    # TCB Info, QE Identity and the PCK CRL expire 2026-02-11; the root CA CRL on 2026-04-03.
    clock.now = datetime(2026, 2, 12, tzinfo=UTC)
    late = teeclient.verify(QUOTE, at=clock.now, fetcher=fetcher, settings=settings, trust=trust)
    counts = _count(pcs)
    assert counts[f"{TCB_PATH}?fmspc=90c06f000000"] == 2
    assert counts[QE_PATH] == 2
    assert counts[f"{CRL_PATH}?ca=platform&encoding=der"] == 2
    assert counts[ROOT_PATH] == 1
    # (the loopback PCS still serves January's collateral: stale, and the appraisal says so)
    assert not late.accepted
    assert {c.id: c.status for c in late.checks}["tdx.collateral.tcb_info"] is CheckStatus.FAIL


def test_corrupt_cached_tcb_info_is_discarded_and_refetched(
    pcs: HTTPServer, tmp_path: Path, trust: TrustStore
) -> None:
    settings = service_settings(pcs.url_for(""), tmp_path)
    fetcher = _fetcher(pcs, tmp_path, Clock(NOW))
    teeclient.verify(QUOTE, at=NOW, fetcher=fetcher, settings=settings, trust=trust)
    (body,) = [p for p in tmp_path.glob("*.bin") if p.read_bytes().startswith(b'{"tcbInfo"')]
    body.write_bytes(body.read_bytes().replace(b"UpToDate", b"UpToDatE", 1))
    assert teeclient.verify(QUOTE, at=NOW, fetcher=fetcher, settings=settings, trust=trust).accepted
    assert _count(pcs)[f"{TCB_PATH}?fmspc=90c06f000000"] == 2


# --- outages: bounded retries, then exit 4 ----------------------------------------------------


def _cli_verify(url: str, tmp_path: Path, **env: str) -> tuple[int, dict[str, object], float]:
    quote_file = tmp_path / "quote.dat"
    quote_file.write_bytes(QUOTE)
    start = time.monotonic()
    result = runner.invoke(
        app,
        [
            "verify",
            str(quote_file),
            "--at",
            "2026-02-03T01:00:00Z",
            "--pcs-url",
            url,
            "--cache-dir",
            str(tmp_path / "cache"),
            "--json",
        ],
        env={
            "TEECLIENT_HTTP_ATTEMPTS": "2",
            "TEECLIENT_HTTP_TIMEOUT": "0.3",
            "TEECLIENT_INTEL_ROOT_CRL_URL": f"{url}{ROOT_PATH}",
            **env,
        },
    )
    return result.exit_code, json.loads(result.stdout), time.monotonic() - start


@pytest.mark.parametrize("status", [503, 429, 500])
def test_service_errors_are_retried_then_exit_4(
    httpserver: HTTPServer, tmp_path: Path, status: int
) -> None:
    serve_pcs(httpserver, {TCB_PATH: status})
    code, out, elapsed = _cli_verify(httpserver.url_for(""), tmp_path)
    assert code == 4
    error = out["error"]
    assert isinstance(error, dict)
    assert error["code"] == "collateral.fetch_failed"
    assert error["field"] == "tdx.tcb_info.90c06f000000"
    assert _count(httpserver)[f"{TCB_PATH}?fmspc=90c06f000000"] == 2  # TEECLIENT_HTTP_ATTEMPTS
    assert elapsed < 10


def test_timeouts_are_bounded_then_exit_4(tmp_path: Path) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections (kernel backlog) and never answers
    try:
        code, out, elapsed = _cli_verify(f"http://127.0.0.1:{silent.getsockname()[1]}", tmp_path)
    finally:
        silent.close()
    assert code == 4
    assert isinstance(out["error"], dict) and out["error"]["code"] == "collateral.fetch_failed"
    assert "Timeout" in str(out["error"]["actual"])
    assert elapsed < 10


def test_optional_crl_outage_is_unavailable_not_fatal(
    httpserver: HTTPServer, tmp_path: Path, trust: TrustStore
) -> None:
    """`teeclient fetch` asks for CRLs as optional: an outage leaves them out, loudly."""
    serve_pcs(httpserver, {ROOT_PATH: 503})
    settings = service_settings(httpserver.url_for(""), None)
    gathered = collect_collateral(
        load_evidence(QUOTE),
        supplied=CollateralSet(),
        fetcher=HttpFetcher(settings=settings, sleep=lambda s: None),
        revocation="fetch-optional",
        settings=settings,
    )
    assert len(gathered.items) == 3
    ((request, error),) = gathered.unavailable
    assert request.purpose == "tdx.root_ca_crl" and error.code == "collateral.fetch_failed"
    with pytest.raises(CollateralFetchError):
        collect_collateral(
            load_evidence(QUOTE),
            supplied=CollateralSet(),
            fetcher=HttpFetcher(settings=settings, sleep=lambda s: None),
            revocation="fetch",
            settings=settings,
        )


# --- bundles and prefetch ---------------------------------------------------------------------


def test_fetch_bundle_reverifies_offline_with_no_socket(pcs: HTTPServer, tmp_path: Path) -> None:
    quote_file = tmp_path / "quote.dat"
    quote_file.write_bytes(QUOTE)
    bundle = tmp_path / "bundle.json"
    base = pcs.url_for("").rstrip("/")
    env = {"TEECLIENT_INTEL_ROOT_CRL_URL": f"{base}{ROOT_PATH}"}
    fetched = runner.invoke(
        app,
        ["fetch", str(quote_file), "-o", str(bundle), "--pcs-url", base, "--no-cache", "--json"],
        env=env,
    )
    assert fetched.exit_code == 0, fetched.output
    summary = json.loads(fetched.stdout)
    assert [c["origin"] for c in summary["collateral"]] == ["network"] * 4
    assert summary["unavailable"] == []
    recorded = json.loads(bundle.read_text())["collateral"]
    assert {k for item in recorded for k in item["headers"]} >= {
        "tcb-info-issuer-chain",
        "sgx-enclave-identity-issuer-chain",
        "sgx-pck-crl-issuer-chain",
    }
    online = runner.invoke(
        app,
        [
            *("verify", str(quote_file), "--at", "2026-02-03T01:00:00Z"),
            *("--pcs-url", base, "--no-cache", "--json"),
        ],
        env=env,
    )
    assert online.exit_code == 0, online.output
    assert len(pcs.log) == 8
    code, offline, _ = run_without_network(
        "verify",
        str(bundle),
        "--offline",
        "--at",
        "2026-02-03T01:00:00Z",
        "--json",
        "--cache-dir",
        str(tmp_path / "empty-cache"),
    )
    assert code == 0
    assert offline["accepted"] is True
    assert appraisal_checks(offline) == appraisal_checks(json.loads(online.stdout))
    sources = next(c for c in offline["checks"] if c["id"] == "collateral.sources")
    assert sources["actual"] == "4 bundle"
    assert len(pcs.log) == 8


def test_cache_prefetch_then_offline_verify_from_cache(
    pcs: HTTPServer, tmp_path: Path, trust: TrustStore
) -> None:
    quote_file = tmp_path / "quote.dat"
    quote_file.write_bytes(QUOTE)
    base = pcs.url_for("").rstrip("/")
    cache = tmp_path / "cache"
    result = runner.invoke(
        app,
        [
            *("cache", "prefetch", str(quote_file), "--pcs-url", base),
            *("--cache-dir", str(cache), "--json"),
        ],
        env={"TEECLIENT_INTEL_ROOT_CRL_URL": f"{base}{ROOT_PATH}"},
    )
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)["results"]
    assert [c["origin"] for c in entry["cached"]] == ["network"] * 4
    assert entry["unavailable"] == []
    status = runner.invoke(app, ["cache", "status", "--cache-dir", str(cache), "--json"])
    purposes = sorted(e["purpose"] for e in json.loads(status.stdout)["entries"])
    assert purposes == [
        "tdx.pck_crl.platform",
        "tdx.qe_identity",
        "tdx.root_ca_crl",
        "tdx.tcb_info.90c06f000000",
    ]
    # Later, offline: everything comes from the cache (the fetcher below cannot fetch).
    offline = CachingFetcher(OfflineFetcher(), DiskCache(cache), clock=Clock(NOW))
    appraisal = teeclient.verify(
        QUOTE, at=NOW, fetcher=offline, settings=service_settings(base), trust=trust
    )
    assert appraisal.accepted
    assert {c.id: c for c in appraisal.checks}["collateral.sources"].actual == "4 cache"
    assert len(pcs.log) == 4
