"""TDX quote signer: byte-exact DCAP quotes (v4/v5, TD Report 1.0/1.5) from a spec.

``TdQuoteSpec.build`` lays out the header, the body (with the v5 body descriptor), and the
signature data exactly as Intel's Quoting Enclave does (specs/tdx.md §1): the QE report binds
SHA-256(attestation key ‖ QE auth data), is signed by the PCK key, and the attestation key signs
the header and body. Pair it with ``teeclient.testing.pki.intel.IntelPki`` for the PCK chain.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from teeclient.collateral.items import CollateralSet
from teeclient.platforms.tdx.abi import INTEL_QE_VENDOR_ID
from teeclient.testing.pki.intel import IntelPki, IssuedPck
from teeclient.trust import TrustStore

__all__ = ["TdQuoteSpec", "TdxTestbed", "attestation_key_bytes", "resign_quote", "sign_raw"]

_Z48 = bytes(48)


def sign_raw(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA P-256/SHA-256 signature as raw big-endian ``r‖s``."""
    r, s = utils.decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def attestation_key_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The 64-byte ``X‖Y`` form of a P-256 public key, as quotes carry it."""
    point = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return point[1:]


@dataclass(frozen=True, slots=True, kw_only=True)
class TdQuoteSpec:
    """Every field of a TDX quote; ``build`` signs it like the TD Quoting Enclave."""

    version: int = 4
    body_type: int = 2
    att_key_type: int = 2
    tee_type: int = 0x81
    reserved: bytes = bytes(4)
    qe_vendor_id: bytes = INTEL_QE_VENDOR_ID
    user_data: bytes = bytes(range(20))
    tee_tcb_svn: bytes = bytes([6, 1, 3]) + bytes(13)
    mr_seam: bytes = bytes(range(48))
    mr_signer_seam: bytes = _Z48
    seam_attributes: bytes = bytes(8)
    td_attributes: bytes = bytes.fromhex("0000001000000000")
    xfam: bytes = bytes.fromhex("e702060000000000")
    mr_td: bytes = b"\x11" * 48
    mr_config_id: bytes = _Z48
    mr_owner: bytes = _Z48
    mr_owner_config: bytes = _Z48
    rtmrs: tuple[bytes, bytes, bytes, bytes] = (b"\x21" * 48, b"\x22" * 48, b"\x23" * 48, _Z48)
    report_data: bytes = bytes(64)
    tee_tcb_svn2: bytes = bytes([6, 1, 3]) + bytes(13)
    mr_service_td: bytes = _Z48
    qe_cpu_svn: bytes = bytes(16)
    qe_miscselect: int = 0
    qe_attributes: bytes = bytes.fromhex("1500000000000000e700000000000000")
    qe_mrenclave: bytes = b"\x44" * 32
    qe_mrsigner: bytes = bytes.fromhex(
        "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5"
    )
    qe_isvprodid: int = 2
    qe_isvsvn: int = 4
    qe_auth_data: bytes = bytes(range(32))
    qe_report_data: bytes | None = None  # None: SHA-256(attestation key ‖ auth data) ‖ zeros
    certification_type: int = 6
    inner_certification_type: int = 5
    pem_trailing_nul: bool = True
    trailing: bytes = b""

    def replace(self, **changes: object) -> TdQuoteSpec:
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def header(self) -> bytes:
        """The 48-byte header."""
        return (
            self.version.to_bytes(2, "little")
            + self.att_key_type.to_bytes(2, "little")
            + self.tee_type.to_bytes(4, "little")
            + self.reserved
            + self.qe_vendor_id
            + self.user_data
        )

    def body(self) -> bytes:
        """The TD report body (584 bytes, or 648 for body type 3)."""
        out = (
            self.tee_tcb_svn
            + self.mr_seam
            + self.mr_signer_seam
            + self.seam_attributes
            + self.td_attributes
            + self.xfam
            + self.mr_td
            + self.mr_config_id
            + self.mr_owner
            + self.mr_owner_config
            + b"".join(self.rtmrs)
            + self.report_data
        )
        if self.body_type == 3:
            out += self.tee_tcb_svn2 + self.mr_service_td
        return out

    def signed_region(self) -> bytes:
        """Header, the v5 body descriptor, and the body: what the attestation key signs."""
        body = self.body()
        if self.version == 5:
            return (
                self.header()
                + self.body_type.to_bytes(2, "little")
                + len(body).to_bytes(4, "little")
                + body
            )
        return self.header() + body

    def qe_report(self, attestation_key: ec.EllipticCurvePrivateKey) -> bytes:
        """The 384-byte QE report binding ``attestation_key``."""
        data = self.qe_report_data
        if data is None:
            data = hashlib.sha256(
                attestation_key_bytes(attestation_key) + self.qe_auth_data
            ).digest() + bytes(32)
        out = bytearray(384)
        out[0:16] = self.qe_cpu_svn
        out[16:20] = self.qe_miscselect.to_bytes(4, "little")
        out[48:64] = self.qe_attributes
        out[64:96] = self.qe_mrenclave
        out[128:160] = self.qe_mrsigner
        out[256:258] = self.qe_isvprodid.to_bytes(2, "little")
        out[258:260] = self.qe_isvsvn.to_bytes(2, "little")
        out[320:384] = data
        return bytes(out)

    def build(
        self,
        *,
        attestation_key: ec.EllipticCurvePrivateKey,
        pck_key: ec.EllipticCurvePrivateKey,
        pck_chain_pem: bytes,
    ) -> bytes:
        """The signed quote."""
        signed = self.signed_region()
        qe_report = self.qe_report(attestation_key)
        pem = pck_chain_pem + (b"\x00" if self.pem_trailing_nul else b"")
        qe_cert_data = (
            qe_report
            + sign_raw(pck_key, qe_report)
            + len(self.qe_auth_data).to_bytes(2, "little")
            + self.qe_auth_data
            + self.inner_certification_type.to_bytes(2, "little")
            + len(pem).to_bytes(4, "little")
            + pem
        )
        sig_data = (
            sign_raw(attestation_key, signed)
            + attestation_key_bytes(attestation_key)
            + self.certification_type.to_bytes(2, "little")
            + len(qe_cert_data).to_bytes(4, "little")
            + qe_cert_data
        )
        return signed + len(sig_data).to_bytes(4, "little") + sig_data + self.trailing


def resign_quote(quote: bytes, attestation_key: ec.EllipticCurvePrivateKey) -> bytes:
    """Re-sign a quote's signed region with ``attestation_key`` (after editing its body).

    The key must be the one the quote carries (the QE report binds it).
    """
    version = int.from_bytes(quote[0:2], "little")
    signed = 632 if version == 4 else 54 + int.from_bytes(quote[50:54], "little")
    out = bytearray(quote)
    out[signed + 4 : signed + 68] = sign_raw(attestation_key, quote[:signed])
    return bytes(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class TdxTestbed:
    """A generated Intel PKI, one PCK, an attestation key and matching collateral: the pieces
    a test (or the mock enclave) needs to produce TDX quotes the real verifier accepts."""

    pki: IntelPki
    pck: IssuedPck
    attestation_key: ec.EllipticCurvePrivateKey
    now: datetime = datetime(2026, 2, 1, tzinfo=UTC)

    @classmethod
    def create(cls, *, pki: IntelPki | None = None, **pck_extension: Any) -> TdxTestbed:
        """A fresh testbed; ``pck_extension`` goes to ``IntelPki.issue_pck``."""
        pki = pki if pki is not None else IntelPki.generate()
        return cls(
            pki=pki,
            pck=pki.issue_pck(**pck_extension),
            attestation_key=ec.generate_private_key(ec.SECP256R1()),
        )

    def quote(self, spec: TdQuoteSpec | None = None, **changes: Any) -> bytes:
        """A quote signed by this testbed's QE (``changes`` edit the default spec)."""
        chosen = (spec or TdQuoteSpec()).replace(**changes) if changes else (spec or TdQuoteSpec())
        return chosen.build(
            attestation_key=self.attestation_key,
            pck_key=self.pck.key,
            pck_chain_pem=self.pki.pck_chain_pem(self.pck),
        )

    def collateral(self, **kwargs: Any) -> CollateralSet:
        """PCS responses for this platform (see ``IntelPki.collateral_items``)."""
        return CollateralSet.of(self.pki.collateral_items(**kwargs))

    def trust(self) -> TrustStore:
        """A trust store that trusts this testbed's root (and nothing else)."""
        return self.pki.trust_store()
