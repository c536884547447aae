"""Planning mechanics shared by every platform: rounds, absent items, revocation needs,
settings, recorded OCSP requests, bundle nonces; and planners fed mutated evidence."""

from __future__ import annotations

import base64
import contextlib
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp as x509_ocsp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teeclient import verification
from teeclient.bundle import Bundle, BundleEvidence
from teeclient.collateral.gather import gather
from teeclient.collateral.items import CollateralItem, CollateralRequest, CollateralSet
from teeclient.collateral.settings import CollateralSettings
from teeclient.errors import (
    CollateralFetchError,
    CollateralMissingError,
    CollateralNotFoundError,
    OcspMalformedError,
    ParseError,
    TeeclientError,
)
from teeclient.platforms import VerifyOptions, plan_collateral, plan_rounds
from teeclient.platforms.nvidia import ocsp
from teeclient.policy.load import parse_policy
from teeclient.verification import Evidence, bundle_nonce, collect_collateral, revocation_need
from tests._nvidia import DEVICE_OCSP, E2E

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "real"
TDX_QUOTE = (REAL / "tdx" / "v5-tdx15-90c06f-gtg" / "quote.dat").read_bytes()
NV_REPORT = (E2E / "hopperAttestationReport.txt").read_bytes()
NV_CHAIN = (E2E / "hopperCertChain.txt").read_bytes()


