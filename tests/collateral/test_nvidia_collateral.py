"""NVIDIA collateral end to end: the real hopper_e2e RIMs and OCSP answers served on loopback
by a RIM service (``/v1/rim/{id}``) and an OCSP responder (POST ``application/ocsp-request``);
two-round planning, cache, refetch, outages, bundles; generated PKI for OCSP nonces.

The real set has two clocks (docs/nvidia-gpu.md): device-chain answers are current on
2025-08-21, RIM-chain answers were issued on 2025-10-24. At T1 = 2025-08-21 the appraisal is
therefore "verified, rejected: RIM-chain OCSP answers issued after the verification time" —
deterministically, which is what these tests compare across cold, warm and offline runs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp as x509_ocsp
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

import teeclient
from teeclient.cli import app
from teeclient.collateral.cache import CachingFetcher, DiskCache
from teeclient.collateral.fetch import Fetcher, HttpFetcher, OfflineFetcher, StaticFetcher
from teeclient.collateral.items import CollateralRequest, CollateralSet
from teeclient.collateral.settings import CollateralSettings
from teeclient.errors import CollateralInvalidError, OcspNonceMismatchError
from teeclient.platforms import VerifyOptions
from teeclient.platforms.nvidia.collateral import plan
from teeclient.policy.load import parse_policy
from teeclient.policy.result import CheckStatus
from teeclient.testing.nvidia_evidence import evidence_json
from teeclient.trust import TrustStore
from teeclient.verification import (
    collect_collateral,
    load_evidence,
    make_bundle,
    verify_bundle,
    verify_with_details,
)
from tests._nvidia import DEVICE_OCSP, E2E, E2E_NONCE, E2E_RIMS, RIM_OCSP, T1, generated

from .conftest import Clock, appraisal_checks, run_without_network, service_settings

REPORT = E2E / "hopperAttestationReport.txt"
CHAIN = E2E / "hopperCertChain.txt"
DRIVER_ID = "NV_GPU_DRIVER_GH100_550.90.07"
VBIOS_ID = "NV_GPU_VBIOS_1010_0200_882_96009F0001"
POLICY_TEXT = """
version = 1
[revocation]
nvidia_ocsp = "require"
[gpu]
require_nonce = true
[[nvidia_gpu]]
arch = ["hopper"]
"""
POLICY = parse_policy(POLICY_TEXT)
# The two checks the real set fails at T1 (its RIM-chain answers are from 2025-10-24).
TWO_CLOCKS = {"nvidia_gpu.ocsp.driver_rim", "nvidia_gpu.ocsp.vbios_rim"}
runner = CliRunner()


def _answers() -> dict[int, bytes]:
    """serial → the real DER OCSP response about it."""
    out: dict[int, bytes] = {}
    for path in (*DEVICE_OCSP, *RIM_OCSP):
        der = base64.b64decode(path.read_bytes())
        (single,) = x509_ocsp.load_der_ocsp_response(der).responses
        out[single.serial_number] = der
    return out


ANSWERS = _answers()
RIMS = {DRIVER_ID: (E2E / f"{DRIVER_ID}.xml").read_bytes(), VBIOS_ID: E2E_RIMS[1].read_bytes()}


def rim_json(rim_id: str, xml: bytes) -> bytes:
    """The RIM service's answer (specs/nvidia-gpu.md §5.2) around a real RIM."""
    return json.dumps(
        {
            "id": rim_id,
            "rim": base64.b64encode(xml).decode(),
            "sha256": hashlib.sha256(xml).hexdigest(),
            "rim_format": "TCG",
            "request_id": "loopback",
        }
    ).encode()


