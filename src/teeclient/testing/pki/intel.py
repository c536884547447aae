"""A generated Intel SGX/TDX PKI: root, PCK CA, PCK leaves, TCB Signing, CRLs, signed collateral.

Certificates carry Intel's names, P-256 keys and ECDSA-SHA256 signatures, CA constraints, CRL
distribution points and the PCK SGX extension (specs/tdx.md §2); TCB Info and QE Identity are
signed over their exact compact JSON text and served in the PCS body shape, with issuer-chain
headers or as dcap-qvl's ``collateral.json``. The real verifier accepts all of it once a caller
trusts this PKI explicitly (``IntelPki.trust_store``). Every certificate can be broken on
purpose with ``IntelCertOverrides``; test roots are never trusted implicitly.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote as url_quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from teeclient.collateral.items import CollateralItem
from teeclient.platforms.tdx.pck import SGX_EXTENSION_OID
from teeclient.trust import INTEL_SGX_ROOT, TrustStore

__all__ = [
    "DEFAULT_QE_MRSIGNER",
    "IntelCertOverrides",
    "IntelPki",
    "IssuedPck",
    "intel_name",
    "level",
    "module_identity",
    "qe_identity_body",
    "sgx_extension",
    "tcb_info_body",
]

_EPOCH = datetime(2018, 5, 21, tzinfo=UTC)
_FAR = datetime(2049, 12, 31, tzinfo=UTC)
DEFAULT_QE_MRSIGNER = "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5"
_ZERO48 = "00" * 48


def intel_name(cn: str, **replace: str) -> x509.Name:
    """An Intel-style subject: CN, O=Intel Corporation, L=Santa Clara, ST=CA, C=US."""
    attrs = {
        "cn": cn,
        "org": "Intel Corporation",
        "locality": "Santa Clara",
        "state": "CA",
        "country": "US",
        **replace,
    }
    oids = {
        "cn": NameOID.COMMON_NAME,
        "org": NameOID.ORGANIZATION_NAME,
        "locality": NameOID.LOCALITY_NAME,
        "state": NameOID.STATE_OR_PROVINCE_NAME,
        "country": NameOID.COUNTRY_NAME,
    }
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in attrs.items() if v])


# --- DER for the SGX extension ----------------------------------------------------------------


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _len(len(value)) + value


def _oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray([arcs[0] * 40 + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return _tlv(0x06, bytes(out))


def _int(value: int) -> bytes:
    return _tlv(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big"))


def _member(suffix: str, value: bytes) -> bytes:
    return _tlv(0x30, _oid(f"{SGX_EXTENSION_OID}.{suffix}") + value)


def sgx_extension(
    *,
    ppid: bytes = bytes(range(16)),
    components: Sequence[int] = (5, 5, 2, 2, 3, 1, 0, 5) + (0,) * 8,
    pce_svn: int = 13,
    cpu_svn: bytes | None = None,
    pce_id: bytes = b"\x00\x00",
    fmspc: bytes = bytes.fromhex("90c06f000000"),
    sgx_type: int = 1,
    platform_instance_id: bytes | None = bytes(16),
    configuration: Mapping[str, bool] | None = None,
    replace: Mapping[str, bytes | None] | None = None,
) -> bytes:
    """DER of the PCK SGX extension (``replace`` swaps or drops members by OID suffix)."""
    cpu = cpu_svn if cpu_svn is not None else bytes(components)
    tcb = b"".join(_member(f"2.{i + 1}", _int(svn)) for i, svn in enumerate(components))
    tcb += _member("2.17", _int(pce_svn)) + _member("2.18", _tlv(0x04, cpu))
    members: dict[str, bytes | None] = {
        "1": _tlv(0x04, ppid),
        "2": _tlv(0x30, tcb),
        "3": _tlv(0x04, pce_id),
        "4": _tlv(0x04, fmspc),
        "5": _tlv(0x0A, bytes([sgx_type])),
        "6": _tlv(0x04, platform_instance_id) if platform_instance_id is not None else None,
    }
    config = (
        configuration
        if configuration is not None
        else {"dynamic_platform": True, "cached_keys": True, "smt_enabled": True}
    )
    if platform_instance_id is not None:
        flags = b"".join(
            _member(f"7.{i}", _tlv(0x01, b"\xff" if config.get(name) else b"\x00"))
            for i, name in ((1, "dynamic_platform"), (2, "cached_keys"), (3, "smt_enabled"))
        )
        members["7"] = _tlv(0x30, flags)
    members.update(replace or {})
    return _tlv(0x30, b"".join(_member(k, v) for k, v in members.items() if v is not None))


# --- certificates -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class IntelCertOverrides:
    """Per-certificate changes used to build broken chains on purpose."""

    not_before: datetime | None = None
    not_after: datetime | None = None
    subject: x509.Name | None = None
    issuer_name: x509.Name | None = None
    signing_key: ec.EllipticCurvePrivateKey | None = None
    public_key: ec.EllipticCurvePublicKey | None = None
    ca: bool | None = None
    path_length: int | str | None = "default"
    serial: int | None = None
    sgx_extension: bytes | None = None
    omit_sgx_extension: bool = False
    extra_extensions: tuple[x509.ExtensionType, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedPck:
    """A PCK leaf certificate with its private key (signs QE reports)."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def pem(self) -> bytes:
        """PEM encoding of the certificate."""
        return self.cert.public_bytes(Encoding.PEM)


