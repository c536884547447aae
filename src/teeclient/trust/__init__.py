"""Pinned vendor roots of trust, and the TrustStore that is the only way to change them.

``TrustStore.vendor()`` loads the roots shipped as package data and checks each one against
the SHA-256 fingerprint pinned in this module. A caller may build a store with other anchors
(for example a generated test PKI) through ``with_anchor`` / ``with_added_anchor``, or from a
trust file whose path it passes explicitly (``with_trust_file``, ``teeclient.trust.file``);
nothing else, no environment variable, default file or policy key, changes what is trusted.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from cryptography import x509

from teeclient._data import package_data
from teeclient._x509 import ParseCache, SignatureMemo, der, fingerprint, load_certificates
from teeclient.errors import ChainUntrustedError, ConfigError

__all__ = [
    "AMD_PRODUCTS",
    "INTEL_SGX_ROOT",
    "VENDOR_FINGERPRINTS",
    "AnchorCert",
    "TrustAnchor",
    "TrustStore",
]

AMD_PRODUCTS = ("milan", "genoa", "turin")

#: Anchor name of the Intel SGX Root CA (signs the PCK CAs and the TCB Signing certificate).
INTEL_SGX_ROOT = "intel.sgx.root"

#: Anchor name -> SHA-256 (DER) of every certificate the vendor store pins under that name.
#: specs/sev-snp.md §5.2; the same bytes are embedded in go-sev-guest, virtee, oak, trustee.
VENDOR_FINGERPRINTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "amd.milan.ark": ("69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",),
        "amd.milan.ask": ("67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b",),
        "amd.milan.asvk": ("c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5",),
        "amd.genoa.ark": ("4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",),
        "amd.genoa.ask": ("5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521",),
        "amd.genoa.asvk": ("197e610743a917d6b9bb982a5a9226ccc0a15b611be0619e626aca9151457372",),
        "amd.turin.ark": ("1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",),
        "amd.turin.ask": ("5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185",),
        "amd.turin.asvk": ("104e10a8bd060a3c20a434261a57d0588fd65a88915b4f65b08bdecaf8df1a3c",),
        # specs/nvidia-gpu.md §3.2 (device identity) and §5.4 (RIM signing); sets by design.
        "nvidia.device.root": ("102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48",),
        "nvidia.corim.root": ("12977b5115acb0381179279fffeb5a8c4d264971ebb32298023a465fa41df5d1",),
        # specs/tdx.md §2: Intel SGX Root CA, 2018-05-21 .. 2049-12-31.
        INTEL_SGX_ROOT: ("44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3",),
        # AWS Nitro Enclaves Root-G1 (specs/nitro.md §3.1); the zip AWS publishes it in has
        # SHA-256 8cf60e2b2efca96c6a9e71e851d00c1b6991cc09eadbe64a6a1d1b1eb9faff7c.
        "aws.nitro.root": ("641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b",),
    }
)


@dataclass(frozen=True, slots=True)
class _Shipped:
    """A package-data file of roots: its path under data/, source URL, and the anchor name of
    each certificate in file order."""

    path: str
    url: str
    names: tuple[str, ...]


# Every file of vendor roots shipped in teeclient/trust/data (provenance: data/*/SOURCES.md).
_SHIPPED: tuple[_Shipped, ...] = (
    *(
        _Shipped(
            f"amd/{product}_{kind}_ark.pem",
            f"https://kdsintf.amd.com/{'vcek' if kind == 'ask' else 'vlek'}/v1/"
            f"{product.capitalize()}/cert_chain",
            (f"amd.{product}.{kind}", f"amd.{product}.ark"),
        )
        for product in AMD_PRODUCTS
        for kind in ("ask", "asvk")
    ),
    _Shipped(
        "nvidia/nvidia_device_identity_ca.pem",
        "https://docs.ndis.nvidia.com/certs/identity-root/",
        ("nvidia.device.root",),
    ),
    _Shipped(
        "nvidia/nvidia_corim_signing_root_ca.pem",
        "NVIDIA nv-local-gpu-verifier 2.7.3 verifier/certs/verifier_RIM_root.pem",
        ("nvidia.corim.root",),
    ),
    _Shipped(
        "intel/intel_sgx_root_ca.pem",
        "https://certificates.trustedservices.intel.com/"
        "Intel_SGX_Provisioning_Certification_RootCA.pem",
        (INTEL_SGX_ROOT,),
    ),
    _Shipped(
        "aws/aws_nitro_enclaves_root_g1.pem",
        "https://aws-nitro-enclaves.amazonaws.com/AWS_NitroEnclaves_Root-G1.zip",
        ("aws.nitro.root",),
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustAnchor:
    """A named set of trusted certificates, with where they came from."""

    name: str
    certificates: tuple[x509.Certificate, ...]
    source: str
    ders: tuple[bytes, ...] = field(init=False, repr=False, compare=False)
    digests: tuple[bytes, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.certificates:
            raise ValueError(f"trust anchor {self.name!r} has no certificates")
        ders = tuple(der(c) for c in self.certificates)
        object.__setattr__(self, "ders", ders)
        object.__setattr__(self, "digests", tuple(hashlib.sha256(d).digest() for d in ders))

    @property
    def fingerprints(self) -> tuple[str, ...]:
        """SHA-256 (DER) of each certificate, lowercase hex."""
        return tuple(d.hex() for d in self.digests)

    def contains(self, cert: x509.Certificate) -> bool:
        """True if ``cert`` is byte-identical to one of this anchor's certificates."""
        return der(cert) in self.ders


