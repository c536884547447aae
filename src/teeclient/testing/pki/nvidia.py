"""A generated NVIDIA PKI: device identity chains, RIM signing chain, OCSP responders, RIMs.

Shaped like the real ones (specs/nvidia-gpu.md §3–§5): P-384 keys and ecdsa-with-SHA384
everywhere; ``Device Identity CA`` → ``<chip> Identity`` → ``<chip> Provisioner ICA`` →
per-device ``<chip> A01 GSP BROM`` → ``… FMC LF`` leaf with the DICE FWID extension (Hopper
``2.23.133.5.4.1``, Blackwell DiceTcbInfo ``2.23.133.5.4.1.1``); ``CoRIM signing Root CA`` →
L2 → L3 → ``RIM L4 Signer``; delegated OCSP responders (EKU OCSPSigning, OCSPNoCheck) issued
by each CA. Every certificate can be broken on purpose with ``NvCertOverrides``. Nothing here
is trusted unless a caller passes ``NvidiaPki.trust_store()`` explicitly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from teeclient.platforms.nvidia.certs import OID_DICE_FWID, OID_DICE_TCB_INFO
from teeclient.trust import TrustStore

__all__ = [
    "IssuedCert",
    "IssuedDevice",
    "NvCertOverrides",
    "NvidiaPki",
    "RimSpec",
    "dice_fwid_extension",
    "dice_tcb_info_extension",
]

_EPOCH = datetime(2021, 11, 5, tzinfo=UTC)
_FAR = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
_SHA384_OID = bytes.fromhex("0609608648016503040202")


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + body


def dice_fwid_extension(key: ec.EllipticCurvePublicKey, fwid: bytes) -> x509.UnrecognizedExtension:
    """Hopper-style TCG DICE FWID: SEQUENCE { 1, SPKI, SEQUENCE { sha384, OCTET STRING } }."""
    spki = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    body = _der(0x02, b"\x01") + spki + _der(0x30, _SHA384_OID + _der(0x04, fwid))
    return x509.UnrecognizedExtension(x509.ObjectIdentifier(OID_DICE_FWID), _der(0x30, body))


def dice_tcb_info_extension(model: str, fwid: bytes) -> x509.UnrecognizedExtension:
    """Blackwell-style DiceTcbInfo with ``fwids[0]`` = ``fwid`` (SHA-384)."""
    fwids = _der(0x30, _SHA384_OID + _der(0x04, fwid))
    body = (
        _der(0x80, b"NVIDIA")
        + _der(0x81, model.encode())
        + _der(0x82, b"01")
        + _der(0x83, b"\x01")
        + _der(0xA6, fwids)
    )
    return x509.UnrecognizedExtension(x509.ObjectIdentifier(OID_DICE_TCB_INFO), _der(0x30, body))


@dataclass(frozen=True, slots=True, kw_only=True)
class NvCertOverrides:
    """Per-certificate changes used to build broken chains on purpose."""

    not_before: datetime | None = None
    not_after: datetime | None = None
    subject: x509.Name | None = None
    issuer_name: x509.Name | None = None
    signing_key: ec.EllipticCurvePrivateKey | None = None
    ca: bool | None = None
    digital_signature: bool | None = None
    eku: tuple[x509.ObjectIdentifier, ...] | None = None
    extra_extensions: tuple[x509.ExtensionType, ...] = ()
    omit_fwid: bool = False
    public_key: ec.EllipticCurvePublicKey | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedCert:
    """A certificate with its private key."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def pem(self) -> bytes:
        """PEM encoding."""
        return self.cert.public_bytes(Encoding.PEM)


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedDevice:
    """One device: BROM and leaf (with keys) and the five-certificate chain as it supplies it."""

    brom: IssuedCert
    leaf: IssuedCert
    chain: tuple[x509.Certificate, ...]

    @property
    def key(self) -> ec.EllipticCurvePrivateKey:
        """The attestation key (signs reports)."""
        return self.leaf.key

    def chain_pem(self) -> bytes:
        """Leaf first, root last, PEM (what NVML returns)."""
        return b"".join(c.public_bytes(Encoding.PEM) for c in self.chain)


