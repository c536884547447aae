"""A generated AWS Nitro Enclaves PKI: root, regional, zonal and instance CAs and enclave leaves.

The certificates are shaped like the real ones (specs/nitro.md §3): the same names, ECDSA
P-384 keys, ecdsa-with-SHA384 signatures, basicConstraints path lengths 2/1/0, key usages,
SKI/AKI and CRL distribution points where AWS puts them, and a leaf without AKI/SKI that lives
three hours. The real verifier accepts documents signed with them once a caller trusts this
PKI explicitly (``NitroPki.trust_store``). Every certificate can be broken on purpose with
``CertOverrides``. Test roots are never trusted implicitly.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from teeclient.trust import TrustStore

__all__ = ["CertOverrides", "IssuedLeaf", "NitroPki", "leaf_name"]

_ROOT_NOT_BEFORE = datetime(2019, 10, 28, 13, 28, 5, tzinfo=UTC)
_ROOT_NOT_AFTER = datetime(2049, 10, 28, 14, 28, 5, tzinfo=UTC)
_CRL_BASE = "http://crl-{region}-aws-nitro-enclaves.s3.{region}.amazonaws.com/crl/"
LEAF_VALIDITY = timedelta(hours=3)

_Hash = hashes.SHA256 | hashes.SHA384 | hashes.SHA512


@dataclass(frozen=True, slots=True, kw_only=True)
class CertOverrides:
    """Per-certificate changes used to build broken chains on purpose.

    ``path_length`` "default" keeps the real value; ``ca`` None keeps the role's flag;
    ``key_usage`` replaces the KeyUsage extension (``omit_key_usage`` drops it);
    ``omit_basic_constraints`` drops basicConstraints; ``curve`` chooses the generated key's
    curve; ``extra_extensions`` are (extension, critical) pairs added as they are.
    """

    not_before: datetime | None = None
    not_after: datetime | None = None
    subject: x509.Name | None = None
    issuer_name: x509.Name | None = None
    signing_key: ec.EllipticCurvePrivateKey | None = None
    hash_algorithm: _Hash | None = None
    curve: ec.EllipticCurve | None = None
    ca: bool | None = None
    path_length: int | str | None = "default"
    key_usage: x509.KeyUsage | None = None
    omit_key_usage: bool = False
    omit_basic_constraints: bool = False
    extra_extensions: tuple[tuple[x509.ExtensionType, bool], ...] = ()
    serial: int | None = None


def _key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _name(*pairs: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    """A name with attributes in DER order (RFC 4514 renders them reversed)."""
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in pairs])


def _aws(cn: str, *, seattle: bool = False, zonal: bool = False) -> x509.Name:
    if zonal:  # the zonal CA's name has its own attribute order (see real documents)
        return _name(
            (NameOID.COMMON_NAME, cn),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, "AWS"),
            (NameOID.ORGANIZATION_NAME, "Amazon"),
            (NameOID.COUNTRY_NAME, "US"),
            (NameOID.STATE_OR_PROVINCE_NAME, "WA"),
            (NameOID.LOCALITY_NAME, "Seattle"),
        )
    pairs = [(NameOID.COUNTRY_NAME, "US")]
    if seattle:
        pairs += [
            (NameOID.STATE_OR_PROVINCE_NAME, "Washington"),
            (NameOID.LOCALITY_NAME, "Seattle"),
        ]
    pairs += [
        (NameOID.ORGANIZATION_NAME, "Amazon"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "AWS"),
        (NameOID.COMMON_NAME, cn),
    ]
    return _name(*pairs)


def leaf_name(module_id: str, region: str) -> x509.Name:
    """The subject AWS gives an enclave's signing certificate: ``CN=<module_id>.<region>.aws``."""
    return _aws(f"{module_id}.{region}.aws", seattle=True)