class _Scripted:
    """A fetcher that answers from a table of request purpose → item or error."""

    def __init__(self, answers: dict[str, CollateralItem | Exception]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def fetch(self, request: CollateralRequest) -> CollateralItem:
        self.calls.append(request.purpose)
        if not request.allow_network:  # as HttpFetcher: cache-only requests are never fetched
            raise CollateralMissingError("not cached", field=request.purpose)
        answer = self.answers[request.purpose]
        if isinstance(answer, Exception):
            raise answer
        return answer


def _request(purpose: str, **kw: object) -> CollateralRequest:
    return CollateralRequest(url=f"https://x.test/{purpose}", purpose=purpose, **kw)  # type: ignore[arg-type]


def test_absent_ok_tolerates_absence_not_outages() -> None:
    missing = CollateralNotFoundError("no such item", field="a")
    fetcher = _Scripted(
        {
            "a": missing,
            "b": CollateralMissingError("offline", field="b"),
            "c": CollateralItem(data=b"{}", source="c", origin="network"),
        }
    )
    got = gather([_request(p, absent_ok=True) for p in "abc"], fetcher)
    assert [r.purpose for r, _ in got.unavailable] == ["a", "b"]
    assert [i.source for i in got.items] == ["c"]
    outage = _Scripted({"a": CollateralFetchError("HTTP 503", field="a")})
    with pytest.raises(CollateralFetchError):
        gather([_request("a", absent_ok=True)], outage)
    with pytest.raises(CollateralNotFoundError):
        gather([_request("a")], _Scripted({"a": missing}))


def test_planning_rounds_are_bounded_per_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    """A planner that always wants something new is stopped after the platform's rounds."""
    rounds: list[int] = []

    def endless(platform: str, data: bytes, **kw: object) -> list[CollateralRequest]:
        supplied = kw["supplied"]
        assert isinstance(supplied, CollateralSet)
        rounds.append(len(supplied))
        return [_request(f"item{len(supplied)}")]

    monkeypatch.setattr(verification, "plan_collateral", endless)
    fetcher = _Scripted({f"item{i}": CollateralItem(data=b"x", source=f"i{i}") for i in range(5)})
    for platform, expected in (("nvidia", 2), ("tdx", 1), ("sev-snp", 1), ("nitro", 1)):
        rounds.clear()
        got = collect_collateral(
            Evidence(data=b"", source="e", platform=platform),
            supplied=CollateralSet(),
            fetcher=fetcher,
            revocation="fetch",
        )
        assert len(rounds) == expected == plan_rounds(platform)
        assert len(got.items) == expected
    assert plan_rounds("nvidia") <= verification.MAX_PLAN_ROUNDS


def test_nvidia_second_round_plans_rim_chain_ocsp() -> None:
    """Round one asks for the RIMs; with them gathered, round two asks OCSP about their chains."""
    rims = {p.stem: p.read_bytes() for p in E2E.glob("*.xml")}
    answers: dict[str, CollateralItem | Exception] = {
        f"nvidia.rim.{rim_id}": CollateralItem(
            data=b'{"id": "%s", "rim": "%s"}' % (rim_id.encode(), base64.b64encode(xml)),
            source=rim_id,
        )
        for rim_id, xml in rims.items()
    }
    fetcher = _Scripted(answers)
    got = collect_collateral(
        Evidence(data=NV_REPORT, source="r", platform="nvidia"),
        supplied=CollateralSet.of([CollateralItem(data=NV_CHAIN, source="chain")]),
        fetcher=fetcher,
        revocation="cached",  # OCSP planned, never fetched from the network: all unavailable
    )
    assert sorted(c for c in fetcher.calls if ".rim." in c and "ocsp" not in c) == sorted(answers)
    purposes = [r.purpose for r, _ in got.unavailable]
    assert len(purposes) == 7 and sum(".rim." in p for p in purposes) == 4
    assert {e.code for _, e in got.unavailable} == {"collateral.missing"}


def test_revocation_needs_per_platform() -> None:
    def need(platform: str, key: str, mode: str) -> str:
        policy = parse_policy(f'version = 1\n[revocation]\n{key} = "{mode}"\n')
        return revocation_need(policy, platform)

    for platform, key in (("sev-snp", "amd_crl"), ("tdx", "intel_crl"), ("nvidia", "nvidia_ocsp")):
        assert need(platform, key, "require") == "fetch"
        assert need(platform, key, "allow-stale-until:2d") == "fetch"
        assert need(platform, key, "if-present") == "cached"
        assert need(platform, key, "off") == "off"
    assert revocation_need(parse_policy("version = 1\n"), "nitro") == "cached"


def test_settings_for_the_intel_root_crl_and_ocsp_nonces() -> None:
    default = CollateralSettings()
    assert (
        default.base_url("intel_root_crl")
        == "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
    )
    assert not default.ocsp_nonce
    env = CollateralSettings.from_env(
        {
            "TEECLIENT_INTEL_ROOT_CRL_URL": "https://pccs.test/root.der",
            "TEECLIENT_OCSP_NONCE": "1",
        }
    )
    assert env.base_url("intel_root_crl") == "https://pccs.test/root.der"
    assert env.ocsp_nonce


def test_recorded_ocsp_request_nonce() -> None:
    chain = x509.load_pem_x509_certificates(NV_CHAIN)
    der = base64.b64decode(DEVICE_OCSP[0].read_bytes())
    plain = ocsp.build_request(chain[1], chain[2])
    with_nonce = ocsp.build_request(chain[1], chain[2], nonce=b"\x01" * 32)
    assert ocsp.request_nonce(plain) is None
    assert ocsp.request_nonce(with_nonce) == b"\x01" * 32
    assert ocsp.load_response(der, source="s", request=with_nonce).request_nonce == b"\x01" * 32
    assert ocsp.load_response(der, source="s").request_nonce is None
    with pytest.raises(OcspMalformedError):
        ocsp.load_response(der, source="s", request=b"\x30\x00garbage")
    # has_answer matches by CertID (serial and issuer hashes), whatever the hash algorithm.
    responses = [
        ocsp.load_response(base64.b64decode(p.read_bytes()), source=p.name) for p in DEVICE_OCSP
    ]
    assert all(ocsp.has_answer(c, i, responses) for c, i in itertools.pairwise(chain[1:5]))
    assert not ocsp.has_answer(chain[1], chain[3], responses)  # right serial, wrong issuer
    assert not ocsp.has_answer(chain[0], chain[1], responses)
    request = x509_ocsp.load_der_ocsp_request(plain)
    assert isinstance(request.hash_algorithm, hashes.SHA384)


def test_bundle_nonce_only_for_platforms_that_check_one() -> None:
    def bundle(platform: str, nonce: str | None) -> Bundle:
        return Bundle(
            captured_at=datetime(2026, 1, 1, tzinfo=UTC),
            target="t",
            evidence=BundleEvidence(platform=platform, data=b"x", source="s"),
            nonce=nonce,
        )

    assert bundle_nonce(bundle("nvidia", "00ff"), "nvidia") == b"\x00\xff"
    assert bundle_nonce(bundle("nitro", "00ff"), "nitro") == b"\x00\xff"
    assert bundle_nonce(bundle("sev-snp", "00ff"), "sev-snp") is None
    assert bundle_nonce(bundle("nvidia", None), "nvidia") is None
    with pytest.raises(ParseError):
        bundle_nonce(bundle("nvidia", "zz"), "nvidia")


# --- planners on mutated evidence raise only TeeclientError -----------------------------------


def _plan_all(platform: str, data: bytes, supplied: Sequence[CollateralItem]) -> None:
    for revocation in ("fetch", "cached"):
        plan_collateral(
            platform,
            data,
            supplied=CollateralSet.of(supplied),
            options=VerifyOptions(),
            settings=CollateralSettings(ocsp_nonce=True),
            revocation=revocation,
        )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_planners_on_mutated_evidence_raise_only_teeclient_errors(data: st.DataObject) -> None:
    platform, original, supplied = data.draw(
        st.sampled_from(
            [
                ("tdx", TDX_QUOTE, []),
                ("nvidia", NV_REPORT, [CollateralItem(data=NV_CHAIN, source="chain")]),
            ]
        )
    )
    mutated = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        mutated[data.draw(st.integers(0, len(mutated) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(mutated) // 2, len(mutated)))
    with contextlib.suppress(TeeclientError):
        _plan_all(platform, bytes(mutated[:cut]), supplied)