def _name(cn: str, org: str = "NVIDIA Corporation", serial: str | None = None) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
    ]
    if serial is not None:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    return x509.Name(attrs)


def _key_usage(*, sign: bool, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _issue(
    *,
    subject: x509.Name,
    issuer: IssuedCert | None,
    key: ec.EllipticCurvePrivateKey,
    serial: int,
    ca: bool,
    not_before: datetime,
    not_after: datetime,
    ov: NvCertOverrides,
    extensions: Sequence[x509.ExtensionType] = (),
    eku: tuple[x509.ObjectIdentifier, ...] | None = None,
) -> IssuedCert:
    public = ov.public_key or key.public_key()
    signer = ov.signing_key or (issuer.key if issuer else key)
    issuer_name = ov.issuer_name or (issuer.cert.subject if issuer else subject)
    is_ca = ca if ov.ca is None else ov.ca
    builder = (
        x509.CertificateBuilder()
        .subject_name(ov.subject or subject)
        .issuer_name(issuer_name)
        .public_key(public)
        .serial_number(serial)
        .not_valid_before(ov.not_before or not_before)
        .not_valid_after(ov.not_after or not_after)
        .add_extension(
            _key_usage(
                sign=not is_ca if ov.digital_signature is None else ov.digital_signature,
                cert_sign=is_ca,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    if is_ca or ov.ca is not None:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=is_ca, path_length=None), critical=True
        )
    issuer_pub = (issuer.key if issuer else key).public_key()
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_pub), critical=False
    )
    usages = ov.eku if ov.eku is not None else eku
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(usages)), critical=False)
    for ext in (*extensions, *ov.extra_extensions):
        builder = builder.add_extension(ext, critical=False)
    return IssuedCert(key=key, cert=builder.sign(signer, hashes.SHA384()))


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@dataclass(frozen=True, slots=True, kw_only=True)
class RimSpec:
    """What a generated RIM says: version, chip and the active golden values by index."""

    colloquial_version: str
    golden: dict[int, tuple[bytes, ...]]
    name: str = "GH100"
    product: str = "GH100"
    edition: str = "GPU"
    total: int = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class NvidiaPki:
    """Device identity CAs, RIM signing chain and OCSP responders, with their keys."""

    chip: str
    root: IssuedCert
    identity: IssuedCert
    ica: IssuedCert
    corim_root: IssuedCert
    rim_l2: IssuedCert
    rim_l3: IssuedCert
    rim_l4: IssuedCert
    responders: dict[str, IssuedCert] = field(default_factory=dict)

    @classmethod
    def generate(
        cls,
        chip: str = "GH100",
        *,
        not_before: datetime = _EPOCH,
        not_after: datetime = _FAR,
        rim_signer_not_after: datetime = datetime(2030, 1, 1, tzinfo=UTC),
        responder_not_after: datetime = datetime(2030, 1, 1, tzinfo=UTC),
        overrides: dict[str, NvCertOverrides] | None = None,
    ) -> NvidiaPki:
        """Generate a fresh PKI for ``chip`` (``GH100``, ``GB100`` or ``LS_10``).

        ``overrides`` maps a role (root, identity, ica, corim_root, rim_l2, rim_l3, rim_l4,
        responder.<ca role>) to changes for that certificate.
        """
        ov = overrides or {}
        none = NvCertOverrides()

        def o(role: str) -> NvCertOverrides:
            return ov.get(role, none)

        root = _issue(
            subject=_name("NVIDIA Device Identity CA", "NVIDIA"),
            issuer=None,
            key=_new_key(),
            serial=0x2D35,
            ca=True,
            not_before=not_before,
            not_after=not_after,
            ov=o("root"),
        )
        ident_chip = "GH100" if chip == "LS_10" else chip
        identity = _issue(
            subject=_name(f"NVIDIA {ident_chip} Identity"),
            issuer=root,
            key=_new_key(),
            serial=0x1D1,
            ca=True,
            not_before=not_before,
            not_after=not_after,
            ov=o("identity"),
        )
        ica = _issue(
            subject=_name(f"NVIDIA {chip} Provisioner ICA 1"),
            issuer=identity,
            key=_new_key(),
            serial=0x1CA,
            ca=True,
            not_before=not_before,
            not_after=not_after,
            ov=o("ica"),
        )
        corim_root = _issue(
            subject=_name("NVIDIA CoRIM signing Root CA", "NVIDIA"),
            issuer=None,
            key=_new_key(),
            serial=0xC0,
            ca=True,
            not_before=datetime(2023, 3, 16, tzinfo=UTC),
            not_after=datetime(2053, 3, 8, tzinfo=UTC),
            ov=o("corim_root"),
        )
        l2 = _issue(
            subject=_name(f"NVIDIA Reference Value {ident_chip} CA"),
            issuer=corim_root,
            key=_new_key(),
            serial=0xC2,
            ca=True,
            not_before=datetime(2023, 5, 1, tzinfo=UTC),
            not_after=datetime(2043, 5, 1, tzinfo=UTC),
            ov=o("rim_l2"),
        )
        l3 = _issue(
            subject=_name(f"NVIDIA Reference Value L3 {ident_chip} 002"),
            issuer=l2,
            key=_new_key(),
            serial=0xC3,
            ca=True,
            not_before=datetime(2023, 10, 1, tzinfo=UTC),
            not_after=datetime(2033, 10, 1, tzinfo=UTC),
            ov=o("rim_l3"),
        )
        l4 = _issue(
            subject=_name("HCC RIM L4 Signer"),
            issuer=l3,
            key=_new_key(),
            serial=0xC4,
            ca=False,
            not_before=datetime(2024, 1, 1, tzinfo=UTC),
            not_after=rim_signer_not_after,
            ov=o("rim_l4"),
        )
        responders: dict[str, IssuedCert] = {}
        for role, issuer in (
            ("root", root),
            ("identity", identity),
            ("ica", ica),
            ("corim_root", corim_root),
            ("rim_l2", l2),
            ("rim_l3", l3),
        ):
            responders[role] = _issue(
                subject=_name(f"NVIDIA OCSP Responder {role}"),
                issuer=issuer,
                key=_new_key(),
                serial=0x0C5000 + len(responders),
                ca=False,
                not_before=datetime(2022, 1, 1, tzinfo=UTC),
                not_after=responder_not_after,
                ov=o(f"responder.{role}"),
                eku=(ExtendedKeyUsageOID.OCSP_SIGNING,),
                extensions=(x509.OCSPNoCheck(),),
            )
        return cls(
            chip=chip,
            root=root,
            identity=identity,
            ica=ica,
            corim_root=corim_root,
            rim_l2=l2,
            rim_l3=l3,
            rim_l4=l4,
            responders=responders,
        )

    def trust_store(self, base: TrustStore | None = None) -> TrustStore:
        """A store in which this PKI's roots are the NVIDIA anchors (explicitly)."""
        store = base if base is not None else TrustStore.empty()
        source = "teeclient.testing generated NVIDIA PKI"
        return store.with_anchor("nvidia.device.root", [self.root.cert], source=source).with_anchor(
            "nvidia.corim.root", [self.corim_root.cert], source=source
        )

    def issue_device(
        self,
        *,
        serial: int = 0x53C22BA15E5D0000000000000000000000000001,
        fwid: bytes | None = bytes(range(48)),
        blackwell_tcb_info: bool | None = None,
        brom: NvCertOverrides | None = None,
        leaf: NvCertOverrides | None = None,
        supplied_root: x509.Certificate | None = None,
    ) -> IssuedDevice:
        """A BROM + FMC LF leaf for one device; ``fwid`` goes into the leaf (None: omitted)."""
        unit = "FSP" if self.chip == "LS_10" else "GSP"
        brom_ov, leaf_ov = brom or NvCertOverrides(), leaf or NvCertOverrides()
        brom_cert = _issue(
            subject=_name(f"{self.chip} A01 {unit} BROM", serial=f"{serial:X}"[:14]),
            issuer=self.ica,
            key=_new_key(),
            serial=(serial % (1 << 80)) + (1 << 80),
            ca=True,
            not_before=datetime(2020, 10, 17, tzinfo=UTC),
            not_after=_FAR,
            ov=brom_ov,
        )
        key = _new_key()
        exts: list[x509.ExtensionType] = []
        tcb = blackwell_tcb_info if blackwell_tcb_info is not None else self.chip.startswith("GB")
        if fwid is not None and not leaf_ov.omit_fwid:
            exts.append(
                dice_tcb_info_extension(f"{self.chip} A01 {unit}", fwid)
                if tcb
                else dice_fwid_extension(key.public_key(), fwid)
            )
        leaf_cert = _issue(
            subject=_name(f"{self.chip} A01 {unit} FMC LF", serial=f"{serial:X}"[:12]),
            issuer=brom_cert,
            key=key,
            serial=serial,
            ca=False,
            not_before=datetime(2020, 10, 17, tzinfo=UTC),
            not_after=_FAR,
            ov=leaf_ov,
            extensions=exts,
        )
        chain = (
            leaf_cert.cert,
            brom_cert.cert,
            self.ica.cert,
            self.identity.cert,
            supplied_root or self.root.cert,
        )
        return IssuedDevice(brom=brom_cert, leaf=leaf_cert, chain=chain)

    def _issuer_of(self, cert: x509.Certificate) -> tuple[str, IssuedCert]:
        for role in ("root", "identity", "ica", "corim_root", "rim_l2", "rim_l3"):
            ca: IssuedCert = getattr(self, role)
            if cert.issuer == ca.cert.subject:
                return role, ca
        raise ValueError(f"no CA of this PKI issued {cert.subject.rfc4514_string()}")

    def ocsp_response(
        self,
        cert: x509.Certificate,
        issuer: x509.Certificate | None = None,
        *,
        status: str = "good",
        reason: x509.ReasonFlags | None = None,
        revoked_at: datetime = datetime(2025, 1, 1, tzinfo=UTC),
        this_update: datetime = datetime(2025, 8, 21, 6, tzinfo=UTC),
        next_update: datetime | None = datetime(2025, 8, 22, 6, tzinfo=UTC),
        nonce: bytes | None = None,
        responder: str | IssuedCert = "delegated",
        algorithm: hashes.HashAlgorithm | None = None,
        by_name: bool = False,
        include_responder: bool = True,
    ) -> bytes:
        """A DER OCSP response about ``cert`` (status good / revoked / unknown).

        ``responder`` is ``"delegated"`` (the OCSPSigning responder the issuer issued),
        ``"issuer"`` (the CA signs itself) or any ``IssuedCert`` (to test forgeries).
        """
        role, ca = self._issuer_of(cert)
        issuer_cert = issuer or ca.cert
        signer: IssuedCert
        if isinstance(responder, IssuedCert):
            signer = responder
        elif responder == "issuer":
            signer = ca
        else:
            signer = self.responders[role]
        cert_status = {
            "good": ocsp.OCSPCertStatus.GOOD,
            "revoked": ocsp.OCSPCertStatus.REVOKED,
            "unknown": ocsp.OCSPCertStatus.UNKNOWN,
        }[status]
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert,
                issuer=issuer_cert,
                algorithm=algorithm or hashes.SHA384(),
                cert_status=cert_status,
                this_update=this_update,
                next_update=next_update,
                revocation_time=revoked_at if status == "revoked" else None,
                revocation_reason=reason if status == "revoked" else None,
            )
            .responder_id(
                ocsp.OCSPResponderEncoding.NAME if by_name else ocsp.OCSPResponderEncoding.HASH,
                signer.cert,
            )
        )
        if include_responder and signer is not ca:
            builder = builder.certificates([signer.cert])
        if nonce is not None:
            builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
        return builder.sign(signer.key, hashes.SHA384()).public_bytes(Encoding.DER)

    def device_ocsp(self, device: IssuedDevice, **kwargs: object) -> list[bytes]:
        """OCSP responses for BROM, ICA and identity CA (``kwargs`` as ``ocsp_response``)."""
        return [self.ocsp_response(c, **kwargs) for c in device.chain[1:4]]  # type: ignore[arg-type]

    def rim_ocsp(self, **kwargs: object) -> list[bytes]:
        """OCSP responses for the RIM L4 signer, L3 and L2."""
        return [
            self.ocsp_response(c.cert, **kwargs)  # type: ignore[arg-type]
            for c in (self.rim_l4, self.rim_l3, self.rim_l2)
        ]

    def rim_chain(self) -> tuple[x509.Certificate, ...]:
        """L4 signer, L3, L2, root (the KeyInfo order NVIDIA uses)."""
        return (self.rim_l4.cert, self.rim_l3.cert, self.rim_l2.cert, self.corim_root.cert)

    def sign_rim(
        self,
        spec: RimSpec,
        *,
        signer: IssuedCert | None = None,
        chain: Sequence[x509.Certificate] | None = None,
    ) -> bytes:
        """A SWID RIM with an enveloped XML-DSig exactly as NVIDIA signs them (signxml)."""
        from lxml import etree
        from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
        from signxml.signer import XMLSigner

        root = etree.fromstring(build_rim_xml(spec))
        key = (signer or self.rim_l4).key
        certs = chain if chain is not None else self.rim_chain()
        signed = XMLSigner(
            signature_algorithm=SignatureMethod.ECDSA_SHA384,
            digest_algorithm=DigestAlgorithm.SHA384,
            c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_1,
        ).sign(root, key=key, cert=[c.public_bytes(Encoding.PEM).decode() for c in certs])
        out: bytes = etree.tostring(signed)
        return out

    def replace(self, **changes: object) -> NvidiaPki:
        """A copy with some members replaced."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def build_rim_xml(spec: RimSpec) -> bytes:
    """The unsigned SWID document of ``spec`` (NVIDIA's element and attribute layout)."""
    swid = "http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
    tcg = (
        "https://trustedcomputinggroup.org/resource/"
        "tcg-reference-integrity-manifest-rim-information-model/"
    )
    sha = "http://www.w3.org/2001/04/xmlenc#sha384"
    lines = [
        f'<SoftwareIdentity xmlns="{swid}" xmlns:ns0="{swid}" xmlns:ns2="{sha}" corpus="false" '
        f'name="{spec.name}" patch="false" supplemental="false" tagId="teeclient-test" '
        'version="1.0" tagVersion="0">',
        '<ns0:Entity name="NVIDIA Corporation" role="softwareCreator tagCreator"/>',
        f'<ns0:Meta xmlns:ns1="{tcg}" colloquialVersion="{spec.colloquial_version}" '
        f'edition="{spec.edition}" product="{spec.product}" revision="r1" PayloadType="direct" '
        f'ns1:BindingSpec="RIMIM" ns1:PlatformModel="{spec.product}" '
        'ns1:FirmwareManufacturerId="5703"/>',
        "<ns0:Payload>",
    ]
    for index in range(spec.total):
        values = spec.golden.get(index)
        active = values is not None
        hashes_ = values or (bytes(48),)
        attrs = " ".join(f'ns2:Hash{i}="{v.hex()}"' for i, v in enumerate(hashes_))
        lines.append(
            f'<ns0:Resource type="Measurement" index="{index}" active="{active}" '
            f'alternatives="{len(hashes_)}" {attrs} name="Measurement_{index}" '
            'size="48"/>'
        )
    lines += ["</ns0:Payload>", "</SoftwareIdentity>"]
    return "\n".join(lines).encode()