def _build(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    signing_key: ec.EllipticCurvePrivateKey,
    not_before: datetime,
    not_after: datetime,
    basic_constraints: x509.BasicConstraints,
    key_usage: x509.KeyUsage,
    key_usage_critical: bool,
    ski: bool,
    aki_key: ec.EllipticCurvePublicKey | None,
    crl_url: str | None,
    ov: CertOverrides,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(ov.subject or subject)
        .issuer_name(ov.issuer_name or issuer)
        .public_key(public_key)
        .serial_number(ov.serial if ov.serial is not None else x509.random_serial_number())
        .not_valid_before(ov.not_before or not_before)
        .not_valid_after(ov.not_after or not_after)
    )
    if not ov.omit_basic_constraints:
        ca = basic_constraints.ca if ov.ca is None else ov.ca
        path = basic_constraints.path_length if ov.path_length == "default" else ov.path_length
        assert path is None or isinstance(path, int)
        builder = builder.add_extension(
            x509.BasicConstraints(ca=ca, path_length=path if ca else None), critical=True
        )
    if not ov.omit_key_usage:
        builder = builder.add_extension(ov.key_usage or key_usage, critical=key_usage_critical)
    if ski:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False
        )
    if aki_key is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(aki_key), critical=False
        )
    if crl_url is not None:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    for ext, critical in ov.extra_extensions:
        builder = builder.add_extension(ext, critical=critical)
    return builder.sign(ov.signing_key or signing_key, ov.hash_algorithm or hashes.SHA384())


