"""A generated AMD SEV-SNP PKI: ARK, ASK, ASVK, VCEKs, VLEKs and CRLs, shaped like the real ones.

Certificates carry AMD's names, RSASSA-PSS/SHA-384 signatures (salt 48), CA constraints, CRL
distribution points and the VEK extensions (specs/sev-snp.md §5), so the real verifier accepts
them once a caller trusts this PKI explicitly (``AmdPki.trust_store``). Every certificate can
be broken on purpose with ``CertOverrides``. Test roots are never trusted implicitly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from teeclient.platforms.sev_snp.abi import Product
from teeclient.platforms.sev_snp.kds import AMD_OID_ARC, KDS_BASE_URL
from teeclient.trust import TrustStore

__all__ = ["AmdPki", "CertOverrides", "IssuedVek", "amd_name", "der_ia5", "der_integer"]

_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
_FAR = datetime(2049, 12, 31, tzinfo=UTC)
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)


def der_integer(value: int) -> bytes:
    """Minimal DER INTEGER for a non-negative value."""
    body = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")
    return bytes([0x02, len(body)]) + body


def der_ia5(text: str) -> bytes:
    """DER IA5String (short form lengths only)."""
    body = text.encode("ascii")
    return bytes([0x16, len(body)]) + body


def amd_name(cn: str, **replace: str) -> x509.Name:
    """An AMD-style subject (``replace`` swaps attributes: country, state, locality, org, ou)."""
    attrs = {
        "cn": cn,
        "org": "Advanced Micro Devices",
        "state": "CA",
        "locality": "Santa Clara",
        "country": "US",
        "ou": "Engineering",
        **replace,
    }
    oids = {
        "cn": NameOID.COMMON_NAME,
        "org": NameOID.ORGANIZATION_NAME,
        "state": NameOID.STATE_OR_PROVINCE_NAME,
        "locality": NameOID.LOCALITY_NAME,
        "country": NameOID.COUNTRY_NAME,
        "ou": NameOID.ORGANIZATIONAL_UNIT_NAME,
    }
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in attrs.items() if v])


@dataclass(frozen=True, slots=True, kw_only=True)
class CertOverrides:
    """Per-certificate changes used to build broken chains on purpose."""

    not_before: datetime | None = None
    not_after: datetime | None = None
    subject: x509.Name | None = None
    issuer_name: x509.Name | None = None
    signing_key: rsa.RSAPrivateKey | None = None
    hash_algorithm: hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None = None
    use_pkcs1v15: bool = False
    ca: bool | None = None
    path_length: int | str | None = "default"
    key_cert_sign: bool | None = None
    extra_extensions: tuple[x509.ExtensionType, ...] = ()
    amd_extensions: Mapping[str, bytes | None] = field(default_factory=dict)
    public_key: object | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedVek:
    """A VCEK or VLEK with its private key (to sign reports)."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def der(self) -> bytes:
        """DER encoding of the certificate."""
        return self.cert.public_bytes(Encoding.DER)

    @property
    def pem(self) -> bytes:
        """PEM encoding of the certificate."""
        return self.cert.public_bytes(Encoding.PEM)


def _build(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    public_key: object,
    signing_key: rsa.RSAPrivateKey,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    extensions: Sequence[tuple[x509.ExtensionType, bool]],
    ov: CertOverrides,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(ov.subject or subject)
        .issuer_name(ov.issuer_name or issuer)
        .public_key(ov.public_key or public_key)  # type: ignore[arg-type]
        .serial_number(serial)
        .not_valid_before(ov.not_before or not_before)
        .not_valid_after(ov.not_after or not_after)
    )
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    for ext in ov.extra_extensions:
        builder = builder.add_extension(ext, critical=False)
    key = ov.signing_key or signing_key
    algorithm = ov.hash_algorithm or hashes.SHA384()
    if ov.use_pkcs1v15:
        return builder.sign(key, algorithm)
    return builder.sign(key, algorithm, rsa_padding=_PSS)


def _ca_extensions(
    cert_key: rsa.RSAPrivateKey,
    issuer_key: rsa.RSAPrivateKey | None,
    crl_url: str,
    ov: CertOverrides,
    default_path_length: int | None,
) -> list[tuple[x509.ExtensionType, bool]]:
    path_length = default_path_length if ov.path_length == "default" else ov.path_length
    assert path_length is None or isinstance(path_length, int)
    cert_sign = True if ov.key_cert_sign is None else ov.key_cert_sign
    exts: list[tuple[x509.ExtensionType, bool]] = [
        (
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=cert_sign,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            True,
        ),
        (x509.SubjectKeyIdentifier.from_public_key(cert_key.public_key()), False),
        (
            x509.BasicConstraints(
                ca=True if ov.ca is None else ov.ca,
                path_length=path_length if (ov.ca is None or ov.ca) else None,
            ),
            True,
        ),
        (
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier(crl_url)], None, None, None
                    )
                ]
            ),
            False,
        ),
    ]
    if issuer_key is not None:
        exts.append(
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False)
        )
    return exts


