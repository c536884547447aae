"""Peers side by side: Tinfoil's Python client on the same SEV-SNP report and TDX quote.

Both libraries run in this process on the same evidence. Tinfoil's network is stubbed: its
collateral fetcher (`collateral_tdx._http_get`) serves the Intel PCS responses captured in
fixtures/real/tdx/collateral-2026-01-tinfoil, and its clocks are frozen at the vector's
verification time. Tinfoil's SEV-SNP defaults require TSME (its own fleet), so the platform-info
rule is relaxed for the comparison; its TDX policy is set to the quote's own values. Needs the
`bench` extra (`pip install -e '.[bench]'`); without tinfoil the peer rows are skipped.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import json
import sys
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks._harness import Result, measure, report

ROOT = Path(__file__).resolve().parent.parent
SNP = ROOT / "fixtures" / "real" / "sev-snp" / "genoa-v5-oak"
TDX = ROOT / "fixtures" / "real" / "tdx"
# Tinfoil 0.15 implements quote v4 only: the v4 DCAP vector, whose collateral is dcap-qvl JSON.
TDX_QUOTE = TDX / "v4-b0c06f-dcap" / "quote.dat"
TDX_COLLATERAL = TDX / "v4-b0c06f-dcap" / "collateral.json"
SNP_NOW = datetime(2026, 1, 1, tzinfo=UTC)
TDX_NOW = datetime(2025, 7, 1, tzinfo=UTC)


def _teeclient_snp() -> Result:
    from teeclient._x509 import load_certificate
    from teeclient.platforms.sev_snp.verify import verify
    from teeclient.trust import TrustStore

    report = (SNP / "report.bin").read_bytes()
    vcek = load_certificate((SNP / "vcek.der").read_bytes(), role="vcek", platform="bench")
    trust = TrustStore.vendor()
    return measure(
        "teeclient sev-snp warm verify (genoa-v5-oak)",
        lambda: verify(report, trust=trust, now=SNP_NOW, vek=vcek),
        samples=300,
    )


def _tinfoil_snp() -> Result:
    from tinfoil.attestation import attestation_sev as tf

    report = (SNP / "report.bin").read_bytes()
    vcek = (SNP / "vcek.der").read_bytes()
    doc = base64.b64encode(gzip.compress(report)).decode()
    options = dataclasses.replace(tf.default_validation_options, platform_info=None)
    tf.verify_sev_report(doc, vcek_der=vcek, validation_options=options)
    return measure(
        "tinfoil 0.15 sev-snp verify (same report, VCEK given)",
        lambda: tf.verify_sev_report(doc, vcek_der=vcek, validation_options=options),
        samples=300,
        note="includes base64+gzip of the v2 document (~10 µs)",
    )


def _teeclient_tdx() -> Result:
    from teeclient.collateral.items import CollateralSet
    from teeclient.platforms import VerifyOptions
    from teeclient.platforms.tdx.verify import verify_evidence
    from teeclient.trust import TrustStore

    quote = TDX_QUOTE.read_bytes()
    collateral = CollateralSet.from_files([TDX_COLLATERAL])
    trust = TrustStore.vendor()
    options = VerifyOptions()
    return measure(
        "teeclient tdx warm verify (v4, dcap-qvl collateral)",
        lambda: verify_evidence(
            quote, collateral=collateral, trust=trust, now=TDX_NOW, options=options
        ),
        samples=300,
    )


class _Frozen(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> _Frozen:
        value = TDX_NOW if tz is not None else TDX_NOW.replace(tzinfo=None)
        return cls(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            tzinfo=value.tzinfo,
        )


class _Response:
    def __init__(self, content: bytes, headers: dict[str, str]) -> None:
        from requests.structures import CaseInsensitiveDict

        self.content = content
        self.text = content.decode("latin-1")
        self.headers = CaseInsensitiveDict(headers)
        self.status_code = 200


def _tinfoil_tdx() -> Result:
    from tinfoil.attestation import attestation_tdx as tf
    from tinfoil.attestation import cert_utils, collateral_tdx

    from teeclient.platforms.tdx.abi import parse_quote

    # The PCS responses the dcap-qvl bundle was made from: body {"<name>": <exact signed
    # text>, "signature": hex} plus the URL-encoded issuer chain header.
    c = json.loads(TDX_COLLATERAL.read_text())
    tcb = '{"tcbInfo":' + c["tcb_info"] + ',"signature":"' + c["tcb_info_signature"] + '"}'
    qe = (
        '{"enclaveIdentity":'
        + c["qe_identity"]
        + ',"signature":"'
        + c["qe_identity_signature"]
        + '"}'
    )

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    crl_pem = x509.load_der_x509_crl(bytes.fromhex(c["pck_crl"])).public_bytes(Encoding.PEM)

    def http_get(url: str, timeout: float, session: object = None) -> _Response:
        if "/tcb?fmspc=" in url:
            return _Response(
                tcb.encode(),
                {"TCB-Info-Issuer-Chain": urllib.parse.quote(c["tcb_info_issuer_chain"])},
            )
        if "/qe/identity" in url:
            return _Response(
                qe.encode(),
                {
                    "SGX-Enclave-Identity-Issuer-Chain": urllib.parse.quote(
                        c["qe_identity_issuer_chain"]
                    )
                },
            )
        if "pckcrl?ca=" in url:  # PCS answers PEM unless encoding=der is asked
            return _Response(
                crl_pem, {"SGX-PCK-CRL-Issuer-Chain": urllib.parse.quote(c["pck_crl_issuer_chain"])}
            )
        if url.endswith("IntelSGXRootCA.der"):
            return _Response(bytes.fromhex(c["root_ca_crl"]), {})
        raise collateral_tdx.CollateralError(f"bench stub has no {url}")

    collateral_tdx._http_get = http_get
    collateral_tdx._ensure_cache_dir = lambda: False
    collateral_tdx.datetime = _Frozen
    cert_utils.datetime = _Frozen
    quote = TDX_QUOTE.read_bytes()
    body = parse_quote(quote).body
    config = tf.TdxVerificationConfig(
        min_tcb_evaluation_data_number=0,
        accepted_mr_seams=(body.mr_seam,),
        expected_td_attributes=body.td_attributes.raw,
        expected_xfam=body.xfam,
        expected_minimum_tee_tcb_svn=bytes(16),
    )
    doc = base64.b64encode(gzip.compress(quote)).decode()
    tf.verify_tdx_attestation(doc, config=config)
    return measure(
        "tinfoil 0.15 tdx verify (same quote and collateral)",
        lambda: tf.verify_tdx_attestation(doc, config=config),
        samples=100,
        note="PCS fetches stubbed in-process; tinfoil re-parses collateral each call",
    )


def run() -> list[Result]:
    """teeclient and its peers on the same evidence, in one process."""
    results = [_teeclient_snp(), _teeclient_tdx()]
    try:
        import tinfoil  # noqa: F401
    except ImportError:
        sys.stderr.write(
            "bench_peers: tinfoil not installed (pip install -e '.[bench]'); PEER ROWS SKIPPED\n"
        )
        return results
    results.insert(1, _tinfoil_snp())
    results.append(_tinfoil_tdx())
    return results


def ratios(results: list[Result]) -> dict[str, float]:
    """teeclient / peer median ratios for the pairs measured here."""
    by = {r.name.split(" (")[0]: r.median_us for r in results}
    out = {}
    if "tinfoil 0.15 sev-snp verify" in by:
        out["sev-snp: teeclient / tinfoil"] = (
            by["teeclient sev-snp warm verify"] / by["tinfoil 0.15 sev-snp verify"]
        )
    if "tinfoil 0.15 tdx verify" in by:
        out["tdx: teeclient / tinfoil"] = (
            by["teeclient tdx warm verify"] / by["tinfoil 0.15 tdx verify"]
        )
    return out


def main() -> int:
    """Print the results, the ratios and their JSON."""
    return report(run(), ratios)


if __name__ == "__main__":
    sys.exit(main())