@dataclass(frozen=True, slots=True)
class AnchorCert:
    """One trusted certificate with its anchor name, DER bytes and SHA-256 digest."""

    anchor: str
    cert: x509.Certificate
    der: bytes
    digest: bytes


@dataclass(frozen=True, slots=True, eq=False)
class TrustStore:
    """An immutable mapping of anchor names to trusted certificates.

    Anchor names are ``<vendor>.<scope>.<role>`` (``amd.genoa.ark``, ``amd.genoa.asvk``;
    AWS Nitro roots are ``<partition>.nitro.root``, e.g. ``aws.nitro.root``).
    Build the shipped set with ``TrustStore.vendor()``; derive other stores explicitly.
    The store also memoises certificate signatures it has verified (by content hash) and
    collateral it has parsed (``parsed``, by content hash), so reusing one store makes repeated
    verifications cheaper without changing their result.
    """

    _anchors: Mapping[str, TrustAnchor]
    memo: SignatureMemo = field(default_factory=SignatureMemo, compare=False)
    _by_subject: dict[bytes, tuple[AnchorCert, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )
    parsed: ParseCache = field(default_factory=ParseCache, compare=False)

    @classmethod
    def vendor(cls) -> TrustStore:
        """The vendor roots shipped with teeclient, each checked against its pinned fingerprint.

        Raises:
            ConfigError: the package data does not match the pinned fingerprints.
        """
        collected: dict[str, list[tuple[x509.Certificate, str]]] = {}
        for shipped in _SHIPPED:
            data = package_data("teeclient.trust", __file__, "data", *shipped.path.split("/"))
            certs = load_certificates(data, role=shipped.path, platform="trust")
            if len(certs) != len(shipped.names):
                raise ConfigError(
                    "shipped root file has the wrong number of certificates",
                    field=shipped.path,
                    expected=len(shipped.names),
                    actual=len(certs),
                )
            for name, cert in zip(shipped.names, certs, strict=True):
                collected.setdefault(name, []).append((cert, shipped.url))
        anchors: dict[str, TrustAnchor] = {}
        for name, entries in collected.items():
            unique: dict[str, tuple[x509.Certificate, str]] = {}
            for cert, url in entries:
                unique.setdefault(fingerprint(cert), (cert, url))
            pinned = VENDOR_FINGERPRINTS[name]
            if tuple(sorted(unique)) != tuple(sorted(pinned)):
                raise ConfigError(
                    "shipped root does not match its pinned fingerprint",
                    field=name,
                    expected=", ".join(pinned),
                    actual=", ".join(sorted(unique)),
                )
            anchors[name] = TrustAnchor(
                name=name,
                certificates=tuple(unique[fp][0] for fp in pinned),
                source=unique[pinned[0]][1],
            )
        return cls(MappingProxyType(dict(sorted(anchors.items()))))

    @classmethod
    def default(cls) -> TrustStore:
        """The vendor store, built once per process and shared (its anchors are immutable;
        its memo only holds results that depend on certificate content)."""
        return _default_store()

    @classmethod
    def empty(cls) -> TrustStore:
        """A store that trusts nothing (build test stores from it)."""
        return cls(MappingProxyType({}))

    def __iter__(self) -> Iterator[TrustAnchor]:
        return iter(self._anchors.values())

    def __len__(self) -> int:
        return len(self._anchors)

    def by_subject(self, subject_der: bytes) -> tuple[AnchorCert, ...]:
        """Trusted certificates whose subject name has this DER encoding (indexed once)."""
        index = self._by_subject
        if not index:
            built: dict[bytes, list[AnchorCert]] = {}
            for anchor in self._anchors.values():
                for cert, encoded, digest in zip(
                    anchor.certificates, anchor.ders, anchor.digests, strict=True
                ):
                    key = cert.subject.public_bytes()
                    built.setdefault(key, []).append(AnchorCert(anchor.name, cert, encoded, digest))
            index.update({k: tuple(v) for k, v in built.items()})
            index.setdefault(b"", ())
        return index.get(subject_der, ())

    def names(self) -> tuple[str, ...]:
        """All anchor names, sorted."""
        return tuple(self._anchors)

    def get(self, name: str) -> TrustAnchor | None:
        """The anchor called ``name``, or None."""
        return self._anchors.get(name)

    def require(self, name: str, *, platform: str) -> TrustAnchor:
        """The anchor called ``name``.

        Raises:
            ChainUntrustedError: the store has no such anchor.
        """
        anchor = self._anchors.get(name)
        if anchor is None:
            raise ChainUntrustedError(
                "no trusted root configured for this evidence",
                platform=platform,
                field=name,
                expected="a pinned anchor",
                actual="none in the trust store",
            )
        return anchor

    def with_anchor(
        self, name: str, certificates: Iterable[x509.Certificate], *, source: str
    ) -> TrustStore:
        """A new store in which ``name`` trusts exactly ``certificates`` (replacing any)."""
        anchors = dict(self._anchors)
        anchors[name] = TrustAnchor(name=name, certificates=tuple(certificates), source=source)
        return TrustStore(MappingProxyType(dict(sorted(anchors.items()))))

    def with_added_anchor(
        self, name: str, certificates: Iterable[x509.Certificate], *, source: str
    ) -> TrustStore:
        """A new store in which ``name`` also trusts ``certificates`` (a second root, say)."""
        current = self._anchors.get(name)
        existing = current.certificates if current is not None else ()
        seen = {hashlib.sha256(der(c)).digest() for c in existing}
        merged = list(existing)
        for cert in certificates:
            digest = hashlib.sha256(der(cert)).digest()
            if digest not in seen:
                seen.add(digest)
                merged.append(cert)
        src = source if current is None else f"{current.source}; {source}"
        return self.with_anchor(name, merged, source=src)

    def with_trust_file(self, path: str | Path) -> TrustStore:
        """A new store with the anchors of the trust file at ``path`` (teeclient.trust/v1):
        each replaces the anchor of the same name, or joins it when the file says
        ``mode = "add"``.

        Raises:
            TrustFileError: the file is unreadable or invalid.
        """
        from teeclient.trust.file import load_trust_file

        loaded = load_trust_file(path)
        store = self
        for anchor in loaded.anchors:
            if loaded.mode == "add":
                store = store.with_added_anchor(
                    anchor.name, anchor.certificates, source=anchor.source
                )
            else:
                store = store.with_anchor(anchor.name, anchor.certificates, source=anchor.source)
        return store

    def without(self, name: str) -> TrustStore:
        """A new store without the anchor ``name``."""
        anchors = {k: v for k, v in self._anchors.items() if k != name}
        return TrustStore(MappingProxyType(anchors))

    def describe(self) -> list[dict[str, object]]:
        """Each anchor's name, source, subjects and fingerprints (for `inspect` and docs)."""
        return [
            {
                "name": a.name,
                "source": a.source,
                "subjects": [c.subject.rfc4514_string() for c in a.certificates],
                "sha256": list(a.fingerprints),
            }
            for a in self._anchors.values()
        ]


@functools.cache
def _default_store() -> TrustStore:
    return TrustStore.vendor()