def _key(ov: CertOverrides) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ov.curve or ec.SECP384R1())


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedLeaf:
    """An enclave signing certificate with its private key (to sign documents)."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    module_id: str

    @property
    def der(self) -> bytes:
        """DER encoding of the certificate."""
        return self.cert.public_bytes(Encoding.DER)


@dataclass(frozen=True, slots=True, kw_only=True)
class NitroPki:
    """Root → regional → zonal → instance CA for one region and parent instance, with keys."""

    region: str
    instance_id: str
    root_key: ec.EllipticCurvePrivateKey
    root: x509.Certificate
    regional_key: ec.EllipticCurvePrivateKey
    regional: x509.Certificate
    zonal_key: ec.EllipticCurvePrivateKey
    zonal: x509.Certificate
    instance_key: ec.EllipticCurvePrivateKey
    instance: x509.Certificate

    @classmethod
    def generate(
        cls,
        *,
        at: datetime = datetime(2025, 6, 1, 12, 0, tzinfo=UTC),
        region: str = "us-east-1",
        instance_id: str = "i-0123456789abcdef0",
        root: CertOverrides | None = None,
        regional: CertOverrides | None = None,
        zonal: CertOverrides | None = None,
        instance: CertOverrides | None = None,
    ) -> NitroPki:
        """A fresh PKI whose CAs are valid around ``at`` (lifetimes as AWS issues them:
        regional ~3 weeks, zonal ~6 days, instance ~1 day; the root 2019–2049)."""
        none = CertOverrides()
        r_ov, g_ov, z_ov, i_ov = (root or none, regional or none, zonal or none, instance or none)
        root_key, regional_key, zonal_key, instance_key = (
            _key(r_ov),
            _key(g_ov),
            _key(z_ov),
            _key(i_ov),
        )
        ca_usage = _key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True)
        root_name = _aws("aws.nitro-enclaves")
        root_cert = _build(
            subject=root_name,
            issuer=root_name,
            public_key=root_key.public_key(),
            signing_key=root_key,
            not_before=_ROOT_NOT_BEFORE,
            not_after=_ROOT_NOT_AFTER,
            basic_constraints=x509.BasicConstraints(ca=True, path_length=None),
            key_usage=ca_usage,
            key_usage_critical=True,
            ski=True,
            aki_key=None,
            crl_url=None,
            ov=r_ov,
        )
        return cls._under_root(
            root_key,
            root_cert,
            at=at,
            region=region,
            instance_id=instance_id,
            keys=(regional_key, zonal_key, instance_key),
            overrides=(g_ov, z_ov, i_ov),
        )

    @classmethod
    def _under_root(
        cls,
        root_key: ec.EllipticCurvePrivateKey,
        root_cert: x509.Certificate,
        *,
        at: datetime,
        region: str,
        instance_id: str,
        keys: tuple[ec.EllipticCurvePrivateKey, ...],
        overrides: tuple[CertOverrides, ...],
    ) -> NitroPki:
        regional_key, zonal_key, instance_key = keys
        g_ov, z_ov, i_ov = overrides
        ca_usage = _key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True)
        crl = _CRL_BASE.format(region=region)
        regional_cert = _build(
            subject=_aws(f"{secrets.token_hex(8)}.{region}.aws.nitro-enclaves"),
            issuer=root_cert.subject,
            public_key=regional_key.public_key(),
            signing_key=root_key,
            not_before=at - timedelta(days=3),
            not_after=at + timedelta(days=17),
            basic_constraints=x509.BasicConstraints(ca=True, path_length=2),
            key_usage=ca_usage,
            key_usage_critical=True,
            ski=True,
            aki_key=root_key.public_key(),
            crl_url=crl + "regional.crl",
            ov=g_ov,
        )
        zonal_cert = _build(
            subject=_aws(f"{secrets.token_hex(8)}.zonal.{region}.aws.nitro-enclaves", zonal=True),
            issuer=regional_cert.subject,
            public_key=zonal_key.public_key(),
            signing_key=regional_key,
            not_before=at - timedelta(hours=12),
            not_after=at + timedelta(days=5, hours=12),
            basic_constraints=x509.BasicConstraints(ca=True, path_length=1),
            key_usage=ca_usage,
            key_usage_critical=True,
            ski=True,
            aki_key=regional_key.public_key(),
            crl_url=crl + "zonal.crl",
            ov=z_ov,
        )
        instance_cert = _build(
            subject=_aws(f"{instance_id}.{region}.aws.nitro-enclaves", seattle=True),
            issuer=zonal_cert.subject,
            public_key=instance_key.public_key(),
            signing_key=zonal_key,
            not_before=at - timedelta(hours=2),
            not_after=at + timedelta(hours=22),
            basic_constraints=x509.BasicConstraints(ca=True, path_length=0),
            key_usage=_key_usage(key_cert_sign=True),
            key_usage_critical=True,
            ski=False,
            aki_key=None,
            crl_url=None,
            ov=i_ov,
        )
        return cls(
            region=region,
            instance_id=instance_id,
            root_key=root_key,
            root=root_cert,
            regional_key=regional_key,
            regional=regional_cert,
            zonal_key=zonal_key,
            zonal=zonal_cert,
            instance_key=instance_key,
            instance=instance_cert,
        )

    def renewed(self, *, at: datetime) -> NitroPki:
        """The same root with fresh regional, zonal and instance CAs valid around ``at`` (AWS
        rotates them; a long-running mock enclave renews them the same way)."""
        none = CertOverrides()
        return NitroPki._under_root(
            self.root_key,
            self.root,
            at=at,
            region=self.region,
            instance_id=self.instance_id,
            keys=(_key(none), _key(none), _key(none)),
            overrides=(none, none, none),
        )

    def trust_store(self, base: TrustStore | None = None, *, partition: str = "aws") -> TrustStore:
        """A trust store in which this root is the pinned Nitro root of ``partition``."""
        store = base if base is not None else TrustStore.empty()
        return store.with_anchor(
            f"{partition}.nitro.root", [self.root], source="teeclient.testing generated Nitro PKI"
        )

    @property
    def cabundle(self) -> tuple[bytes, ...]:
        """The CA bundle as an NSM puts it in a document: DER, root first."""
        return tuple(c.public_bytes(Encoding.DER) for c in self.certificates)

    @property
    def certificates(self) -> tuple[x509.Certificate, ...]:
        """Root, regional, zonal, instance."""
        return (self.root, self.regional, self.zonal, self.instance)

    def issue_leaf(
        self,
        *,
        not_before: datetime,
        validity: timedelta = LEAF_VALIDITY,
        module_id: str | None = None,
        overrides: CertOverrides | None = None,
    ) -> IssuedLeaf:
        """An enclave signing certificate (``CN=<module_id>.<region>.aws``) by the instance CA."""
        ov = overrides or CertOverrides()
        key = _key(ov)
        module = module_id or f"{self.instance_id}-enc{secrets.token_hex(8)}"
        cert = _build(
            subject=leaf_name(module, self.region),
            issuer=self.instance.subject,
            public_key=key.public_key(),
            signing_key=self.instance_key,
            not_before=not_before,
            not_after=not_before + validity,
            basic_constraints=x509.BasicConstraints(ca=False, path_length=None),
            key_usage=_key_usage(digital_signature=True, content_commitment=True),
            key_usage_critical=False,
            ski=False,
            aki_key=None,
            crl_url=None,
            ov=ov,
        )
        return IssuedLeaf(key=key, cert=cert, module_id=module)

    def replace(self, **changes: object) -> NitroPki:
        """A copy with some members replaced (e.g. a foreign intermediate)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def bundle_with(self, certificates: Sequence[x509.Certificate]) -> tuple[bytes, ...]:
        """DER encodings of ``certificates`` (to build a reordered or truncated cabundle)."""
        return tuple(c.public_bytes(Encoding.DER) for c in certificates)
