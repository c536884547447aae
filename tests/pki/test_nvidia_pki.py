"""Generated NVIDIA PKIs for what real vectors cannot show: OCSP, RIM tampering, NRAS tokens."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from teeclient.errors import TeeclientError
from teeclient.platforms.nvidia import ocsp, rim
from teeclient.platforms.nvidia.claims import MeasurementResult
from teeclient.platforms.nvidia.nras import Jwks, JwksCache, verify_detached_eat
from teeclient.policy.appraise import appraise
from teeclient.policy.load import load_baseline, parse_policy
from teeclient.policy.result import CheckStatus
from teeclient.testing.nvidia_evidence import SpdmReportSpec, gpu_opaque, tlv
from teeclient.testing.pki.nvidia import NvCertOverrides, NvidiaPki, RimSpec
from tests._nvidia import T1, generated, pki

POLICY = parse_policy('version = 1\n[revocation]\nnvidia_ocsp = "require"\n[[nvidia_gpu]]\n')


def _statuses(claims: object, policy: object = POLICY) -> dict[str, str]:
    a = appraise([claims], policy, T1)  # type: ignore[list-item, arg-type]
    return {c.id: c.status.value for c in a.checks}


def test_generated_gpu_is_accepted_by_baseline() -> None:
    g = generated()
    claims = g.verify()
    appraisal = appraise([claims], load_baseline(), T1)
    assert appraisal.accepted
    assert not appraisal.with_status(CheckStatus.FAIL)
    assert _statuses(claims)["nvidia_gpu.ocsp.device_chain"] == "pass"


@pytest.mark.parametrize(
    ("status", "reason", "policy_extra", "expect"),
    [
        ("revoked", x509.ReasonFlags.key_compromise, "", "fail"),
        ("revoked", x509.ReasonFlags.certificate_hold, "", "fail"),
        ("revoked", x509.ReasonFlags.certificate_hold, "allow_certificate_hold = true", "warn"),
        ("unknown", None, "", "fail"),
        ("unknown", None, "allow_unknown = true", "warn"),
        ("revoked", x509.ReasonFlags.key_compromise, 'revoked_grace = "9999d"', "warn"),
    ],
)
def test_ocsp_status_policy(
    status: str, reason: x509.ReasonFlags | None, policy_extra: str, expect: str
) -> None:
    g = generated()
    brom = g.device.chain[1]
    bad = g.pki.ocsp_response(brom, status=status, reason=reason)
    good = [g.pki.ocsp_response(c) for c in g.device.chain[2:4]]
    claims = g.verify(device_answers=[bad, *good])
    extra = f", {policy_extra}" if policy_extra else ""
    policy = parse_policy(
        'version = 1\n[revocation]\nnvidia_ocsp = { mode = "require"'
        + extra
        + " }\n[[nvidia_gpu]]\n"
    )
    checks = claims.gpus[0].device_chain
    assert checks is not None
    assert {c.status.value for c in checks.ocsp} >= {status}
    assert _statuses(claims, policy)["nvidia_gpu.ocsp.device_chain"] == expect


def test_ocsp_missing_stale_and_future() -> None:
    g = generated()
    assert _statuses(g.verify(ocsp=False))["nvidia_gpu.ocsp.device_chain"] == "fail"
    if_present = parse_policy(
        'version = 1\n[revocation]\nnvidia_ocsp = "if-present"\n[[nvidia_gpu]]\n'
    )
    assert _statuses(g.verify(ocsp=False), if_present)["nvidia_gpu.ocsp.device_chain"] == "skip"
    p = g.pki
    stale = [
        p.ocsp_response(c, this_update=T1 - timedelta(days=3), next_update=T1 - timedelta(days=2))
        for c in g.device.chain[1:4]
    ]
    items = [g.driver_rim, g.vbios_rim, *stale, *p.rim_ocsp()]
    from teeclient.collateral.items import CollateralItem, CollateralSet
    from teeclient.platforms.nvidia.verify import verify

    def run(answers: list[bytes]) -> object:
        col = CollateralSet.of(
            CollateralItem(data=d, source=f"i{i}")
            for i, d in enumerate([g.driver_rim, g.vbios_rim, *answers, *p.rim_ocsp()])
        )
        return verify(g.evidence(), trust=p.trust_store(), now=T1, collateral=col, nonce=g.nonce)

    assert items
    assert _statuses(run(stale))["nvidia_gpu.ocsp.device_chain"] == "fail"
    grace = parse_policy(
        'version = 1\n[revocation]\nnvidia_ocsp = "allow-stale-until:3d"\n[[nvidia_gpu]]\n'
    )
    assert _statuses(run(stale), grace)["nvidia_gpu.ocsp.device_chain"] == "warn"
    future = [
        p.ocsp_response(c, this_update=T1 + timedelta(days=1), next_update=T1 + timedelta(days=2))
        for c in g.device.chain[1:4]
    ]
    assert _statuses(run(future))["nvidia_gpu.ocsp.device_chain"] == "fail"
    aged = parse_policy('version = 1\n[revocation]\nmax_ocsp_age = "1h"\n[[nvidia_gpu]]\n')
    assert (
        _statuses(run(g.pki.device_ocsp(g.device)), aged)["nvidia_gpu.ocsp.device_chain"] == "fail"
    )  # thisUpdate 6 h before T1


def _ocsp_error(answer: bytes, *, nonce: bytes | None = None) -> str:
    g = generated()
    brom, ica = g.device.chain[1], g.device.chain[2]
    resp = ocsp.load_response(answer, source="answer")
    with pytest.raises(TeeclientError) as info:
        ocsp.check_certificate(brom, ica, [resp], role="brom", now=T1, nonce=nonce)
    return info.value.code


def test_ocsp_wrong_certid_responder_and_nonce() -> None:
    g = generated()
    p = g.pki
    brom = g.device.chain[1]
    other = NvidiaPki.generate()
    # Same serial, another issuer: CertID issuer hashes differ.
    foreign_issuer = p.ocsp_response(brom, issuer=other.ica.cert, responder=p.responders["ica"])
    assert _ocsp_error(foreign_issuer) == "nvidia.ocsp_certid_mismatch"
    # Responder not issued by the ICA (issued by the identity CA).
    wrong = p.ocsp_response(brom, responder=p.responders["identity"])
    assert _ocsp_error(wrong) == "nvidia.ocsp_responder_unauthorized"
    # Signed by the checked certificate itself.
    selfsigned = p.ocsp_response(brom, responder=g.device.brom)
    assert _ocsp_error(selfsigned) == "nvidia.ocsp_responder_unauthorized"
    # A delegate without the OCSPSigning EKU.
    no_eku = NvidiaPki.generate(
        overrides={"responder.ica": NvCertOverrides(eku=(ExtendedKeyUsageOID.CLIENT_AUTH,))}
    )
    dev = no_eku.issue_device()
    resp = ocsp.load_response(no_eku.ocsp_response(dev.chain[1]), source="x")
    with pytest.raises(TeeclientError) as info:
        ocsp.check_certificate(dev.chain[1], dev.chain[2], [resp], role="brom", now=T1)
    assert info.value.code == "nvidia.ocsp_responder_unauthorized"
    # Expired responder.
    old = NvidiaPki.generate(responder_not_after=datetime(2024, 1, 1, tzinfo=UTC))
    dev = old.issue_device()
    resp = ocsp.load_response(old.ocsp_response(dev.chain[1]), source="x")
    with pytest.raises(TeeclientError) as info:
        ocsp.check_certificate(dev.chain[1], dev.chain[2], [resp], role="brom", now=T1)
    assert info.value.code == "nvidia.ocsp_responder_expired"
    # Nonce: echoed → ok; absent or different → error.
    n = b"\x07" * 32
    good = ocsp.load_response(p.ocsp_response(brom, nonce=n), source="n")
    check = ocsp.check_certificate(brom, g.device.chain[2], [good], role="brom", now=T1, nonce=n)
    assert check.nonce_sent
    assert check.status.value == "good"
    assert _ocsp_error(p.ocsp_response(brom), nonce=n) == "nvidia.ocsp_nonce_mismatch"
    assert _ocsp_error(p.ocsp_response(brom, nonce=b"\x08" * 32), nonce=n) == (
        "nvidia.ocsp_nonce_mismatch"
    )
    # Issuer-signed answer, SHA-1 CertID, responder by name: accepted.
    for answer in (
        p.ocsp_response(brom, responder="issuer"),
        p.ocsp_response(
            brom,
            algorithm=__import__("cryptography.hazmat.primitives.hashes", fromlist=["SHA1"]).SHA1(),
            by_name=True,
        ),
    ):
        resp = ocsp.load_response(base64.b64encode(answer), source="b64")
        ok = ocsp.check_certificate(brom, g.device.chain[2], [resp], role="brom", now=T1)
        assert ok.status.value == "good"
    # Corrupted signature.
    raw = bytearray(p.ocsp_response(brom, responder="issuer"))  # no certs: signature is last
    raw[-5] ^= 1
    assert _ocsp_error(bytes(raw)) == "nvidia.ocsp_signature_invalid"


def test_rim_tampering_and_algorithms() -> None:
    p = pki()
    spec = RimSpec(colloquial_version="550.90.07", golden={7: (b"\x01" * 48,)})
    signed = p.sign_rim(spec)
    trust = p.trust_store()
    rim.verify_rim(signed, trust=trust, now=T1, source="ok")
    cases = {
        "content": (
            signed.replace(b'colloquialVersion="550.90.07"', b'colloquialVersion="550.90.08"'),
            "nvidia.rim_digest_mismatch",
        ),
        "signature": (
            signed.replace(b"<ds:SignatureValue>", b"<ds:SignatureValue>AAAA"),
            "nvidia.rim_signature_invalid",
        ),
        "extra reference": (
            signed.replace(
                b"</ds:SignedInfo>", b'<ds:Reference URI="#a"></ds:Reference></ds:SignedInfo>'
            ),
            "nvidia.rim_unsupported_signature",
        ),
        "other algorithm": (
            signed.replace(b"xmldsig-more#sha384", b"xmlenc#sha256"),
            "nvidia.rim_unsupported_signature",
        ),
        "xml:base": (
            signed.replace(b"<ns0:Payload>", b'<ns0:Payload xml:base="http://x">'),
            "nvidia.rim_malformed",
        ),
    }
    for name, (data, code) in cases.items():
        assert data != signed, name
        with pytest.raises(TeeclientError) as info:
            rim.verify_rim(data, trust=trust, now=T1, source=name)
        assert info.value.code == code, name
    # Signed by a key from another PKI, chain to an untrusted root.
    other = NvidiaPki.generate()
    with pytest.raises(TeeclientError) as info:
        rim.verify_rim(other.sign_rim(spec), trust=trust, now=T1, source="foreign")
    assert info.value.code == "nvidia.rim_chain_invalid"
    expired = NvidiaPki.generate(rim_signer_not_after=datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(TeeclientError) as info:
        rim.verify_rim(expired.sign_rim(spec), trust=expired.trust_store(), now=T1, source="old")
    assert info.value.code == "nvidia.rim_cert_expired"


def test_measurement_mismatch_allowed_index_and_nvdec0() -> None:
    g = generated(golden_override={21: b"\xee" * 48})
    claims = g.verify()
    m = claims.gpus[0].measurements
    assert m.result is MeasurementResult.FAIL
    assert [x.index for x in m.mismatches] == [21]
    assert _statuses(claims)["nvidia_gpu.measurements"] == "fail"
    allow = parse_policy(
        'version = 1\n[revocation]\nnvidia_ocsp = "require"\n'
        "[[nvidia_gpu]]\nallowed_mismatch_indices = [21]\n"
    )
    assert _statuses(claims, allow)["nvidia_gpu.measurements"] == "warn"
    skip35 = generated(golden_override={35: b"\xee" * 48})
    claims = skip35.verify()
    assert claims.gpus[0].measurements.result is MeasurementResult.SUCCESS
    assert _statuses(claims)["nvidia_gpu.measurements"] == "pass"
    strict = parse_policy("version = 1\n[[nvidia_gpu]]\nallow_nvdec0_skip = false\n")
    assert _statuses(claims, strict)["nvidia_gpu.measurements"] == "fail"
    enabled = generated(opaque=gpu_opaque(nvdec0=0xAA), golden_override={35: b"\xee" * 48})
    assert enabled.verify().gpus[0].measurements.result is MeasurementResult.FAIL
    # Missing RIMs: reference values unavailable, never a mismatch.
    missing = generated().verify(ocsp=False)
    assert missing.gpus[0].measurements.result is MeasurementResult.SUCCESS
    from teeclient.collateral.items import CollateralSet
    from teeclient.platforms.nvidia.verify import verify

    g = generated()
    bare = verify(
        g.evidence(), trust=g.pki.trust_store(), now=T1, nonce=g.nonce, collateral=CollateralSet()
    )
    assert bare.gpus[0].measurements.result is MeasurementResult.UNAVAILABLE
    assert _statuses(bare)["nvidia_gpu.measurements"] == "fail"


def test_nonce_fwid_nvdaod_and_modes() -> None:
    g = generated()
    with pytest.raises(TeeclientError) as info:
        g.verify(nonce=b"\x01" * 32)
    assert info.value.code == "nvidia.nonce_mismatch"
    bad_fwid = generated(opaque=gpu_opaque(fwid=b"\xff" * 48))
    with pytest.raises(TeeclientError) as info:
        bad_fwid.verify()
    assert info.value.code == "nvidia.fwid_mismatch"
    no_fwid = generated(opaque=gpu_opaque(fwid=None)).verify()
    assert no_fwid.gpus[0].fwid_match is None
    assert _statuses(no_fwid)["nvidia_gpu.fwid"] == "fail"
    nvdaod = generated(opaque=b"NVDAOD" + bytes([0, 0, 2, 0, 0, 0]) + bytes(20))
    with pytest.raises(TeeclientError) as info:
        nvdaod.verify()
    assert info.value.code == "nvidia.unsupported_opaque_format"
    unknown = generated(opaque=gpu_opaque(extra=[(200, b"x")]))
    with pytest.raises(TeeclientError) as info:
        unknown.verify()
    assert info.value.code == "evidence.malformed"
    # Mixed SPT/MPT GPUs of one node are refused.
    p = pki()
    nonce = bytes(range(32))
    a, b = p.issue_device(serial=0x1001), p.issue_device(serial=0x1002)
    ra = SpdmReportSpec(nonce=nonce, opaque=gpu_opaque(feature_flag=0)).build(a.key)
    rb = SpdmReportSpec(nonce=nonce, opaque=gpu_opaque(feature_flag=1)).build(b.key)
    from teeclient.platforms.nvidia.verify import verify
    from teeclient.testing.nvidia_evidence import evidence_json

    ev = evidence_json([(ra, a.chain_pem(), "HOPPER"), (rb, b.chain_pem(), "HOPPER")], nonce=nonce)
    with pytest.raises(TeeclientError) as info:
        verify(ev, trust=p.trust_store(), now=T1, nonce=nonce)
    assert info.value.code == "nvidia.device_set_inconsistent"
    assert tlv(1, b"") == b"\x01\x00\x00\x00"


def test_blackwell_tcb_info_fwid_and_arch_hint() -> None:
    p = NvidiaPki.generate("GB100")
    dev = p.issue_device(fwid=b"\x42" * 48)
    nonce = b"\x09" * 32
    report = SpdmReportSpec(
        nonce=nonce,
        opaque=gpu_opaque(
            fwid=b"\x42" * 48, chip_info="GB100", opaque_data_version=1, feature_flag=1
        ),
    ).build(dev.key)
    from teeclient.platforms.nvidia.verify import verify
    from teeclient.testing.nvidia_evidence import evidence_json

    claims = verify(
        evidence_json([(report, dev.chain_pem(), "BLACKWELL")], nonce=nonce),
        trust=p.trust_store(),
        now=T1,
        nonce=nonce,
    )
    gpu = claims.gpus[0]
    assert gpu.fwid_match is True
    assert gpu.arch.value == "blackwell"
    assert dict(gpu.rim_ids)["driver"] == "NV_GPU_CC_DRIVER_GB100_550.90.07"
    with pytest.raises(TeeclientError) as info:
        verify(
            evidence_json([(report, dev.chain_pem(), "HOPPER")], nonce=nonce),
            trust=p.trust_store(),
            now=T1,
        )
    assert info.value.code == "nvidia.arch_mismatch"


# --- NRAS -------------------------------------------------------------------------------------


def _jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, str]:
    nums = key.public_key().public_numbers()

    def b64(v: int) -> str:
        return base64.urlsafe_b64encode(v.to_bytes(48, "big")).rstrip(b"=").decode()

    return {"kty": "EC", "crv": "P-384", "kid": kid, "x": b64(nums.x), "y": b64(nums.y)}


def _eat(
    key: object,
    *,
    nonce: str,
    alg: str = "ES384",
    kid: str = "k1",
    exp_delta: int = 3600,
    digest: str | None = None,
    count: int = 1,
) -> list[object]:
    now = int(T1.timestamp())
    base = {
        "iss": "https://nras.attestation.nvidia.com",
        "iat": now,
        "nbf": now,
        "exp": now + exp_delta,
        "eat_nonce": nonce,
    }
    devices = {}
    for i in range(count):
        claims = {
            **base,
            "hwmodel": "GH100 A01 GSP BROM",
            "ueid": str(100 + i),
            "measres": "success",
            "x-nvidia-gpu-arch-check": True,
        }
        devices[f"GPU-{i}"] = jwt.encode(
            claims,
            key,  # type: ignore[arg-type]
            algorithm=alg,
            headers={"kid": kid},
        )
    submods = {
        name: ["DIGEST", ["SHA-256", digest or hashlib.sha256(tok.encode()).hexdigest()]]
        for name, tok in devices.items()
    }
    overall = jwt.encode(
        {**base, "submods": submods, "x-nvidia-overall-att-result": True},
        key,  # type: ignore[arg-type]
        algorithm=alg,
        headers={"kid": kid},
    )
    return [["JWT", overall], devices]


def test_nras_tokens() -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    jwks = Jwks.from_json(json.dumps({"keys": [_jwk(key, "k1")]}))
    nonce = b"\x05" * 32
    good = verify_detached_eat(
        _eat(key, nonce=nonce.hex(), count=2), keys=jwks, now=T1, nonce=nonce, expected_count=2
    )
    assert good.summary.overall_result
    assert set(good.devices) == {"GPU-0", "GPU-1"}
    cases = {
        "wrong nonce": (_eat(key, nonce="00" * 32), "nvidia.nras_nonce_mismatch"),
        "wrong digest": (
            _eat(key, nonce=nonce.hex(), digest="ab" * 32),
            "nvidia.nras_submods_mismatch",
        ),
        "HS256": (
            _eat(b"secret-secret-secret-secret-32by", nonce=nonce.hex(), alg="HS256"),
            "nvidia.nras_token_invalid",
        ),
        "expired": (_eat(key, nonce=nonce.hex(), exp_delta=-600), "nvidia.nras_token_invalid"),
        "unknown kid": (_eat(key, nonce=nonce.hex(), kid="other"), "nvidia.nras_key_unknown"),
    }
    none_token = jwt.encode({"eat_nonce": nonce.hex()}, None, algorithm="none")  # type: ignore[arg-type]
    cases["alg none"] = ([["JWT", none_token], {}], "nvidia.nras_token_invalid")
    other = ec.generate_private_key(ec.SECP384R1())
    cases["wrong key"] = (_eat(other, nonce=nonce.hex()), "nvidia.nras_token_invalid")
    for name, (eat, code) in cases.items():
        with pytest.raises(TeeclientError) as info:
            verify_detached_eat(eat, keys=jwks, now=T1, nonce=nonce)
        assert info.value.code == code, name
    with pytest.raises(TeeclientError) as info:
        verify_detached_eat(
            _eat(key, nonce=nonce.hex(), count=2), keys=jwks, now=T1, nonce=nonce, expected_count=3
        )
    assert info.value.code == "nvidia.nras_submods_mismatch"


def test_jwks_cache_refetches_once_on_a_miss() -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    calls: list[int] = []
    sets = [{"keys": []}, {"keys": [_jwk(key, "k1")]}]

    def fetch() -> bytes:
        calls.append(1)
        return json.dumps(sets[min(len(calls) - 1, 1)]).encode()

    cache = JwksCache(fetch=fetch, clock=lambda: T1)
    assert cache.resolve("k1") is None
    assert len(calls) == 1
    assert cache.resolve("k1") is not None
    assert len(calls) == 2
    assert cache.resolve("k1") is not None
    assert len(calls) == 2
    assert cache.resolve("nope") is None
    assert len(calls) == 3
