"""Collateral benchmarks: cold verify (collateral from loopback services) vs warm (disk cache),
and HTTP requests per verify, for SEV-SNP, Intel TDX and an NVIDIA GPU.

Real data served at the real URL paths: the Genoa VCEK (AMD KDS); Intel PCS responses with
their issuer-chain headers (TCB Info, QE Identity, PCK CRL, root CA CRL); the hopper_e2e RIMs
(RIM service JSON) and OCSP answers (POST responder). "cold" empties the cache before each
verify (one HTTP connection pool kept, as a long-running client would); "warm" reads the cache
(a fixed cache clock keeps the 2025/2026 collateral fresh). The NVIDIA policy requires OCSP so
that every answer is fetched; its appraisal is "rejected" at the device clock (the RIM-chain
answers are from a later day, see docs/nvidia-gpu.md), which does not change the work done.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from benchmarks._harness import Result, measure, report

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "fixtures" / "real"
SNP = REAL / "sev-snp" / "genoa-v5-oak"
SNP_NOW = datetime(2026, 1, 1, tzinfo=UTC)
TDX_QUOTE = REAL / "tdx" / "v5-tdx15-90c06f-gtg" / "quote.dat"
TDX_COLL = REAL / "tdx" / "collateral-2026-01-tinfoil"
TDX_NOW = datetime(2026, 2, 3, 1, tzinfo=UTC)
NV = REAL / "nvidia" / "hopper_e2e"
NV_NOW = datetime(2025, 8, 21, 12, tzinfo=UTC)
NV_NONCE = bytes.fromhex("931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb")
NV_POLICY = (
    'version = 1\n[revocation]\nnvidia_ocsp = "require"\n[[nvidia_gpu]]\narch = ["hopper"]\n'
)


def _serve_snp(server: HTTPServer) -> bytes:
    from teeclient.platforms.sev_snp import abi, kds

    report = (SNP / "report.bin").read_bytes()
    parsed = abi.parse_report(report)
    url = urlsplit(
        kds.vcek_url(
            abi.Product.GENOA,
            parsed.chip_id,
            abi.decode_tcb(parsed.reported_tcb, abi.Product.GENOA),
        )
    )
    server.expect_request(url.path, query_string=url.query).respond_with_data(
        (SNP / "vcek.der").read_bytes()
    )
    return report


def _serve_tdx(server: HTTPServer) -> bytes:
    def chain(name: str) -> str:
        return quote((TDX_COLL / name).read_text(), safe="")

    for path, query, name, headers in (
        (
            "/tdx/certification/v4/tcb",
            "fmspc=90c06f000000",
            "tcb_info_90c06f000000.json",
            {"TCB-Info-Issuer-Chain": chain("tcb_info_90c06f000000_issuer_chain.pem")},
        ),
        (
            "/tdx/certification/v4/qe/identity",
            None,
            "qe_identity.json",
            {"SGX-Enclave-Identity-Issuer-Chain": chain("qe_identity_issuer_chain.pem")},
        ),
        (
            "/sgx/certification/v4/pckcrl",
            "ca=platform&encoding=der",
            "pck_crl_platform.der",
            {"SGX-PCK-CRL-Issuer-Chain": chain("pck_crl_platform_issuer_chain.pem")},
        ),
        ("/IntelSGXRootCA.der", None, "root_ca_crl.der", {}),
    ):
        server.expect_request(path, query_string=query).respond_with_data(
            (TDX_COLL / name).read_bytes(), headers=headers
        )
    return TDX_QUOTE.read_bytes()


def _serve_nvidia(server: HTTPServer) -> bytes:
    from cryptography.x509 import ocsp

    answers: dict[int, bytes] = {}
    for path in (NV / "ocsp").glob("*.b64"):
        der = base64.b64decode(path.read_bytes())
        (single,) = ocsp.load_der_ocsp_response(der).responses
        answers[single.serial_number] = der
    rims = {p.stem: p.read_bytes() for p in NV.glob("*.xml")}

    def rim(request: Request) -> Response:
        rim_id = request.path.rsplit("/", 1)[1]
        xml = rims[rim_id]
        body = {"id": rim_id, "rim": base64.b64encode(xml).decode()}
        body["sha256"] = hashlib.sha256(xml).hexdigest()
        return Response(json.dumps(body), content_type="application/json")

    def responder(request: Request) -> Response:
        serial = ocsp.load_der_ocsp_request(request.get_data()).serial_number
        return Response(answers[serial], content_type="application/ocsp-response")

    server.expect_request(re.compile(r"^/v1/rim/.+$")).respond_with_handler(rim)
    server.expect_request("/", method="POST").respond_with_handler(responder)
    return (NV / "hopperAttestationReport.txt").read_bytes()


def _cold_warm(
    label: str,
    server: HTTPServer,
    workdir: Path,
    verify: Callable[[Any, Any], object],
    now: datetime,
    *,
    cold_samples: int,
    warm_samples: int,
) -> list[Result]:
    from teeclient.collateral.cache import CachingFetcher, DiskCache
    from teeclient.collateral.fetch import HttpFetcher
    from teeclient.collateral.settings import CollateralSettings

    cache = workdir / label
    base = server.url_for("").rstrip("/")
    settings = replace(CollateralSettings(), cache_dir=cache)
    for service in ("amd_kds", "intel_pcs", "nvidia_rim", "nvidia_ocsp"):
        settings = settings.with_base_url(service, base)
    settings = settings.with_base_url("intel_root_crl", f"{base}/IntelSGXRootCA.der")
    http = HttpFetcher(settings=settings)
    runs = {"n": 0}

    def cold() -> None:
        shutil.rmtree(cache, ignore_errors=True)
        verify(CachingFetcher(http, DiskCache(cache), clock=lambda: now), settings)
        runs["n"] += 1

    server.clear_log()
    cold_result = measure(
        f"{label} cold verify (loopback services)", cold, samples=cold_samples, warmup=3
    )
    cold_requests = len(server.log) / runs["n"]
    warm_fetcher = CachingFetcher(http, DiskCache(cache), clock=lambda: now)
    verify(warm_fetcher, settings)
    server.clear_log()
    warmup = 20
    warm_result = measure(
        f"{label} warm verify (disk cache)",
        lambda: verify(warm_fetcher, settings),
        samples=warm_samples,
        warmup=warmup,
    )
    warm_requests = len(server.log) / (warm_samples + warmup)
    http.close()
    return [
        replace(cold_result, note=f"{cold_requests:.2f} HTTP requests per verify"),
        replace(warm_result, note=f"{warm_requests:.2f} HTTP requests per verify"),
    ]


def run() -> list[Result]:
    """Cold and warm verification through the cache, with requests counted, per platform."""
    import teeclient
    from teeclient.policy.load import parse_policy
    from teeclient.trust import TrustStore

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request
    trust = TrustStore.vendor()
    policy = parse_policy(NV_POLICY)
    server = HTTPServer(host="127.0.0.1", port=0)
    snp_report = _serve_snp(server)
    tdx_quote = _serve_tdx(server)
    nv_report = _serve_nvidia(server)
    server.start()
    workdir = Path(tempfile.mkdtemp(prefix="teeclient-bench-"))
    nv_chain = (NV / "hopperCertChain.txt").read_bytes()
    results: list[Result] = []
    try:
        results += _cold_warm(
            "sev-snp",
            server,
            workdir,
            lambda f, s: teeclient.verify(
                snp_report, at=SNP_NOW, trust=trust, fetcher=f, settings=s
            ),
            SNP_NOW,
            cold_samples=60,
            warm_samples=200,
        )
        results.append(
            measure(
                "sev-snp verify, VCEK supplied (no fetcher)",
                lambda: teeclient.verify(
                    snp_report,
                    at=SNP_NOW,
                    trust=trust,
                    collateral=[(SNP / "vcek.der").read_bytes()],
                ),
                samples=200,
            )
        )
        results += _cold_warm(
            "tdx",
            server,
            workdir,
            lambda f, s: teeclient.verify(
                tdx_quote, at=TDX_NOW, trust=trust, fetcher=f, settings=s
            ),
            TDX_NOW,
            cold_samples=40,
            warm_samples=200,
        )
        tdx_files = [p.read_bytes() for p in sorted(TDX_COLL.iterdir())]
        results.append(
            measure(
                "tdx verify, collateral supplied (no fetcher)",
                lambda: teeclient.verify(tdx_quote, at=TDX_NOW, trust=trust, collateral=tdx_files),
                samples=200,
            )
        )

        def nv_verify(fetcher: Any, settings: Any) -> object:
            return teeclient.verify(
                nv_report,
                collateral=[nv_chain],
                policy=policy,
                at=NV_NOW,
                nonce=NV_NONCE,
                trust=trust,
                fetcher=fetcher,
                settings=settings,
            )

        results += _cold_warm(
            "nvidia gpu",
            server,
            workdir,
            nv_verify,
            NV_NOW,
            cold_samples=30,
            warm_samples=100,
        )
        nv_files = [nv_chain] + [
            p.read_bytes() for p in (*NV.glob("*.xml"), *(NV / "ocsp").glob("*"))
        ]
        results.append(
            measure(
                "nvidia gpu verify, collateral supplied",
                lambda: teeclient.verify(
                    nv_report,
                    collateral=nv_files,
                    policy=policy,
                    at=NV_NOW,
                    nonce=NV_NONCE,
                    trust=trust,
                ),
                samples=100,
            )
        )
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def main() -> int:
    """Print the results and their JSON."""
    return report(run())


if __name__ == "__main__":
    sys.exit(main())