def serve_nvidia(
    server: HTTPServer,
    *,
    rims: dict[str, bytes] | None = None,
    answer: Callable[[x509_ocsp.OCSPRequest], bytes | None] | None = None,
    status: dict[str, int] | None = None,
) -> None:
    """A RIM service and an OCSP responder; ``status`` maps "rim" / "ocsp" to an error code."""
    catalogue = RIMS if rims is None else rims

    def real_answer(req: x509_ocsp.OCSPRequest) -> bytes | None:
        return ANSWERS.get(req.serial_number)

    respond = answer or real_answer

    def rim_handler(request: Request) -> Response:
        code = (status or {}).get("rim", 200)
        if code != 200:
            return Response(b"", status=code)
        rim_id = request.path.rsplit("/", 1)[1]
        xml = catalogue.get(rim_id)
        if xml is None:
            return Response(b'{"error": "RIM not found"}', status=404)
        return Response(rim_json(rim_id, xml), content_type="application/json")

    def ocsp_handler(request: Request) -> Response:
        code = (status or {}).get("ocsp", 200)
        if code != 200:
            return Response(b"", status=code, headers={"Retry-After": "0"})
        assert request.headers["Content-Type"] == "application/ocsp-request"
        der = respond(x509_ocsp.load_der_ocsp_request(request.get_data()))
        if der is None:
            return Response(b"", status=404)
        return Response(der, content_type="application/ocsp-response")

    server.expect_request(
        re.compile(r"^/v1/rim/[A-Za-z0-9_.]+$"), method="GET"
    ).respond_with_handler(rim_handler)
    server.expect_request("/", method="POST").respond_with_handler(ocsp_handler)


def _count(server: HTTPServer) -> dict[str, int]:
    """Requests by RIM id or by OCSP-requested serial (hex)."""
    out: dict[str, int] = {}
    for request, _ in server.log:
        if request.method == "POST":
            key = f"{x509_ocsp.load_der_ocsp_request(request.get_data()).serial_number:x}"
        else:
            key = request.path.rsplit("/", 1)[1]
        out[key] = out.get(key, 0) + 1
    return out


def _chain() -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(CHAIN.read_bytes())


def _fetcher(server: HTTPServer, cache: Path, clock: Clock) -> CachingFetcher:
    settings = service_settings(server.url_for(""), cache)
    return CachingFetcher(
        HttpFetcher(settings=settings, sleep=lambda s: None), DiskCache(cache), clock=clock
    )


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    return TrustStore.vendor()


def _report() -> bytes:
    return REPORT.read_bytes()


def _verify(
    fetcher: Fetcher | None,
    settings: CollateralSettings | None,
    trust: TrustStore,
    *,
    collateral: list[Path] | None = None,
) -> teeclient.Appraisal:
    return teeclient.verify(
        _report(),
        collateral=collateral if collateral is not None else [CHAIN],
        policy=POLICY,
        at=T1,
        nonce=E2E_NONCE,
        trust=trust,
        fetcher=fetcher,
        settings=settings,
    )


# --- planning ---------------------------------------------------------------------------------


def _plan(
    supplied: list[Path], revocation: str = "fetch", **settings: object
) -> list[CollateralRequest]:
    return plan(
        _report(),
        supplied=CollateralSet.from_files(supplied),
        options=VerifyOptions(),
        settings=service_settings("https://nv.example", None, **settings),
        revocation=revocation,
    )


def test_plan_rims_and_device_chain_ocsp_then_rim_chain_ocsp() -> None:
    first = _plan([CHAIN])
    assert [(r.method, r.url) for r in first[:2]] == [
        ("GET", f"https://nv.example/v1/rim/{DRIVER_ID}"),
        ("GET", f"https://nv.example/v1/rim/{VBIOS_ID}"),
    ]
    assert all(r.required and r.absent_ok for r in first[:2])
    chain = _chain()
    ocsp_requests = first[2:]
    assert [r.purpose for r in ocsp_requests] == [
        "nvidia.ocsp.device[0].brom",
        "nvidia.ocsp.device[0].provisioner_ica",
        "nvidia.ocsp.device[0].identity",
    ]
    for request, cert, issuer in zip(ocsp_requests, chain[1:4], chain[2:5], strict=True):
        assert (request.method, request.url) == ("POST", "https://nv.example/")
        assert request.headers["Content-Type"] == "application/ocsp-request"
        assert request.required and not request.absent_ok
        parsed = x509_ocsp.load_der_ocsp_request(request.body or b"")
        assert parsed.serial_number == cert.serial_number
        assert parsed.hash_algorithm.name == "sha384"
        assert parsed.issuer_name_hash == hashlib.sha384(issuer.subject.public_bytes()).digest()
        assert len(parsed.extensions) == 0  # no nonce: the same request every time
    assert [r.key for r in _plan([CHAIN])] == [r.key for r in first]
    # Once the RIMs are at hand: the three device certificates and L4/L3/L2 of both RIM
    # chains (L3 and L2 are shared: four distinct certificates), exactly the 7 real answers.
    second = _plan([CHAIN, *E2E_RIMS])
    serials = {x509_ocsp.load_der_ocsp_request(r.body or b"").serial_number for r in second}
    assert len(second) == 7 and serials == set(ANSWERS)
    assert _plan([CHAIN, *E2E_RIMS, *DEVICE_OCSP, *RIM_OCSP]) == []
    assert [r.purpose for r in _plan([CHAIN, *E2E_RIMS, *DEVICE_OCSP])] == [
        "nvidia.ocsp.rim.550.90.07.L4",
        "nvidia.ocsp.rim.550.90.07.L3",
        "nvidia.ocsp.rim.550.90.07.L2",
        "nvidia.ocsp.rim.96.00.9F.00.01.L4",
    ]


