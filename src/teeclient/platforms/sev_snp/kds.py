"""AMD KDS rules: VCEK/VLEK X.509 extensions and KDS URLs (AMD pub. 57230; sev-snp.md §5.3, §7).

Pure functions only: building a URL or decoding an extension never touches the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import urlencode

from cryptography import x509

from teeclient._der import TAG_OCTET_STRING, read_ia5, read_integer, read_single
from teeclient.errors import ParseError
from teeclient.platforms.sev_snp.abi import Product, SigningKey, TcbVersion

__all__ = [
    "AMD_OID_ARC",
    "KDS_BASE_URL",
    "VekExtensions",
    "cert_chain_url",
    "crl_url",
    "parse_vek_extensions",
    "vcek_url",
]

PLATFORM = "sev-snp"
KDS_BASE_URL = "https://kdsintf.amd.com"
AMD_OID_ARC = "1.3.6.1.4.1.3704.1"

_OID_STRUCT_VERSION = f"{AMD_OID_ARC}.1"
_OID_PRODUCT_NAME = f"{AMD_OID_ARC}.2"
_OID_HWID = f"{AMD_OID_ARC}.4"
_OID_CSP_ID = f"{AMD_OID_ARC}.5"
_SPL_OIDS = {
    f"{AMD_OID_ARC}.3.1": "bl",
    f"{AMD_OID_ARC}.3.2": "tee",
    f"{AMD_OID_ARC}.3.3": "snp",
    f"{AMD_OID_ARC}.3.4": "spl4",
    f"{AMD_OID_ARC}.3.5": "spl5",
    f"{AMD_OID_ARC}.3.6": "spl6",
    f"{AMD_OID_ARC}.3.7": "spl7",
    f"{AMD_OID_ARC}.3.8": "ucode",
    f"{AMD_OID_ARC}.3.9": "fmc",
}
_HWID_LENGTHS = (64, 8)


@dataclass(frozen=True, slots=True, kw_only=True)
class VekExtensions:
    """The AMD extensions of a VCEK or VLEK certificate, decoded but not yet judged."""

    struct_version: int | None
    product_name: str | None
    spl: Mapping[str, int]
    hwid: bytes | None
    csp_id: str | None

    @property
    def product_line(self) -> str | None:
        """productName without its stepping suffix (``Milan-B0`` → ``Milan``)."""
        if self.product_name is None:
            return None
        return self.product_name.split("-", 1)[0]

    @property
    def stepping(self) -> str | None:
        """The stepping suffix of productName, if any (informative only; sev-snp.md §10.1)."""
        if self.product_name is None or "-" not in self.product_name:
            return None
        return self.product_name.split("-", 1)[1]

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "struct_version": self.struct_version,
            "product_name": self.product_name,
            "spl": dict(self.spl),
            "hwid": self.hwid.hex() if self.hwid is not None else None,
            "csp_id": self.csp_id,
        }


def _decode_hwid(value: bytes) -> bytes:
    if len(value) in _HWID_LENGTHS:
        return value
    inner = read_single(value, TAG_OCTET_STRING, field="vek.hwID", platform=PLATFORM)
    if len(inner) not in _HWID_LENGTHS:
        raise ParseError(
            "hwID has the wrong length",
            platform=PLATFORM,
            field="vek.hwID",
            expected="64 or 8 bytes",
            actual=f"{len(inner)} bytes",
        )
    return inner


def parse_vek_extensions(cert: x509.Certificate) -> VekExtensions:
    """Decode the AMD extensions of a VEK (raw or OCTET STRING hwID both accepted).

    Raises:
        ParseError: duplicate extensions, or an extension value of the wrong DER type or range.
    """
    try:
        extensions = cert.extensions
    except x509.DuplicateExtension as exc:
        raise ParseError(
            "certificate has a duplicate extension",
            platform=PLATFORM,
            field="vek.extensions",
            actual=exc.oid.dotted_string,
        ) from exc
    except ValueError as exc:
        raise ParseError(
            f"certificate extensions cannot be parsed: {exc}",
            platform=PLATFORM,
            field="vek.extensions",
        ) from exc
    struct_version: int | None = None
    product_name: str | None = None
    hwid: bytes | None = None
    csp_id: str | None = None
    spl: dict[str, int] = {}
    for ext in extensions:
        oid = ext.oid.dotted_string
        if not oid.startswith(AMD_OID_ARC + "."):
            continue
        value = ext.value
        if not isinstance(value, x509.UnrecognizedExtension):  # pragma: no cover - defensive
            continue
        raw = value.value
        if oid == _OID_STRUCT_VERSION:
            struct_version = read_integer(raw, field="vek.structVersion", platform=PLATFORM)
        elif oid == _OID_PRODUCT_NAME:
            product_name = read_ia5(raw, field="vek.productName", platform=PLATFORM)
        elif oid == _OID_HWID:
            hwid = _decode_hwid(raw)
        elif oid == _OID_CSP_ID:
            csp_id = read_ia5(raw, field="vek.cspID", platform=PLATFORM)
        elif oid in _SPL_OIDS:
            name = _SPL_OIDS[oid]
            number = read_integer(raw, field=f"vek.{name}SPL", platform=PLATFORM)
            if number > 255:
                raise ParseError(
                    "SPL out of range",
                    platform=PLATFORM,
                    field=f"vek.{name}SPL",
                    expected="0–255",
                    actual=number,
                )
            spl[name] = number
    return VekExtensions(
        struct_version=struct_version,
        product_name=product_name,
        spl=MappingProxyType(spl),
        hwid=hwid,
        csp_id=csp_id,
    )


def vcek_url(
    product: Product, chip_id: bytes, reported_tcb: TcbVersion, *, base: str = KDS_BASE_URL
) -> str:
    """The KDS URL of the VCEK for (product, chip, REPORTED_TCB) (sev-snp.md §7).

    Turin uses the first 8 bytes of CHIP_ID and adds fmcSPL.
    """
    hwid = chip_id[:8] if product is Product.TURIN else chip_id
    query: dict[str, int] = {}
    if product is Product.TURIN and reported_tcb.fmc is not None:
        query["fmcSPL"] = reported_tcb.fmc
    query.update(
        blSPL=reported_tcb.bl,
        teeSPL=reported_tcb.tee,
        snpSPL=reported_tcb.snp,
        ucodeSPL=reported_tcb.ucode,
    )
    return f"{base.rstrip('/')}/vcek/v1/{product.kds_name}/{hwid.hex()}?{urlencode(query)}"


def _key_path(kind: SigningKey) -> str:
    if kind is SigningKey.VCEK:
        return "vcek"
    if kind is SigningKey.VLEK:
        return "vlek"
    raise ValueError(f"no KDS path for signing key {kind}")


def cert_chain_url(product: Product, kind: SigningKey, *, base: str = KDS_BASE_URL) -> str:
    """The KDS URL of the (ASK or ASVK) + ARK chain."""
    return f"{base.rstrip('/')}/{_key_path(kind)}/v1/{product.kds_name}/cert_chain"


def crl_url(product: Product, kind: SigningKey, *, base: str = KDS_BASE_URL) -> str:
    """The KDS URL of the ARK-signed CRL for the VCEK or VLEK path."""
    return f"{base.rstrip('/')}/{_key_path(kind)}/v1/{product.kds_name}/crl"