@dataclass(frozen=True, slots=True, kw_only=True)
class AmdPki:
    """ARK + ASK + ASVK for one product, with their keys; issues VEKs and CRLs."""

    product: Product
    ark_key: rsa.RSAPrivateKey
    ark: x509.Certificate
    ask_key: rsa.RSAPrivateKey
    ask: x509.Certificate
    asvk_key: rsa.RSAPrivateKey
    asvk: x509.Certificate

    @classmethod
    def generate(
        cls,
        product: Product | str = Product.GENOA,
        *,
        key_size: int = 2048,
        ark: CertOverrides | None = None,
        ask: CertOverrides | None = None,
        asvk: CertOverrides | None = None,
        not_before: datetime = _EPOCH,
        not_after: datetime = _FAR,
    ) -> AmdPki:
        """Generate a fresh ARK/ASK/ASVK for ``product`` (RSA ``key_size``; real ones are 4096)."""
        product = Product(product)
        p = product.kds_name
        ark_ov, ask_ov, asvk_ov = (
            ark or CertOverrides(),
            ask or CertOverrides(),
            asvk or CertOverrides(),
        )
        ark_key = rsa.generate_private_key(65537, key_size)
        ask_key = rsa.generate_private_key(65537, key_size)
        asvk_key = rsa.generate_private_key(65537, key_size)
        vcek_crl = f"{KDS_BASE_URL}/vcek/v1/{p}/crl"
        vlek_crl = f"{KDS_BASE_URL}/vlek/v1/{p}/crl"
        ark_name = amd_name(f"ARK-{p}")
        ark_cert = _build(
            subject=ark_name,
            issuer=ark_name,
            public_key=ark_key.public_key(),
            signing_key=ark_key,
            serial=(product_index(product) + 1) << 16,
            not_before=not_before,
            not_after=not_after,
            extensions=_ca_extensions(ark_key, None, vcek_crl, ark_ov, None),
            ov=ark_ov,
        )
        ask_cert = _build(
            subject=amd_name(f"SEV-{p}"),
            issuer=ark_cert.subject,
            public_key=ask_key.public_key(),
            signing_key=ark_key,
            serial=((product_index(product) + 1) << 16) + 2,
            not_before=not_before,
            not_after=not_after,
            extensions=_ca_extensions(ask_key, ark_key, vcek_crl, ask_ov, 0),
            ov=ask_ov,
        )
        asvk_cert = _build(
            subject=amd_name(f"SEV-VLEK-{p}"),
            issuer=ark_cert.subject,
            public_key=asvk_key.public_key(),
            signing_key=ark_key,
            serial=((product_index(product) + 1) << 16) + 0x101,
            not_before=not_before,
            not_after=not_after,
            extensions=_ca_extensions(asvk_key, ark_key, vlek_crl, asvk_ov, 0),
            ov=asvk_ov,
        )
        return cls(
            product=product,
            ark_key=ark_key,
            ark=ark_cert,
            ask_key=ask_key,
            ask=ask_cert,
            asvk_key=asvk_key,
            asvk=asvk_cert,
        )

    def trust_store(self, base: TrustStore | None = None) -> TrustStore:
        """A trust store in which this PKI replaces the product's AMD anchors (explicitly)."""
        store = base if base is not None else TrustStore.empty()
        p = self.product.value
        source = f"teeclient.testing generated {self.product.kds_name} PKI"
        return (
            store.with_anchor(f"amd.{p}.ark", [self.ark], source=source)
            .with_anchor(f"amd.{p}.ask", [self.ask], source=source)
            .with_anchor(f"amd.{p}.asvk", [self.asvk], source=source)
        )

    def chain_pem(self, *, vlek: bool = False) -> bytes:
        """The KDS ``cert_chain`` body: ASK (or ASVK) then ARK, PEM."""
        inter = self.asvk if vlek else self.ask
        return inter.public_bytes(Encoding.PEM) + self.ark.public_bytes(Encoding.PEM)

    def _vek_extensions(
        self,
        *,
        tcb: Mapping[str, int],
        hwid: bytes | None,
        csp_id: str | None,
        struct_version: int | None,
        product_name: str | None,
        ov: CertOverrides,
    ) -> list[tuple[x509.ExtensionType, bool]]:
        turin = self.product is Product.TURIN
        values: dict[str, bytes | None] = {
            "1": der_integer(1 if turin else 0)
            if struct_version is None
            else der_integer(struct_version),
            "2": der_ia5(
                product_name
                if product_name is not None
                else (self.product.kds_name if turin or csp_id else f"{self.product.kds_name}-B0")
            ),
            "3.1": der_integer(tcb.get("bl", 0)),
            "3.2": der_integer(tcb.get("tee", 0)),
            "3.3": der_integer(tcb.get("snp", 0)),
            "3.4": None if turin else der_integer(tcb.get("spl4", 0)),
            "3.5": der_integer(tcb.get("spl5", 0)),
            "3.6": der_integer(tcb.get("spl6", 0)),
            "3.7": der_integer(tcb.get("spl7", 0)),
            "3.8": der_integer(tcb.get("ucode", 0)),
            "3.9": der_integer(tcb.get("fmc", 0)) if turin else None,
            "4": hwid,
            "5": der_ia5(csp_id) if csp_id is not None else None,
        }
        values.update(ov.amd_extensions)
        exts: list[tuple[x509.ExtensionType, bool]] = []
        for suffix, raw in values.items():
            if raw is not None:
                oid = x509.ObjectIdentifier(f"{AMD_OID_ARC}.{suffix}")
                exts.append((x509.UnrecognizedExtension(oid, raw), False))
        return exts

    def issue_vcek(
        self,
        *,
        chip_id: bytes,
        tcb: Mapping[str, int],
        not_before: datetime = datetime(2024, 1, 1, tzinfo=UTC),
        validity: timedelta = timedelta(days=7 * 365),
        struct_version: int | None = None,
        product_name: str | None = None,
        overrides: CertOverrides | None = None,
    ) -> IssuedVek:
        """A VCEK for ``chip_id`` (64 bytes; Turin uses the first 8) at TCB ``tcb``."""
        ov = overrides or CertOverrides()
        key = ec.generate_private_key(ec.SECP384R1())
        hwid = chip_id[:8] if self.product is Product.TURIN else chip_id
        exts = self._vek_extensions(
            tcb=tcb,
            hwid=hwid,
            csp_id=None,
            struct_version=struct_version,
            product_name=product_name,
            ov=ov,
        )
        cert = _build(
            subject=amd_name("SEV-VCEK"),
            issuer=self.ask.subject,
            public_key=key.public_key(),
            signing_key=self.ask_key,
            serial=1,
            not_before=not_before,
            not_after=not_before + validity,
            extensions=exts,
            ov=ov,
        )
        return IssuedVek(key=key, cert=cert)

    def issue_vlek(
        self,
        *,
        tcb: Mapping[str, int],
        csp_id: str = "CN=cc-test-1.example.com",
        not_before: datetime = datetime(2024, 1, 1, tzinfo=UTC),
        validity: timedelta = timedelta(days=365),
        overrides: CertOverrides | None = None,
    ) -> IssuedVek:
        """A VLEK (signed by the ASVK) for a cloud provider ``csp_id`` at TCB ``tcb``."""
        ov = overrides or CertOverrides()
        key = ec.generate_private_key(ec.SECP384R1())
        exts = self._vek_extensions(
            tcb=tcb, hwid=None, csp_id=csp_id, struct_version=None, product_name=None, ov=ov
        )
        cert = _build(
            subject=amd_name("SEV-VLEK"),
            issuer=self.asvk.subject,
            public_key=key.public_key(),
            signing_key=self.asvk_key,
            serial=1,
            not_before=not_before,
            not_after=not_before + validity,
            extensions=exts,
            ov=ov,
        )
        return IssuedVek(key=key, cert=cert)

    def crl(
        self,
        *,
        revoked: Sequence[int] = (),
        this_update: datetime = datetime(2025, 1, 1, tzinfo=UTC),
        next_update: datetime | None = datetime(2030, 1, 1, tzinfo=UTC),
        signing_key: rsa.RSAPrivateKey | None = None,
        issuer: x509.Name | None = None,
    ) -> bytes:
        """A DER CRL issued by the ARK listing ``revoked`` serial numbers."""
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer or self.ark.subject)
            .last_update(this_update)
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
        crl = builder.sign(signing_key or self.ark_key, hashes.SHA384(), rsa_padding=_PSS)
        return crl.public_bytes(Encoding.DER)

    def replace(self, **changes: object) -> AmdPki:
        """A copy with some members replaced (e.g. a foreign ASK)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def product_index(product: Product) -> int:
    """Milan 0, Genoa 1, Turin 2 (the real serial-number scheme: 65536, 131072, 196608)."""
    return list(Product).index(product)