def test_plan_revocation_modes_and_service_json_rims(tmp_path: Path) -> None:
    assert [r.method for r in _plan([CHAIN], "off")] == ["GET", "GET"]
    cached = _plan([CHAIN], "cached")[2:]
    assert all(not r.required and not r.allow_network for r in cached)
    optional = _plan([CHAIN], "fetch-optional")[2:]
    assert all(not r.required and r.allow_network for r in optional)
    service = tmp_path / "driver.json"
    service.write_bytes(rim_json(DRIVER_ID, RIMS[DRIVER_ID]))
    wrong = tmp_path / "wrong.json"
    wrong.write_bytes(rim_json("NV_GPU_DRIVER_GH100_1.2.3", RIMS[DRIVER_ID]))
    urls = [r.url for r in _plan([CHAIN, service, wrong], "off")]
    assert urls == [f"https://nv.example/v1/rim/{VBIOS_ID}"]
    # Without a chain a bare report names no certificate (and its RIM ids are unread).
    assert _plan([]) == []


def test_plan_ocsp_nonce_is_bound_to_the_evidence_and_deterministic() -> None:
    first = _plan([CHAIN], ocsp_nonce=True)
    assert [r.key for r in _plan([CHAIN], ocsp_nonce=True)] == [r.key for r in first]
    chain = _chain()
    for request, cert in zip(first[2:], chain[1:4], strict=True):
        nonce = (
            x509_ocsp.load_der_ocsp_request(request.body or b"")
            .extensions.get_extension_for_class(x509.OCSPNonce)
            .value.nonce
        )
        assert (
            nonce
            == hashlib.sha256(
                b"teeclient.nvidia.ocsp-nonce/v1\0" + E2E_NONCE + cert.public_bytes(Encoding.DER)
            ).digest()
        )


# --- fetching through the cache (real data) ---------------------------------------------------


def test_cold_fetches_each_item_once_warm_fetches_nothing(
    httpserver: HTTPServer, tmp_path: Path, trust: TrustStore
) -> None:
    serve_nvidia(httpserver)
    settings = service_settings(httpserver.url_for(""), tmp_path)
    fetcher = _fetcher(httpserver, tmp_path, Clock(T1))
    cold = _verify(fetcher, settings, trust)
    counts = _count(httpserver)
    assert counts == {DRIVER_ID: 1, VBIOS_ID: 1, **{f"{s:x}": 1 for s in ANSWERS}}
    warm = _verify(fetcher, settings, trust)
    assert len(httpserver.log) == 9
    by_id = {c.id: c for c in warm.checks}
    assert by_id["collateral.sources"].actual == "9 cache, 1 supplied"
    assert by_id["nvidia_gpu.measurements"].status is CheckStatus.PASS
    assert by_id["nvidia_gpu.ocsp.device_chain"].status is CheckStatus.PASS
    failed = {c.id for c in warm.checks if c.status is CheckStatus.FAIL}
    assert failed == TWO_CLOCKS
    # Fetched collateral gives exactly the appraisal of the same real files supplied by hand.
    by_hand = _verify(None, None, trust, collateral=[CHAIN, *E2E_RIMS, *DEVICE_OCSP, *RIM_OCSP])
    drop = ("collateral.",)
    for a in (cold, warm):
        assert [(c.id, c.status) for c in a.checks if not c.id.startswith(drop)] == [
            (c.id, c.status) for c in by_hand.checks if not c.id.startswith(drop)
        ]


