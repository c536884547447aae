"""Warm verification reuses content-keyed results (device chains, OCSP answers, parsed
collateral) from the trust store's memo; everything time- or input-dependent is still checked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.errors import (
    ChainError,
    ChainExpiredError,
    NvidiaNonceMismatchError,
    OcspNonceMismatchError,
    OcspResponderExpiredError,
)
from teeclient.platforms.nvidia.verify import verify
from teeclient.testing.nvidia_evidence import SpdmReportSpec, evidence_json, gpu_opaque
from teeclient.testing.pki.nvidia import NvCertOverrides, NvidiaPki
from tests._nvidia import T1

LEAF_EXPIRES = datetime(2026, 1, 1, tzinfo=UTC)
RESPONDER_EXPIRES = datetime(2025, 9, 1, tzinfo=UTC)
NONCE = bytes(range(32))


@pytest.fixture(scope="module")
def node() -> tuple[NvidiaPki, bytes, CollateralSet]:
    pki = NvidiaPki.generate("GH100", responder_not_after=RESPONDER_EXPIRES)
    dev = pki.issue_device(leaf=NvCertOverrides(not_after=LEAF_EXPIRES))
    report = SpdmReportSpec(nonce=NONCE, opaque=gpu_opaque()).build(dev.key)
    evidence = evidence_json([(report, dev.chain_pem(), "HOPPER")], nonce=NONCE)
    answers = pki.device_ocsp(dev, next_update=datetime(2026, 6, 1, tzinfo=UTC))
    col = CollateralSet.of(CollateralItem(data=a, source=f"ocsp{i}") for i, a in enumerate(answers))
    return pki, evidence, col


def _strip_time(claims: object) -> object:
    return claims.to_dict()  # type: ignore[attr-defined]


def test_warm_result_equals_cold_result(node: tuple[NvidiaPki, bytes, CollateralSet]) -> None:
    pki, evidence, col = node
    cold = verify(evidence, trust=pki.trust_store(), now=T1, collateral=col, nonce=NONCE)
    trust = pki.trust_store()
    first = verify(evidence, trust=trust, now=T1, collateral=col, nonce=NONCE)
    warm = verify(evidence, trust=trust, now=T1, collateral=col, nonce=NONCE)
    assert _strip_time(first) == _strip_time(cold) == _strip_time(warm)
    chain = warm.gpus[0].device_chain
    assert chain is not None
    assert [c.status.value for c in chain.ocsp] == ["good"] * 3
    assert len(chain.sha256) == 5 and chain.sha256 == first.gpus[0].device_chain.sha256  # type: ignore[union-attr]


def test_memo_hit_still_checks_certificate_validity(
    node: tuple[NvidiaPki, bytes, CollateralSet],
) -> None:
    pki, evidence, col = node
    trust = pki.trust_store()
    verify(evidence, trust=trust, now=T1, collateral=col, nonce=NONCE)  # fills the memo
    with pytest.raises(ChainExpiredError) as info:
        verify(evidence, trust=trust, now=datetime(2026, 2, 1, tzinfo=UTC), collateral=col)
    assert "notAfter" in (info.value.field or "")


def test_memo_hit_still_checks_the_responder_at_now(
    node: tuple[NvidiaPki, bytes, CollateralSet],
) -> None:
    pki, evidence, col = node
    trust = pki.trust_store()
    verify(evidence, trust=trust, now=T1, collateral=col, nonce=NONCE)
    with pytest.raises(OcspResponderExpiredError):
        verify(
            evidence,
            trust=trust,
            now=datetime(2025, 10, 1, tzinfo=UTC),
            collateral=col,
            nonce=NONCE,
        )


def test_memo_is_keyed_by_the_nonces(node: tuple[NvidiaPki, bytes, CollateralSet]) -> None:
    pki, evidence, col = node
    trust = pki.trust_store()
    verify(evidence, trust=trust, now=T1, collateral=col, nonce=NONCE)
    with pytest.raises(NvidiaNonceMismatchError):
        verify(evidence, trust=trust, now=T1, collateral=col, nonce=bytes(32))
    # An OCSP nonce the cached answers never echoed must be refused, not served from the memo.
    with pytest.raises(OcspNonceMismatchError):
        verify(evidence, trust=trust, now=T1, collateral=col, nonce=NONCE, ocsp_nonce=b"n" * 16)


def test_another_store_does_not_share_the_memo(
    node: tuple[NvidiaPki, bytes, CollateralSet],
) -> None:
    pki, evidence, col = node
    trust = pki.trust_store()
    verify(evidence, trust=trust, now=T1, collateral=col, nonce=NONCE)
    other = NvidiaPki.generate("GH100").trust_store()  # other roots: nothing may carry over
    with pytest.raises(ChainError):
        verify(evidence, trust=other, now=T1, collateral=col, nonce=NONCE)
