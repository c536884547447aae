"""Intel TDX DCAP quote bytes ↔ frozen structures (specs/tdx.md §1); structure checks only.

``parse_quote`` reads a version 4 or 5 ECDSA quote strictly by its declared lengths: the
header, the TD report body (TD Report 1.0 or 1.5), the signature data, the QE report
certification data (type 6) and the PCK certificate chain it carries (type 5, exactly three
PEM certificates). Every nested length must fill its container exactly; bytes after the
signature data are trailing bytes, counted and never parsed or hashed (§1.6). Nothing here
verifies a signature, looks at a certificate's content, or applies policy.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
from dataclasses import dataclass

from teeclient._binary import Reader
from teeclient.errors import ParseError, UnsupportedFormatError

__all__ = [
    "BODY_SIZES",
    "HEADER_SIZE",
    "INTEL_QE_VENDOR_ID",
    "MAX_QUOTE_BYTES",
    "TEE_TYPE_TDX",
    "BodyType",
    "EnclaveReport",
    "Quote",
    "QuoteHeader",
    "TdAttributes",
    "TdReport",
    "parse_enclave_report",
    "parse_quote",
    "split_pem_chain",
]

PLATFORM = "tdx"
HEADER_SIZE = 48
TEE_TYPE_TDX = 0x81
TEE_TYPE_SGX = 0x00
ATT_KEY_ECDSA_P256 = 2
ATT_KEY_ECDSA_P384 = 3
INTEL_QE_VENDOR_ID = bytes.fromhex("939a7233f79c4ca9940a0db3957f0607")
CERT_DATA_QE_REPORT = 6
CERT_DATA_PCK_CHAIN = 5
ENCLAVE_REPORT_SIZE = 384
MAX_QUOTE_BYTES = 1 << 20
_SIG_FIXED = 64 + 64 + 2 + 4
_QE_FIXED = ENCLAVE_REPORT_SIZE + 64 + 2
_MAX_PEM_CHAIN = 64 * 1024


class BodyType(enum.IntEnum):
    """Quote v5 body descriptor types (QuoteConstants.h); TDX accepts 2 and 3."""

    SGX_ENCLAVE_REPORT = 1
    TD_REPORT_10 = 2
    TD_REPORT_15 = 3


BODY_SIZES = {
    BodyType.SGX_ENCLAVE_REPORT: 384,
    BodyType.TD_REPORT_10: 584,
    BodyType.TD_REPORT_15: 648,
}

# TDATTRIBUTES bits (specs/tdx.md §6): name -> bit.
TD_ATTRIBUTE_BITS = {"debug": 0, "sept_ve_disable": 28, "pks": 30, "kl": 31, "perfmon": 63}
_KNOWN_TD_ATTRIBUTE_MASK = sum(1 << b for b in TD_ATTRIBUTE_BITS.values())


@dataclass(frozen=True, slots=True, kw_only=True)
class TdAttributes:
    """TDATTRIBUTES decoded (u64 little-endian); ``reserved_bits`` are set bits outside the
    TD 1.0 layout's named ones (TUD 1–7, SEC 8–27 and 29, OTHER 32–62)."""

    raw: bytes
    value: int
    debug: bool
    sept_ve_disable: bool
    pks: bool
    kl: bool
    perfmon: bool
    reserved_bits: int

    @classmethod
    def decode(cls, raw: bytes) -> TdAttributes:
        """Decode the 8 TDATTRIBUTES bytes."""
        if len(raw) != 8:
            raise ValueError("TDATTRIBUTES is 8 bytes")
        value = int.from_bytes(raw, "little")
        flags = {name: bool(value >> bit & 1) for name, bit in TD_ATTRIBUTE_BITS.items()}
        return cls(
            raw=bytes(raw), value=value, reserved_bits=value & ~_KNOWN_TD_ATTRIBUTE_MASK, **flags
        )

    def flags(self) -> dict[str, bool]:
        """Each named bit and its value."""
        return {name: getattr(self, name) for name in TD_ATTRIBUTE_BITS}

    def to_dict(self) -> dict[str, object]:
        """JSON form: the bytes as in the quote, the u64 value, the flags, reserved bits."""
        return {
            "hex": self.raw.hex(),
            "value": f"{self.value:#018x}",
            **self.flags(),
            "reserved_bits": f"{self.reserved_bits:#x}",
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteHeader:
    """The 48-byte quote header (specs/tdx.md §1.1)."""

    raw: bytes
    version: int
    att_key_type: int
    tee_type: int
    reserved_qe_svn: int
    reserved_pce_svn: int
    qe_vendor_id: bytes
    user_data: bytes

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "version": self.version,
            "att_key_type": self.att_key_type,
            "tee_type": f"{self.tee_type:#x}",
            "qe_svn_or_reserved": self.reserved_qe_svn,
            "pce_svn_or_reserved": self.reserved_pce_svn,
            "qe_vendor_id": self.qe_vendor_id.hex(),
            "qe_vendor_is_intel": self.qe_vendor_id == INTEL_QE_VENDOR_ID,
            "user_data": self.user_data.hex(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class TdReport:
    """A TD report body: TD Report 1.0 (584 bytes) or 1.5 (648 bytes) (specs/tdx.md §1.2)."""

    raw: bytes
    body_type: BodyType
    tee_tcb_svn: bytes
    mr_seam: bytes
    mr_signer_seam: bytes
    seam_attributes: bytes
    td_attributes: TdAttributes
    xfam: bytes
    mr_td: bytes
    mr_config_id: bytes
    mr_owner: bytes
    mr_owner_config: bytes
    rtmrs: tuple[bytes, bytes, bytes, bytes]
    report_data: bytes
    tee_tcb_svn2: bytes | None
    mr_service_td: bytes | None

    def __post_init__(self) -> None:
        if len(self.raw) != BODY_SIZES[self.body_type]:
            raise ValueError("TD report size does not match its body type")
        if len(self.mr_td) != 48 or len(self.report_data) != 64 or len(self.tee_tcb_svn) != 16:
            raise ValueError("TD report field sizes are fixed")

    @property
    def is_td15(self) -> bool:
        """True for TD Report 1.5 (carries TEE_TCB_SVN2 and MRSERVICETD)."""
        return self.body_type is BodyType.TD_REPORT_15

    @property
    def xfam_value(self) -> int:
        """XFAM as a u64 (little-endian)."""
        return int.from_bytes(self.xfam, "little")

    def to_dict(self) -> dict[str, object]:
        """JSON form (lowercase hex)."""
        out: dict[str, object] = {
            "body_type": int(self.body_type),
            "tee_tcb_svn": self.tee_tcb_svn.hex(),
            "mrseam": self.mr_seam.hex(),
            "mrsignerseam": self.mr_signer_seam.hex(),
            "seam_attributes": self.seam_attributes.hex(),
            "td_attributes": self.td_attributes.to_dict(),
            "xfam": self.xfam.hex(),
            "mrtd": self.mr_td.hex(),
            "mrconfigid": self.mr_config_id.hex(),
            "mrowner": self.mr_owner.hex(),
            "mrownerconfig": self.mr_owner_config.hex(),
            **{f"rtmr{i}": r.hex() for i, r in enumerate(self.rtmrs)},
            "report_data": self.report_data.hex(),
        }
        if self.is_td15:
            assert self.tee_tcb_svn2 is not None
            assert self.mr_service_td is not None
            out["tee_tcb_svn2"] = self.tee_tcb_svn2.hex()
            out["mrservicetd"] = self.mr_service_td.hex()
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class EnclaveReport:
    """An SGX REPORTBODY (384 bytes), here the Quoting Enclave's report (specs/tdx.md §1.5)."""

    raw: bytes
    cpu_svn: bytes
    misc_select: int
    attributes: bytes
    mr_enclave: bytes
    mr_signer: bytes
    isv_prod_id: int
    isv_svn: int
    report_data: bytes

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "cpusvn": self.cpu_svn.hex(),
            "miscselect": self.misc_select,
            "attributes": self.attributes.hex(),
            "mrenclave": self.mr_enclave.hex(),
            "mrsigner": self.mr_signer.hex(),
            "isvprodid": self.isv_prod_id,
            "isvsvn": self.isv_svn,
            "report_data": self.report_data.hex(),
        }


def parse_enclave_report(data: bytes, *, field: str = "qe_report") -> EnclaveReport:
    """Parse a 384-byte SGX REPORTBODY (reserved ranges are not interpreted).

    Raises:
        ParseError: not exactly 384 bytes.
    """
    if len(data) != ENCLAVE_REPORT_SIZE:
        raise ParseError(
            "an SGX report body is 384 bytes",
            platform=PLATFORM,
            field=field,
            expected="384 bytes",
            actual=f"{len(data)} bytes",
        )
    r = Reader(bytes(data), platform=PLATFORM, structure="QE report")
    return EnclaveReport(
        raw=bytes(data),
        cpu_svn=r.bytes(0, 16, f"{field}.CPUSVN"),
        misc_select=r.u32(16, f"{field}.MISCSELECT"),
        attributes=r.bytes(48, 16, f"{field}.ATTRIBUTES"),
        mr_enclave=r.bytes(64, 32, f"{field}.MRENCLAVE"),
        mr_signer=r.bytes(128, 32, f"{field}.MRSIGNER"),
        isv_prod_id=r.u16(256, f"{field}.ISVPRODID"),
        isv_svn=r.u16(258, f"{field}.ISVSVN"),
        report_data=r.bytes(320, 64, f"{field}.REPORTDATA"),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    """A parsed TDX quote: decoded fields next to the exact bytes each signature covers."""

    raw: bytes
    header: QuoteHeader
    body: TdReport
    body_offset: int
    signed_size: int
    signature_data_size: int
    signature: bytes
    attestation_key: bytes
    certification_data_type: int
    qe_report: EnclaveReport
    qe_report_signature: bytes
    qe_auth_data: bytes
    pck_chain_type: int
    pck_chain_pem: bytes
    pck_chain_der: tuple[bytes, ...]
    trailing_bytes: int

    @property
    def signed_bytes(self) -> bytes:
        """The bytes the quote signature covers: header (+ v5 descriptor) + body."""
        return self.raw[: self.signed_size]

    @property
    def version(self) -> int:
        """Quote version (4 or 5)."""
        return self.header.version

    @property
    def end(self) -> int:
        """Offset just after the signature data (where trailing bytes start)."""
        return len(self.raw) - self.trailing_bytes


_PEM_BLOCK = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END CERTIFICATE-----"
)


def split_pem_chain(
    pem: bytes, *, field: str = "pck_chain", count: int | None = 3
) -> tuple[bytes, ...]:
    """Split a PEM certificate chain into DER blocks, strictly (trailing NULs tolerated, §1.4).

    Only whitespace may separate blocks; the base64 must be canonical.

    Raises:
        ParseError: stray bytes, bad base64, or not exactly ``count`` certificates.
    """
    text = pem.rstrip(b"\x00")
    if len(text) > _MAX_PEM_CHAIN:
        raise ParseError(
            "PEM certificate chain too large",
            platform=PLATFORM,
            field=field,
            expected=f"<= {_MAX_PEM_CHAIN} bytes",
            actual=f"{len(text)} bytes",
        )
    blocks: list[bytes] = []
    pos = 0
    for match in _PEM_BLOCK.finditer(text):
        if text[pos : match.start()].strip():
            break
        body = re.sub(rb"\s+", b"", match.group(1))
        try:
            der = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ParseError(
                "PEM certificate block is not valid base64",
                platform=PLATFORM,
                field=f"{field}[{len(blocks)}]",
            ) from exc
        if base64.b64encode(der) != body:
            raise ParseError(
                "PEM certificate block is not canonical base64",
                platform=PLATFORM,
                field=f"{field}[{len(blocks)}]",
            )
        blocks.append(der)
        pos = match.end()
    if text[pos:].strip() or (count is not None and len(blocks) != count):
        raise ParseError(
            "incomplete or malformed PCK certificate chain",
            platform=PLATFORM,
            field=field,
            expected=f"{count} PEM certificates (leaf, PCK CA, root)" if count else "PEM",
            actual=f"{len(blocks)} certificate(s)"
            + (f", then {len(text) - pos} unexpected bytes" if text[pos:].strip() else ""),
        )
    return tuple(blocks)


def _unsupported(
    message: str, field: str, offset: int, expected: str, actual: object
) -> UnsupportedFormatError:
    return UnsupportedFormatError(
        message, platform=PLATFORM, field=field, offset=offset, expected=expected, actual=actual
    )


def _parse_header(r: Reader) -> QuoteHeader:
    version = r.u16(0, "header.version")
    if version not in (4, 5):
        raise _unsupported(
            "unsupported quote version", "header.version", 0, "4 or 5 (TDX ECDSA quotes)", version
        )
    key_type = r.u16(2, "header.att_key_type")
    if key_type != ATT_KEY_ECDSA_P256:
        raise _unsupported(
            "unsupported attestation key type",
            "header.att_key_type",
            2,
            "2 (ECDSA-256 with P-256)",
            key_type,
        )
    tee_type = r.u32(4, "header.tee_type")
    if tee_type != TEE_TYPE_TDX:
        what = "an SGX quote" if tee_type == TEE_TYPE_SGX else "an unknown TEE type"
        raise _unsupported(
            f"not a TDX quote ({what})", "header.tee_type", 4, "0x81 (TDX)", f"{tee_type:#x}"
        )
    return QuoteHeader(
        raw=r.bytes(0, HEADER_SIZE, "header"),
        version=version,
        att_key_type=key_type,
        tee_type=tee_type,
        reserved_qe_svn=r.u16(8, "header.reserved@8"),
        reserved_pce_svn=r.u16(10, "header.reserved@10"),
        qe_vendor_id=r.bytes(12, 16, "header.qe_vendor_id"),
        user_data=r.bytes(28, 20, "header.user_data"),
    )


def _parse_body(r: Reader, offset: int, body_type: BodyType) -> TdReport:
    size = BODY_SIZES[body_type]
    raw = r.bytes(offset, size, "body")
    b = Reader(raw, platform=PLATFORM, structure="TD report")
    td15 = body_type is BodyType.TD_REPORT_15
    return TdReport(
        raw=raw,
        body_type=body_type,
        tee_tcb_svn=b.bytes(0, 16, "body.TEE_TCB_SVN"),
        mr_seam=b.bytes(16, 48, "body.MRSEAM"),
        mr_signer_seam=b.bytes(64, 48, "body.MRSIGNERSEAM"),
        seam_attributes=b.bytes(112, 8, "body.SEAMATTRIBUTES"),
        td_attributes=TdAttributes.decode(b.bytes(120, 8, "body.TDATTRIBUTES")),
        xfam=b.bytes(128, 8, "body.XFAM"),
        mr_td=b.bytes(136, 48, "body.MRTD"),
        mr_config_id=b.bytes(184, 48, "body.MRCONFIGID"),
        mr_owner=b.bytes(232, 48, "body.MROWNER"),
        mr_owner_config=b.bytes(280, 48, "body.MROWNERCONFIG"),
        rtmrs=(
            b.bytes(328, 48, "body.RTMR0"),
            b.bytes(376, 48, "body.RTMR1"),
            b.bytes(424, 48, "body.RTMR2"),
            b.bytes(472, 48, "body.RTMR3"),
        ),
        report_data=b.bytes(520, 64, "body.REPORTDATA"),
        tee_tcb_svn2=b.bytes(584, 16, "body.TEE_TCB_SVN2") if td15 else None,
        mr_service_td=b.bytes(600, 48, "body.MRSERVICETD") if td15 else None,
    )


def _exact_fit(name: str, declared_end: int, container_end: int, offset: int) -> None:
    if declared_end != container_end:
        raise ParseError(
            f"{name} does not fill its container exactly",
            platform=PLATFORM,
            field=name,
            offset=offset,
            expected=f"ends at {container_end:#x}",
            actual=f"ends at {declared_end:#x}",
        )


def parse_quote(data: bytes) -> Quote:
    """Parse a TDX quote (version 4 or 5) by its declared lengths (specs/tdx.md §1, §7 steps 1–2).

    Raises:
        UnsupportedFormatError: version not 4/5, key type not 2, TEE not TDX, v5 body type
            not 2/3, certification data type not 6 (outer) / 5 (inner).
        ParseError: a declared size that does not fit, a nested structure that does not fill
            its container, a body size that contradicts its type, or a malformed PEM chain.
    """
    if len(data) > MAX_QUOTE_BYTES:
        raise ParseError(
            "quote too large",
            platform=PLATFORM,
            field="quote",
            expected=f"<= {MAX_QUOTE_BYTES} bytes",
            actual=f"{len(data)} bytes",
        )
    data = bytes(data)
    r = Reader(data, platform=PLATFORM, structure="TDX quote")
    header = _parse_header(r)
    if header.version == 4:
        body_type = BodyType.TD_REPORT_10
        body_offset = HEADER_SIZE
    else:
        raw_type = r.u16(HEADER_SIZE, "body_descriptor.type")
        body_size = r.u32(HEADER_SIZE + 2, "body_descriptor.size")
        if raw_type not in (BodyType.TD_REPORT_10, BodyType.TD_REPORT_15):
            raise _unsupported(
                "unsupported quote body type",
                "body_descriptor.type",
                HEADER_SIZE,
                "2 (TD Report 1.0) or 3 (TD Report 1.5)",
                raw_type,
            )
        body_type = BodyType(raw_type)
        if body_size != BODY_SIZES[body_type]:
            raise ParseError(
                "body size contradicts the body type",
                platform=PLATFORM,
                field="body_descriptor.size",
                offset=HEADER_SIZE + 2,
                expected=BODY_SIZES[body_type],
                actual=body_size,
            )
        body_offset = HEADER_SIZE + 6
    body = _parse_body(r, body_offset, body_type)
    signed_size = body_offset + BODY_SIZES[body_type]
    sig_size = r.u32(signed_size, "signature_data.size")
    sig_start = signed_size + 4
    sig_end = sig_start + sig_size
    if sig_end > len(data):
        raise ParseError(
            "signature data runs past the end of the quote",
            platform=PLATFORM,
            field="signature_data.size",
            offset=signed_size,
            expected=f"<= {len(data) - sig_start}",
            actual=sig_size,
        )
    s = Reader(data[:sig_end], platform=PLATFORM, structure="signature data")
    signature = s.bytes(sig_start, 64, "signature_data.quote_signature")
    att_key = s.bytes(sig_start + 64, 64, "signature_data.attestation_key")
    cert_type = s.u16(sig_start + 128, "certification_data.type")
    cert_size = s.u32(sig_start + 130, "certification_data.size")
    cert_start = sig_start + _SIG_FIXED
    if cert_type != CERT_DATA_QE_REPORT:
        raise _unsupported(
            "unsupported certification data type",
            "certification_data.type",
            sig_start + 128,
            "6 (QE report certification data)",
            cert_type,
        )
    _exact_fit("certification_data", cert_start + cert_size, sig_end, sig_start + 130)
    qe_report = parse_enclave_report(s.bytes(cert_start, ENCLAVE_REPORT_SIZE, "qe_report"))
    qe_sig = s.bytes(cert_start + ENCLAVE_REPORT_SIZE, 64, "qe_report_signature")
    auth_size = s.u16(cert_start + ENCLAVE_REPORT_SIZE + 64, "qe_auth_data.size")
    auth_start = cert_start + _QE_FIXED
    auth = s.bytes(auth_start, auth_size, "qe_auth_data")
    inner_at = auth_start + auth_size
    inner_type = s.u16(inner_at, "pck_chain.type")
    inner_size = s.u32(inner_at + 2, "pck_chain.size")
    if inner_type != CERT_DATA_PCK_CHAIN:
        raise _unsupported(
            "unsupported inner certification data type",
            "pck_chain.type",
            inner_at,
            "5 (PCK certificate chain)",
            inner_type,
        )
    pem_start = inner_at + 6
    _exact_fit("pck_chain", pem_start + inner_size, sig_end, inner_at + 2)
    pem = s.bytes(pem_start, inner_size, "pck_chain")
    return Quote(
        raw=data,
        header=header,
        body=body,
        body_offset=body_offset,
        signed_size=signed_size,
        signature_data_size=sig_size,
        signature=signature,
        attestation_key=att_key,
        certification_data_type=cert_type,
        qe_report=qe_report,
        qe_report_signature=qe_sig,
        qe_auth_data=auth,
        pck_chain_type=inner_type,
        pck_chain_pem=pem,
        pck_chain_der=split_pem_chain(pem),
        trailing_bytes=len(data) - sig_end,
    )