def test_refetch_after_next_update(
    httpserver: HTTPServer, tmp_path: Path, trust: TrustStore
) -> None:
    serve_nvidia(httpserver)
    clock = Clock(T1)
    settings = service_settings(httpserver.url_for(""), tmp_path)
    fetcher = _fetcher(httpserver, tmp_path, clock)
    _verify(fetcher, settings, trust)
    assert len(httpserver.log) == 9
    # Device-chain answers (nextUpdate 2025-08-22) and the RIMs (no validity of their own:
    # the 1 h default) are refetched; the RIM-chain answers (nextUpdate 2025-10-25) are not.
    clock.advance(timedelta(days=2))
    _verify(fetcher, settings, trust)
    chain = _chain()
    device = {f"{c.serial_number:x}" for c in chain[1:4]}
    counts = _count(httpserver)
    assert {k for k, n in counts.items() if n == 2} == {DRIVER_ID, VBIOS_ID, *device}
    assert sum(counts.values()) == 9 + 5


def test_rim_not_published_is_reference_values_unavailable(
    httpserver: HTTPServer, trust: TrustStore
) -> None:
    serve_nvidia(httpserver, rims={VBIOS_ID: RIMS[VBIOS_ID]})
    settings = service_settings(httpserver.url_for(""))
    appraisal = _verify(HttpFetcher(settings=settings), settings, trust)
    checks = {c.id: c for c in appraisal.checks}
    assert checks["collateral.unavailable"].status is CheckStatus.SKIP
    assert checks["collateral.unavailable"].actual == "collateral.not_found"
    assert DRIVER_ID in checks["collateral.unavailable"].message
    measured = checks["nvidia_gpu.measurements"]
    assert measured.status is CheckStatus.FAIL
    assert (
        measured.message == f"reference values unavailable: supply RIM {DRIVER_ID} (--collateral)"
    )


# --- outages (CLI): bounded retries, then exit 4 ----------------------------------------------


@pytest.mark.parametrize(
    ("service", "code", "field"),
    [
        ("rim", 503, f"nvidia.rim.{DRIVER_ID}"),
        ("ocsp", 429, "nvidia.ocsp.device[0].brom"),
        ("ocsp", 503, "nvidia.ocsp.device[0].brom"),
    ],
)
def test_service_errors_are_retried_then_exit_4(
    httpserver: HTTPServer, tmp_path: Path, service: str, code: int, field: str
) -> None:
    serve_nvidia(httpserver, status={service: code})
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY_TEXT)
    base = httpserver.url_for("")
    result = runner.invoke(
        app,
        [
            *("verify", str(REPORT), "-c", str(CHAIN), "--nonce", E2E_NONCE.hex()),
            *("--at", "2025-08-21T12:00:00Z", "--policy", str(policy), "--json"),
            *("--rim-url", base, "--ocsp-url", base, "--cache-dir", str(tmp_path / "c")),
        ],
        env={"TEECLIENT_HTTP_ATTEMPTS": "2", "TEECLIENT_HTTP_TIMEOUT": "0.3"},
    )
    assert result.exit_code == 4, result.output
    error = json.loads(result.stdout)["error"]
    assert (error["code"], error["field"]) == ("collateral.fetch_failed", field)
    assert max(_count(httpserver).values()) == 2  # TEECLIENT_HTTP_ATTEMPTS


# --- bundles and prefetch (CLI, real data) ----------------------------------------------------


