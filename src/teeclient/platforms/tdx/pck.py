"""Intel PCK certificate SGX extensions (OID 1.2.840.113741.1.13.1; specs/tdx.md §2.1).

Pure decoding: the extension's DER is read strictly (each member once, the right DER type and
range) into ``PckExtensions``. Which values are acceptable is decided in ``verify``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cryptography import x509

from teeclient._der import read_integer, read_single, read_tlv
from teeclient.errors import ChainExtensionError, ParseError

__all__ = ["SGX_EXTENSION_OID", "PckExtensions", "decode_oid", "parse_pck_extensions"]

PLATFORM = "tdx"
SGX_EXTENSION_OID = "1.2.840.113741.1.13.1"
_TAG_BOOLEAN = 0x01
_TAG_INTEGER = 0x02
_TAG_OCTET_STRING = 0x04
_TAG_OID = 0x06
_TAG_ENUMERATED = 0x0A
_TAG_SEQUENCE = 0x30
_SGX_TYPES = {0: "Standard", 1: "Scalable", 2: "ScalableWithIntegrity"}
_CONFIG_NAMES = {"1": "dynamic_platform", "2": "cached_keys", "3": "smt_enabled"}


def decode_oid(value: bytes, *, field: str) -> str:
    """Decode the content octets of a DER OBJECT IDENTIFIER to dotted form.

    Raises:
        ParseError: empty, truncated or non-minimal sub-identifiers.
    """
    if not value or value[-1] & 0x80:
        raise ParseError("invalid OBJECT IDENTIFIER", platform=PLATFORM, field=field)
    arcs: list[int] = []
    current = 0
    for index, byte in enumerate(value):
        if current == 0 and byte == 0x80:
            raise ParseError(
                "non-minimal OBJECT IDENTIFIER", platform=PLATFORM, field=field, offset=index
            )
        current = current << 7 | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(current)
            current = 0
        if current > 1 << 64:
            raise ParseError("OBJECT IDENTIFIER arc too large", platform=PLATFORM, field=field)
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])


def _members(data: bytes, field: str) -> list[tuple[str, int, bytes]]:
    """Decode ``SEQUENCE OF SEQUENCE { OID, value }`` into (oid, value tag, value TLV bytes)."""
    seq = read_single(data, _TAG_SEQUENCE, field=field, platform=PLATFORM)
    out: list[tuple[str, int, bytes]] = []
    pos = 0
    seen: set[str] = set()
    while pos < len(seq):
        tag, item, nxt = read_tlv(seq, pos, field=field, platform=PLATFORM)
        if tag != _TAG_SEQUENCE:
            raise ParseError(
                "SGX extension member is not a SEQUENCE", platform=PLATFORM, field=field, offset=pos
            )
        oid_tag, oid_value, after_oid = read_tlv(item, 0, field=field, platform=PLATFORM)
        if oid_tag != _TAG_OID:
            raise ParseError(
                "SGX extension member does not start with an OID",
                platform=PLATFORM,
                field=field,
                offset=pos,
            )
        oid = decode_oid(oid_value, field=field)
        value_tag, _, end = read_tlv(item, after_oid, field=f"{field}:{oid}", platform=PLATFORM)
        if end != len(item):
            raise ParseError(
                "trailing bytes in SGX extension member", platform=PLATFORM, field=f"{field}:{oid}"
            )
        if oid in seen:
            raise ParseError(
                "duplicate SGX extension member", platform=PLATFORM, field=f"{field}:{oid}"
            )
        seen.add(oid)
        out.append((oid, value_tag, item[after_oid:end]))
        pos = nxt
    return out


def _octets(tlv: bytes, size: int, field: str) -> bytes:
    value = read_single(tlv, _TAG_OCTET_STRING, field=field, platform=PLATFORM)
    if len(value) != size:
        raise ParseError(
            "SGX extension value has the wrong length",
            platform=PLATFORM,
            field=field,
            expected=f"{size} bytes",
            actual=f"{len(value)} bytes",
        )
    return value


def _svn(tlv: bytes, field: str, maximum: int) -> int:
    number = read_integer(tlv, field=field, platform=PLATFORM)
    if number > maximum:
        raise ParseError(
            "SVN out of range",
            platform=PLATFORM,
            field=field,
            expected=f"0–{maximum}",
            actual=number,
        )
    return number


@dataclass(frozen=True, slots=True, kw_only=True)
class PckExtensions:
    """The decoded SGX extensions of a PCK certificate."""

    ppid: bytes
    sgx_tcb_components: tuple[int, ...]
    pce_svn: int
    cpu_svn: bytes
    pce_id: bytes
    fmspc: bytes
    sgx_type: int
    platform_instance_id: bytes | None
    configuration: Mapping[str, bool] | None

    def __post_init__(self) -> None:
        if len(self.sgx_tcb_components) != 16 or len(self.fmspc) != 6 or len(self.pce_id) != 2:
            raise ValueError("PCK extension sizes are fixed")

    def to_dict(self) -> dict[str, object]:
        """JSON form (lowercase hex)."""
        return {
            "fmspc": self.fmspc.hex(),
            "pceid": self.pce_id.hex(),
            "ppid": self.ppid.hex(),
            "sgx_tcb_comp_svns": list(self.sgx_tcb_components),
            "pcesvn": self.pce_svn,
            "cpusvn": self.cpu_svn.hex(),
            "sgx_type": self.sgx_type,
            "sgx_type_name": _SGX_TYPES.get(self.sgx_type, "unknown"),
            "platform_instance_id": self.platform_instance_id.hex()
            if self.platform_instance_id is not None
            else None,
            "configuration": dict(self.configuration) if self.configuration is not None else None,
        }


def _tcb(tlv: bytes, field: str) -> tuple[tuple[int, ...], int, bytes]:
    comps: dict[int, int] = {}
    pce_svn: int | None = None
    cpu_svn: bytes | None = None
    for oid, _, value in _members(tlv, field):
        suffix = oid.removeprefix(f"{SGX_EXTENSION_OID}.2.")
        if suffix == oid or not suffix.isdigit():
            continue
        index = int(suffix)
        if 1 <= index <= 16:
            comps[index - 1] = _svn(value, f"{field}.comp{index:02d}svn", 255)
        elif index == 17:
            pce_svn = _svn(value, f"{field}.pcesvn", 0xFFFF)
        elif index == 18:
            cpu_svn = _octets(value, 16, f"{field}.cpusvn")
    if len(comps) != 16 or pce_svn is None or cpu_svn is None:
        raise ParseError(
            "SGX TCB extension is incomplete",
            platform=PLATFORM,
            field=field,
            expected="16 component SVNs, PCESVN and CPUSVN",
            actual=f"{len(comps)} components, PCESVN "
            f"{'present' if pce_svn is not None else 'absent'}, CPUSVN "
            f"{'present' if cpu_svn is not None else 'absent'}",
        )
    return tuple(comps[i] for i in range(16)), pce_svn, cpu_svn


def _configuration(tlv: bytes, field: str) -> Mapping[str, bool]:
    out: dict[str, bool] = {}
    for oid, _, value in _members(tlv, field):
        name = _CONFIG_NAMES.get(oid.removeprefix(f"{SGX_EXTENSION_OID}.7."))
        if name is None:
            continue
        raw = read_single(value, _TAG_BOOLEAN, field=f"{field}.{name}", platform=PLATFORM)
        if raw not in (b"\x00", b"\xff"):
            raise ParseError("invalid DER BOOLEAN", platform=PLATFORM, field=f"{field}.{name}")
        out[name] = raw == b"\xff"
    return MappingProxyType(out)


def parse_pck_extensions(cert: x509.Certificate, *, role: str = "PCK") -> PckExtensions:
    """Decode the SGX extensions of a PCK leaf certificate.

    Raises:
        ChainExtensionError: the certificate has no SGX extension.
        ParseError: a member is missing, duplicated, of the wrong DER type or out of range.
    """
    field = f"{role}.sgxExtensions"
    try:
        ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(SGX_EXTENSION_OID))
    except x509.ExtensionNotFound as exc:
        raise ChainExtensionError(
            f"{role} certificate has no SGX extension",
            platform=PLATFORM,
            field=field,
            expected=SGX_EXTENSION_OID,
            actual="absent",
        ) from exc
    except (ValueError, x509.DuplicateExtension) as exc:
        raise ParseError(
            f"{role} certificate extensions cannot be parsed: {exc}", platform=PLATFORM, field=field
        ) from exc
    value = ext.value
    if not isinstance(value, x509.UnrecognizedExtension):  # pragma: no cover - defensive
        raise ParseError("SGX extension has an unexpected type", platform=PLATFORM, field=field)
    members = {oid: tlv for oid, _, tlv in _members(value.value, field)}

    def need(suffix: str) -> bytes:
        tlv = members.get(f"{SGX_EXTENSION_OID}.{suffix}")
        if tlv is None:
            raise ParseError(
                "SGX extension member missing",
                platform=PLATFORM,
                field=f"{field}:{SGX_EXTENSION_OID}.{suffix}",
                expected="present",
                actual="absent",
            )
        return tlv

    comps, pce_svn, cpu_svn = _tcb(need("2"), f"{field}.tcb")
    sgx_type_value = read_single(
        need("5"), _TAG_ENUMERATED, field=f"{field}.sgxType", platform=PLATFORM
    )
    if len(sgx_type_value) != 1:
        raise ParseError("SGX Type out of range", platform=PLATFORM, field=f"{field}.sgxType")
    instance = members.get(f"{SGX_EXTENSION_OID}.6")
    config = members.get(f"{SGX_EXTENSION_OID}.7")
    return PckExtensions(
        ppid=_octets(need("1"), 16, f"{field}.ppid"),
        sgx_tcb_components=comps,
        pce_svn=pce_svn,
        cpu_svn=cpu_svn,
        pce_id=_octets(need("3"), 2, f"{field}.pceId"),
        fmspc=_octets(need("4"), 6, f"{field}.fmspc"),
        sgx_type=sgx_type_value[0],
        platform_instance_id=_octets(instance, 16, f"{field}.platformInstanceId")
        if instance is not None
        else None,
        configuration=_configuration(config, f"{field}.configuration")
        if config is not None
        else None,
    )
