"""The mock enclave's fake vendor services, reached by teeclient's own fetcher at the paths
``CollateralSettings.with_base_url`` points it to, and accepted by the real verifiers."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp

from teeclient.collateral.fetch import HttpFetcher
from teeclient.collateral.items import CollateralRequest, CollateralSet
from teeclient.platforms.nvidia import ocsp as nv_ocsp
from teeclient.platforms.nvidia.rim import parse_service_response
from teeclient.platforms.tdx import pcs
from teeclient.platforms.tdx.verify import verify as verify_tdx
from teeclient.testing.hardware import Fault, HardwareSpec, MockHardware, VendorPkis

from .conftest import NOW, Client, outcome

Connect = Callable[[MockHardware], Client]


def test_snp_vcek_and_crl_come_from_the_fake_kds(mock_pkis: VendorPkis, connect: Connect) -> None:
    hw = MockHardware(
        HardwareSpec(platform="sev-snp", product="turin", embed_vek=False, embed_collateral=False),
        pkis=mock_pkis,
    )
    client = connect(hw)
    identity = client.attest(hw)
    assert identity.platform == "sev-snp"
    paths = [p for _, p in client.enclave.requests]
    assert any(p.startswith("/vendors/amd-kds/vcek/v1/Turin/") for p in paths)
    assert "/vendors/amd-kds/vcek/v1/Turin/crl" in paths
    # The revoked ASK is noticed through the CRL the fetcher obtained.
    revoked = connect(hw.with_faults(Fault.REVOKED))
    assert outcome(lambda: revoked.attest(hw)) == "chain.revoked"


def test_kds_refuses_other_chips_and_serves_chains(mock_pkis: VendorPkis, connect: Connect) -> None:
    hw = MockHardware(HardwareSpec(platform="sev-snp"), pkis=mock_pkis)
    client = connect(hw)
    base = client.url + "/vendors/amd-kds"
    assert client.http.get(f"{base}/vcek/v1/Genoa/{'00' * 64}?blSPL=1").status_code == 404
    chain = client.http.get(f"{base}/vcek/v1/Genoa/cert_chain")
    assert chain.status_code == 200
    assert chain.content.count(b"BEGIN CERTIFICATE") == 2
    url = hw.vcek_url()
    assert url is not None
    vcek = client.http.get(base + url.removeprefix("https://kdsintf.amd.com"))
    assert x509.load_der_x509_certificate(vcek.content).public_key() == hw.vek().cert.public_key()  # type: ignore[union-attr]


def test_intel_pcs_answers_with_issuer_chain_headers(
    mock_pkis: VendorPkis, connect: Connect
) -> None:
    hw = MockHardware(HardwareSpec(platform="tdx"), pkis=mock_pkis)
    client = connect(hw)
    settings = client.enclave.collateral_settings(client.url)
    base = settings.base_url("intel_pcs")
    fetcher = HttpFetcher(settings=settings, client=client.http)
    urls = [
        pcs.tcb_info_url(bytes.fromhex("90c06f000000"), base=base),
        pcs.qe_identity_url(base=base),
        pcs.pck_crl_url("platform", base=base),
        base + "/IntelSGXRootCA.der",
    ]
    items = [fetcher.fetch(CollateralRequest(url=u, purpose="test")) for u in urls]
    assert "tcb-info-issuer-chain" in {k.lower() for k in items[0].headers}
    assert "sgx-pck-crl-issuer-chain" in {k.lower() for k in items[2].headers}
    quote = hw.document(bytes(32), client.enclave.keys.bound(), at=NOW)
    import base64
    import json

    evidence = base64.b64decode(json.loads(quote)["cpu"]["evidence"])
    claims = verify_tdx(
        evidence, trust=hw.trust_store(), now=NOW, collateral=CollateralSet.of(items)
    )
    assert claims.tcb_status.value == "UpToDate"
    assert client.http.get(base + "/tdx/certification/v4/tcb?fmspc=000000000000").status_code == 404


def test_nvidia_rim_service_and_ocsp_responder(mock_pkis: VendorPkis, connect: Connect) -> None:
    hw = MockHardware(HardwareSpec(platform="nitro", gpus=1), pkis=mock_pkis)
    client = connect(hw)
    settings = client.enclave.collateral_settings(client.url)
    ids = client.http.get(settings.base_url("nvidia_rim") + "/v1/rim/ids").json()["ids"]
    assert ids == sorted(hw.rims())
    answer = client.http.get(f"{settings.base_url('nvidia_rim')}/v1/rim/{ids[0]}")
    service_id, xml = parse_service_response(answer.content, source="test")
    assert service_id == ids[0]
    assert xml.startswith(b"<")
    assert client.http.get(settings.base_url("nvidia_rim") + "/v1/rim/NOPE").status_code == 404
    # OCSP: a request with a nonce gets a signed answer echoing it.
    cert, _ = hw.ocsp_certificates()[0]
    nv = mock_pkis.nvidia()
    issuer = next(c.cert for c in (nv.ica, nv.identity, nv.root) if c.cert.subject == cert.issuer)
    nonce = bytes(range(32))
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(cert, issuer, hashes.SHA384())
        .add_extension(x509.OCSPNonce(nonce), critical=False)
        .build()
    )
    from cryptography.hazmat.primitives.serialization import Encoding

    response = client.http.post(
        settings.base_url("nvidia_ocsp") + "/",
        content=request.public_bytes(Encoding.DER),
        headers={"content-type": "application/ocsp-request"},
    )
    parsed = nv_ocsp.load_response(response.content, source="test")
    raw = ocsp.load_der_ocsp_response(response.content)
    assert raw.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert raw.serial_number == cert.serial_number
    assert parsed is not None
    nonces = [e.value.nonce for e in raw.extensions if isinstance(e.value, x509.OCSPNonce)]
    assert nonces == [nonce]
    bad = client.http.post(settings.base_url("nvidia_ocsp") + "/", content=b"junk")
    assert ocsp.load_der_ocsp_response(bad.content).response_status is (
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )


def test_unknown_paths_and_bad_nonces(mock_pkis: VendorPkis, connect: Connect) -> None:
    hw = MockHardware(HardwareSpec(platform="nitro"), pkis=mock_pkis)
    client = connect(hw)
    get = client.http.get
    assert get(client.url + "/nope").status_code == 404
    assert get(client.url + "/vendors/amd-kds/vcek/v1/Genoa/crl").status_code == 404
    well_known = client.url + "/.well-known/teeclient/attestation"
    assert get(well_known).status_code == 400
    assert get(well_known + "?nonce=" + "AB" * 32).status_code == 400
    assert get(client.url + "/.well-known/tinfoil-attestation").status_code == 404
    assert get(client.url + "/healthz").text == "ok\n"
    assert isinstance(get(well_known + "?nonce=" + "ab" * 32), httpx.Response)


@pytest.mark.parametrize(
    "spec",
    [
        HardwareSpec(platform="tdx", gpus=1),
        HardwareSpec(platform="sev-snp", gpus=1, embed_vek=False),
        HardwareSpec(platform="nitro", gpus=8, switches=4),
    ],
    ids=["tdx-1gpu", "sev-snp-1gpu-no-vcek", "nitro-ppcie"],
)
def test_documents_without_collateral_are_completed_from_the_fake_vendors(
    spec: HardwareSpec, mock_pkis: VendorPkis, connect: Connect
) -> None:
    """Nothing embedded: the planners (AMD KDS, Intel PCS, NVIDIA RIM service and OCSP) fetch
    everything from the enclave's fake vendors, and the answers verify."""
    import dataclasses

    hw = MockHardware(dataclasses.replace(spec, embed_collateral=False), pkis=mock_pkis)
    client = connect(hw)
    identity = client.attest(hw)
    assert len(identity.devices) == spec.gpus + spec.switches
    paths = [p for _, p in client.enclave.requests]
    assert any(p.startswith("/vendors/nvidia-rim/v1/rim/") for p in paths)
    assert "/vendors/nvidia-ocsp/" in paths
    if spec.platform == "tdx":
        assert "/vendors/intel-pcs/tdx/certification/v4/tcb" in paths
    # A GPU the OCSP responder says is revoked is caught through the fetched answers (Nitro).
    if spec.platform == "nitro":
        revoked = connect(hw.with_faults(Fault.REVOKED))
        got = outcome(lambda: revoked.attest(hw))
        assert "nvidia_gpu.ocsp.device_chain" in got