def _key_usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _build(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePublicKey,
    signer: ec.EllipticCurvePrivateKey,
    signer_public: ec.EllipticCurvePublicKey,
    serial: int,
    ca: bool,
    path_length: int | None,
    crl_url: str,
    ov: IntelCertOverrides,
    sgx: bytes | None = None,
    not_before: datetime = _EPOCH,
    not_after: datetime = _FAR,
) -> x509.Certificate:
    is_ca = ca if ov.ca is None else ov.ca
    plen = path_length if ov.path_length == "default" else ov.path_length
    assert plen is None or isinstance(plen, int)
    public = ov.public_key or key
    builder = (
        x509.CertificateBuilder()
        .subject_name(ov.subject or subject)
        .issuer_name(ov.issuer_name or issuer)
        .public_key(public)
        .serial_number(ov.serial if ov.serial is not None else serial)
        .not_valid_before(ov.not_before or not_before)
        .not_valid_after(ov.not_after or not_after)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_public), False)
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier(crl_url)], None, None, None
                    )
                ]
            ),
            False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), False)
        .add_extension(_key_usage(sign=not is_ca, ca=is_ca), True)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=plen if is_ca else None), True)
    )
    ext = ov.sgx_extension if ov.sgx_extension is not None else sgx
    if ext is not None and not ov.omit_sgx_extension:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier(SGX_EXTENSION_OID), ext), False
        )
    for extra in ov.extra_extensions:
        builder = builder.add_extension(extra, False)
    return builder.sign(ov.signing_key or signer, hashes.SHA256())


def _pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(Encoding.PEM) for c in certs)