def test_fetch_bundle_reverifies_offline_with_no_socket(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    serve_nvidia(httpserver)
    base = httpserver.url_for("").rstrip("/")
    bundle = tmp_path / "bundle.json"
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY_TEXT)
    fetched = runner.invoke(
        app,
        [
            *("fetch", str(REPORT), "-c", str(CHAIN), "-o", str(bundle), "--json"),
            *("--nonce", E2E_NONCE.hex()),
            *("--rim-url", base, "--ocsp-url", base, "--no-cache"),
        ],
    )
    assert fetched.exit_code == 0, fetched.output
    summary = json.loads(fetched.stdout)
    assert [c["origin"] for c in summary["collateral"]] == ["supplied"] + ["network"] * 9
    assert summary["unavailable"] == []
    assert len(httpserver.log) == 9
    recorded = json.loads(bundle.read_text())["collateral"]
    assert sum(1 for c in recorded if c["method"] == "POST" and c["request_body"]) == 7
    assert json.loads(bundle.read_text())["nonce"] == E2E_NONCE.hex()
    common = ("--at", "2025-08-21T12:00:00Z", "--policy", str(policy))
    online = runner.invoke(
        app,
        [
            *("verify", str(REPORT), "-c", str(CHAIN), *common, "--json"),
            *("--nonce", E2E_NONCE.hex()),
            *("--rim-url", base, "--ocsp-url", base, "--no-cache"),
        ],
    )
    assert online.exit_code == 1, online.output
    code, offline, _ = run_without_network(
        "verify",
        str(bundle),
        "--offline",
        *common,
        "--json",
        "--cache-dir",
        str(tmp_path / "empty"),
    )
    assert code == 1
    assert offline["verified"] is True
    assert appraisal_checks(offline) == appraisal_checks(json.loads(online.stdout))
    failed = {c["id"] for c in offline["checks"] if c["status"] == "fail"}
    assert failed == TWO_CLOCKS
    sources = next(c for c in offline["checks"] if c["id"] == "collateral.sources")
    assert sources["actual"] == "10 bundle"
    assert len(httpserver.log) == 18


def test_cache_prefetch_then_offline_verify_from_cache(
    httpserver: HTTPServer, tmp_path: Path, trust: TrustStore
) -> None:
    serve_nvidia(httpserver)
    base = httpserver.url_for("").rstrip("/")
    cache = tmp_path / "cache"
    evidence = tmp_path / "evidence.json"  # nvattest JSON: the chain travels with the report
    evidence.write_bytes(
        evidence_json(
            [(bytes.fromhex(REPORT.read_text().strip()), CHAIN.read_bytes(), "HOPPER")],
            nonce=E2E_NONCE,
        )
    )
    result = runner.invoke(
        app,
        [
            *("cache", "prefetch", str(evidence), "--json"),
            *("--rim-url", base, "--ocsp-url", base, "--cache-dir", str(cache)),
        ],
    )
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)["results"]
    assert len(entry["cached"]) == 9 and entry["unavailable"] == []
    offline = CachingFetcher(OfflineFetcher(), DiskCache(cache), clock=Clock(T1))
    appraisal = teeclient.verify(
        evidence.read_bytes(),
        policy=POLICY,
        at=T1,
        nonce=E2E_NONCE,
        trust=trust,
        fetcher=offline,
        settings=service_settings(base),
    )
    assert {c.id: c for c in appraisal.checks}["collateral.sources"].actual == "9 cache"
    assert {c.id for c in appraisal.checks if c.status is CheckStatus.FAIL} == TWO_CLOCKS
    assert len(httpserver.log) == 9


# --- generated PKI: an accepted run, OCSP nonces echoed and checked ---------------------------


def _generated_service(server: HTTPServer, *, echo: bool) -> tuple[bytes, TrustStore]:
    gen = generated(nonce=bytes(range(32)))
    certs = {c.serial_number: c for c in gen.device.chain[1:4]}
    certs.update(
        {c.cert.serial_number: c.cert for c in (gen.pki.rim_l4, gen.pki.rim_l3, gen.pki.rim_l2)}
    )

    def answer(req: x509_ocsp.OCSPRequest) -> bytes | None:
        try:
            nonce = req.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            nonce = None
        cert = certs.get(req.serial_number)
        if cert is None:
            return None
        return gen.pki.ocsp_response(
            cert,
            nonce=nonce if echo else None,
            this_update=T1 - timedelta(hours=1),
            next_update=T1 + timedelta(days=1),
        )

    serve_nvidia(server, rims={DRIVER_ID: gen.driver_rim, VBIOS_ID: gen.vbios_rim}, answer=answer)
    return gen.evidence(), gen.pki.trust_store()


def test_generated_accepted_with_ocsp_nonces_and_bundle(httpserver: HTTPServer) -> None:
    evidence, trust = _generated_service(httpserver, echo=True)
    settings = service_settings(httpserver.url_for(""), ocsp_nonce=True)
    nonce = bytes(range(32))
    appraisal, gathered = verify_with_details(
        load_evidence(evidence),
        CollateralSet(),
        policy=POLICY,
        now=T1,
        product=None,
        fetcher=HttpFetcher(settings=settings),
        settings=settings,
        trust=trust,
        nonce=nonce,
    )
    assert appraisal.accepted, [c for c in appraisal.checks if c.status is CheckStatus.FAIL]
    assert len(httpserver.log) == 8  # 2 RIMs (one L4 signs both), 3 + 3 OCSP answers
    gpu = next(c for c in appraisal.components if c.kind == "nvidia-gpu")
    claims: dict[str, Any] = gpu.claims.to_dict()
    checks = [*claims["device_chain"]["ocsp"], *claims["driver_rim"]["chain"]["ocsp"]]
    assert len(checks) == 6 and all(c["nonce_sent"] and c["status"] == "good" for c in checks)
    # The bundle keeps every OCSP request body: offline, the echoed nonces are checked again.
    bundle = make_bundle(
        load_evidence(evidence),
        supplied=CollateralSet(),
        gathered=gathered.items,
        captured_at=T1,
        nonce=nonce,
    )
    offline = verify_bundle(bundle, policy=POLICY, trust=trust)
    assert offline.accepted
    assert [(c.id, c.status) for c in offline.checks if not c.id.startswith("collateral.")] == [
        (c.id, c.status) for c in appraisal.checks if not c.id.startswith("collateral.")
    ]
    # Planned again from the bundle's RIMs, every OCSP request (nonce included) is the one
    # recorded: a bundle lookup by method + URL + body finds each answer.
    rims_only = CollateralSet.of(i for i in bundle.collateral if i.method == "GET")
    replanned = plan(
        evidence,
        supplied=rims_only,
        options=VerifyOptions(),
        settings=settings,
        revocation="fetch",
    )
    assert len(replanned) == 6 and all(r.method == "POST" for r in replanned)
    recorded = StaticFetcher(bundle.collateral)  # falls back to refusing (offline)
    assert {recorded.fetch(r).source for r in replanned} == {settings.base_url("nvidia_ocsp") + "/"}


def test_generated_ocsp_nonce_not_echoed_fails(httpserver: HTTPServer) -> None:
    evidence, trust = _generated_service(httpserver, echo=False)
    settings = service_settings(httpserver.url_for(""), ocsp_nonce=True)
    with pytest.raises(OcspNonceMismatchError):
        teeclient.verify(
            evidence,
            policy=POLICY,
            at=T1,
            nonce=bytes(range(32)),
            trust=trust,
            fetcher=HttpFetcher(settings=settings),
            settings=settings,
        )
    # Without a nonce in the request, the same nonce-less answers are accepted.
    plain = service_settings(httpserver.url_for(""))
    assert teeclient.verify(
        evidence,
        policy=POLICY,
        at=T1,
        nonce=bytes(range(32)),
        trust=trust,
        fetcher=HttpFetcher(settings=plain),
        settings=plain,
    ).accepted


def test_unsuccessful_ocsp_answer_is_refused_not_cached(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    """An OCSP ``tryLater`` served with HTTP 200 carries no answer: never cached or used."""
    try_later = x509_ocsp.OCSPResponseBuilder.build_unsuccessful(
        x509_ocsp.OCSPResponseStatus.TRY_LATER
    ).public_bytes(Encoding.DER)
    serve_nvidia(httpserver, answer=lambda req: try_later)
    settings = service_settings(httpserver.url_for(""), tmp_path)
    supplied = CollateralSet.from_files([CHAIN, *E2E_RIMS])
    for fetcher in (_fetcher(httpserver, tmp_path, Clock(T1)), HttpFetcher(settings=settings)):
        gathered = collect_collateral(
            load_evidence(REPORT),
            supplied=supplied,
            fetcher=fetcher,
            revocation="fetch-optional",
            settings=settings,
        )
        assert gathered.items == ()
        assert {e.code for _, e in gathered.unavailable} == {"collateral.invalid"}
        assert len(gathered.unavailable) == 7
        with pytest.raises(CollateralInvalidError):
            collect_collateral(
                load_evidence(REPORT),
                supplied=supplied,
                fetcher=fetcher,
                revocation="fetch",
                settings=settings,
            )
    assert not list(tmp_path.glob("*.bin"))