def _sign_raw(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    r, s = utils.decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


# --- collateral bodies ------------------------------------------------------------------------


def _date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def level(
    *,
    sgx: Sequence[int] = (5, 5, 2, 2, 3, 1, 0, 5) + (0,) * 8,
    pcesvn: int = 13,
    tdx: Sequence[int] = (5, 0, 3) + (0,) * 13,
    status: str = "UpToDate",
    date: datetime = datetime(2024, 11, 13, tzinfo=UTC),
    advisories: Sequence[str] = (),
) -> dict[str, Any]:
    """One TCB Info platform level as PCS writes it."""
    out: dict[str, Any] = {
        "tcb": {
            "sgxtcbcomponents": [{"svn": v} for v in sgx],
            "pcesvn": pcesvn,
            "tdxtcbcomponents": [{"svn": v} for v in tdx],
        },
        "tcbDate": _date(date),
        "tcbStatus": status,
    }
    if advisories:
        out["advisoryIDs"] = list(advisories)
    return out


def module_identity(
    ident: str = "TDX_01",
    *,
    levels: Sequence[tuple[int, str, Sequence[str]]] = ((6, "UpToDate", ()),),
    mrsigner: str = _ZERO48,
    attributes: str = "0000000000000000",
    date: datetime = datetime(2024, 11, 13, tzinfo=UTC),
) -> dict[str, Any]:
    """A ``tdxModuleIdentities`` entry with (isvsvn, status, advisories) levels."""
    entries = []
    for isvsvn, status, advisories in levels:
        entry: dict[str, Any] = {
            "tcb": {"isvsvn": isvsvn},
            "tcbDate": _date(date),
            "tcbStatus": status,
        }
        if advisories:
            entry["advisoryIDs"] = list(advisories)
        entries.append(entry)
    return {
        "id": ident,
        "mrsigner": mrsigner,
        "attributes": attributes,
        "attributesMask": "FFFFFFFFFFFFFFFF",
        "tcbLevels": entries,
    }


def tcb_info_body(
    *,
    fmspc: str = "90c06f000000",
    pce_id: str = "0000",
    issue: datetime = datetime(2026, 1, 12, tzinfo=UTC),
    next_update: datetime | None = None,
    evaluation_number: int = 18,
    levels: Sequence[Mapping[str, Any]] | None = None,
    identities: Sequence[Mapping[str, Any]] | None = None,
    version: int = 3,
    tcb_id: str = "TDX",
    module_mrsigner: str = _ZERO48,
) -> dict[str, Any]:
    """A TDX TCB Info object (the value of ``tcbInfo``)."""
    out: dict[str, Any] = {
        "id": tcb_id,
        "version": version,
        "issueDate": _date(issue),
        "nextUpdate": _date(next_update or issue + timedelta(days=30)),
        "fmspc": fmspc,
        "pceId": pce_id,
        "tcbType": 0,
        "tcbEvaluationDataNumber": evaluation_number,
        "tdxModule": {
            "mrsigner": module_mrsigner,
            "attributes": "0000000000000000",
            "attributesMask": "FFFFFFFFFFFFFFFF",
        },
    }
    if identities is None:
        identities = [module_identity()]
    if identities:
        out["tdxModuleIdentities"] = [dict(i) for i in identities]
    out["tcbLevels"] = [dict(lv) for lv in (levels if levels is not None else [level()])]
    return out


def qe_identity_body(
    *,
    issue: datetime = datetime(2026, 1, 12, tzinfo=UTC),
    next_update: datetime | None = None,
    evaluation_number: int = 18,
    mrsigner: str = DEFAULT_QE_MRSIGNER,
    isvprodid: int = 2,
    levels: Sequence[tuple[int, str]] = ((4, "UpToDate"),),
    ident: str = "TD_QE",
    version: int = 2,
) -> dict[str, Any]:
    """A QE Identity object (the value of ``enclaveIdentity``)."""
    return {
        "id": ident,
        "version": version,
        "issueDate": _date(issue),
        "nextUpdate": _date(next_update or issue + timedelta(days=30)),
        "tcbEvaluationDataNumber": evaluation_number,
        "miscselect": "00000000",
        "miscselectMask": "FFFFFFFF",
        "attributes": "11000000000000000000000000000000",
        "attributesMask": "FBFFFFFFFFFFFFFF0000000000000000",
        "mrsigner": mrsigner.upper(),
        "isvprodid": isvprodid,
        "tcbLevels": [
            {"tcb": {"isvsvn": svn}, "tcbDate": "2024-11-13T00:00:00Z", "tcbStatus": status}
            for svn, status in levels
        ],
    }


def compact(obj: Mapping[str, Any]) -> bytes:
    """Compact JSON text, as PCS serves it."""
    return json.dumps(obj, separators=(",", ":")).encode()


# --- the PKI ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class IntelPki:
    """Root, PCK CA and TCB Signing with their keys; issues PCKs, CRLs and signed collateral."""

    root_key: ec.EllipticCurvePrivateKey
    root: x509.Certificate
    pck_ca_key: ec.EllipticCurvePrivateKey
    pck_ca: x509.Certificate
    tcb_signing_key: ec.EllipticCurvePrivateKey
    tcb_signing: x509.Certificate
    ca: str = "platform"

    @classmethod
    def generate(
        cls,
        *,
        ca: str = "platform",
        root: IntelCertOverrides | None = None,
        pck_ca: IntelCertOverrides | None = None,
        tcb_signing: IntelCertOverrides | None = None,
    ) -> IntelPki:
        """A fresh PKI shaped like Intel's (P-256 everywhere)."""
        root_key = ec.generate_private_key(ec.SECP256R1())
        ca_key = ec.generate_private_key(ec.SECP256R1())
        signing_key = ec.generate_private_key(ec.SECP256R1())
        root_name = intel_name("Intel SGX Root CA")
        root_crl = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
        root_cert = _build(
            subject=root_name,
            issuer=root_name,
            key=root_key.public_key(),
            signer=root_key,
            signer_public=root_key.public_key(),
            serial=1,
            ca=True,
            path_length=1,
            crl_url=root_crl,
            ov=root or IntelCertOverrides(),
        )
        ca_cert = _build(
            subject=intel_name(f"Intel SGX PCK {ca.capitalize()} CA"),
            issuer=root_cert.subject,
            key=ca_key.public_key(),
            signer=root_key,
            signer_public=root_key.public_key(),
            serial=2,
            ca=True,
            path_length=0,
            crl_url=root_crl,
            ov=pck_ca or IntelCertOverrides(),
        )
        signing_cert = _build(
            subject=intel_name("Intel SGX TCB Signing"),
            issuer=root_cert.subject,
            key=signing_key.public_key(),
            signer=root_key,
            signer_public=root_key.public_key(),
            serial=3,
            ca=False,
            path_length=None,
            crl_url=root_crl,
            ov=tcb_signing or IntelCertOverrides(),
        )
        return cls(
            root_key=root_key,
            root=root_cert,
            pck_ca_key=ca_key,
            pck_ca=ca_cert,
            tcb_signing_key=signing_key,
            tcb_signing=signing_cert,
            ca=ca,
        )

    def replace(self, **changes: object) -> IntelPki:
        """A copy with some members replaced (e.g. another TCB Signing certificate)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def trust_store(self, base: TrustStore | None = None) -> TrustStore:
        """A trust store in which this PKI's root is the Intel SGX Root CA (explicitly)."""
        store = base if base is not None else TrustStore.empty()
        return store.with_anchor(
            INTEL_SGX_ROOT, [self.root], source="teeclient.testing generated Intel PKI"
        )

    def issue_pck(
        self,
        *,
        not_before: datetime = datetime(2024, 1, 1, tzinfo=UTC),
        validity: timedelta = timedelta(days=7 * 365),
        overrides: IntelCertOverrides | None = None,
        **extension: Any,
    ) -> IssuedPck:
        """A PCK leaf (``extension`` goes to ``sgx_extension``: fmspc, components, ...)."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _build(
            subject=intel_name("Intel SGX PCK Certificate"),
            issuer=self.pck_ca.subject,
            key=key.public_key(),
            signer=self.pck_ca_key,
            signer_public=self.pck_ca_key.public_key(),
            serial=x509.random_serial_number(),
            ca=False,
            path_length=None,
            crl_url=f"https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?"
            f"ca={self.ca}&encoding=der",
            ov=overrides or IntelCertOverrides(),
            sgx=sgx_extension(**extension),
            not_before=not_before,
            not_after=not_before + validity,
        )
        return IssuedPck(key=key, cert=cert)

    def pck_chain_pem(self, pck: IssuedPck | x509.Certificate) -> bytes:
        """The quote's PCK chain: leaf, PCK CA, root (PEM)."""
        leaf = pck.cert if isinstance(pck, IssuedPck) else pck
        return _pem(leaf, self.pck_ca, self.root)

    def tcb_signing_chain_pem(self) -> bytes:
        """``TCB-Info-Issuer-Chain``: TCB Signing, root (PEM)."""
        return _pem(self.tcb_signing, self.root)

    def pck_crl_chain_pem(self) -> bytes:
        """``SGX-PCK-CRL-Issuer-Chain``: PCK CA, root (PEM)."""
        return _pem(self.pck_ca, self.root)

    def _crl(
        self,
        issuer: x509.Name,
        key: ec.EllipticCurvePrivateKey,
        revoked: Sequence[int],
        this_update: datetime,
        next_update: datetime | None,
    ) -> bytes:
        builder = x509.CertificateRevocationListBuilder().issuer_name(issuer)
        builder = builder.last_update(this_update)
        # Intel's CRLs carry a CRL number and the issuer's key identifier.
        builder = builder.add_extension(x509.CRLNumber(1), critical=False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        if next_update is not None:
            builder = builder.next_update(next_update)
        for serial in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(this_update)
                .build()
            )
        return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.DER)

    def pck_crl(
        self,
        *,
        revoked: Sequence[int] = (),
        this_update: datetime = datetime(2026, 1, 12, tzinfo=UTC),
        next_update: datetime | None = datetime(2026, 2, 11, tzinfo=UTC),
        signing_key: ec.EllipticCurvePrivateKey | None = None,
        issuer: x509.Name | None = None,
    ) -> bytes:
        """A DER PCK CRL issued by the PCK CA."""
        return self._crl(
            issuer or self.pck_ca.subject,
            signing_key or self.pck_ca_key,
            revoked,
            this_update,
            next_update,
        )

    def root_crl(
        self,
        *,
        revoked: Sequence[int] = (),
        this_update: datetime = datetime(2025, 3, 20, tzinfo=UTC),
        next_update: datetime | None = datetime(2027, 4, 3, tzinfo=UTC),
        signing_key: ec.EllipticCurvePrivateKey | None = None,
    ) -> bytes:
        """A DER root CA CRL issued by the root."""
        return self._crl(
            self.root.subject, signing_key or self.root_key, revoked, this_update, next_update
        )

    def sign(
        self, obj: Mapping[str, Any] | bytes, *, key: ec.EllipticCurvePrivateKey | None = None
    ) -> tuple[bytes, bytes]:
        """(signed text, raw r‖s signature) with the TCB Signing key (or ``key``)."""
        text = obj if isinstance(obj, bytes) else compact(obj)
        return text, _sign_raw(key or self.tcb_signing_key, text)

    def pcs_body(
        self,
        member: str,
        obj: Mapping[str, Any] | bytes,
        *,
        key: ec.EllipticCurvePrivateKey | None = None,
    ) -> bytes:
        """A PCS response body: ``{"<member>": <signed text>, "signature": "<hex>"}``."""
        text, signature = self.sign(obj, key=key)
        return (
            b'{"'
            + member.encode()
            + b'":'
            + text
            + b',"signature":"'
            + signature.hex().encode()
            + b'"}'
        )

    def collateral_items(
        self,
        *,
        tcb_info: Mapping[str, Any] | None = None,
        qe_identity: Mapping[str, Any] | None = None,
        pck_crl: bytes | None = None,
        root_crl: bytes | None = None,
        with_headers: bool = True,
    ) -> list[CollateralItem]:
        """The four PCS responses as ``CollateralItem``s, with URL-encoded issuer-chain headers
        (or, ``with_headers=False``, with the chains as separate PEM items)."""
        chain = url_quote(self.tcb_signing_chain_pem().decode(), safe="")
        crl_chain = url_quote(self.pck_crl_chain_pem().decode(), safe="")
        tcb = self.pcs_body("tcbInfo", tcb_info if tcb_info is not None else tcb_info_body())
        qe = self.pcs_body(
            "enclaveIdentity", qe_identity if qe_identity is not None else qe_identity_body()
        )
        pck = pck_crl if pck_crl is not None else self.pck_crl()
        root = root_crl if root_crl is not None else self.root_crl()
        if not with_headers:
            return [
                CollateralItem(data=tcb, source="tcb_info.json"),
                CollateralItem(data=qe, source="qe_identity.json"),
                CollateralItem(data=self.tcb_signing_chain_pem(), source="tcb_chain.pem"),
                CollateralItem(data=pck, source="pck_crl.der"),
                CollateralItem(data=self.pck_crl_chain_pem(), source="pck_crl_chain.pem"),
                CollateralItem(data=root, source="root_ca_crl.der"),
            ]
        return [
            CollateralItem(data=tcb, source="pcs:tcb", headers={"TCB-Info-Issuer-Chain": chain}),
            CollateralItem(
                data=qe, source="pcs:qe", headers={"SGX-Enclave-Identity-Issuer-Chain": chain}
            ),
            CollateralItem(
                data=pck, source="pcs:pckcrl", headers={"SGX-PCK-CRL-Issuer-Chain": crl_chain}
            ),
            CollateralItem(data=root, source="pcs:rootcrl"),
        ]

    def dcap_qvl_json(
        self,
        *,
        tcb_info: Mapping[str, Any] | None = None,
        qe_identity: Mapping[str, Any] | None = None,
        pck_crl: bytes | None = None,
        root_crl: bytes | None = None,
    ) -> bytes:
        """The same collateral as dcap-qvl's ``collateral.json`` (QuoteCollateralV3)."""
        tcb, tcb_sig = self.sign(tcb_info if tcb_info is not None else tcb_info_body())
        qe, qe_sig = self.sign(qe_identity if qe_identity is not None else qe_identity_body())
        chain = self.tcb_signing_chain_pem().decode()
        return json.dumps(
            {
                "pck_crl_issuer_chain": self.pck_crl_chain_pem().decode(),
                "root_ca_crl": (root_crl if root_crl is not None else self.root_crl()).hex(),
                "pck_crl": (pck_crl if pck_crl is not None else self.pck_crl()).hex(),
                "tcb_info_issuer_chain": chain,
                "tcb_info": tcb.decode(),
                "tcb_info_signature": tcb_sig.hex(),
                "qe_identity_issuer_chain": chain,
                "qe_identity": qe.decode(),
                "qe_identity_signature": qe_sig.hex(),
            }
        ).encode()
