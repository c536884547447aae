"""Intel PCS rules: TCB Info and QE Identity models, the signed JSON text, PCS v4 URLs.

Pure functions only (specs/tdx.md §3–§4). ``extract_signed`` finds the exact bytes of the
``tcbInfo`` / ``enclaveIdentity`` value in a PCS response body with a scanner that honours
JSON string quoting, so signatures are checked over the text as served and never over a
re-serialisation (§3.5). ``parse_tcb_info`` and ``parse_qe_identity`` then read those
(already authenticated) bytes strictly: every field typed and bounded, statuses from Intel's
closed sets, levels in Intel's descending order (§5.2).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from teeclient._json import strict_loads
from teeclient.errors import TdxCollateralMalformedError
from teeclient.platforms.tdx.status import TcbStatus

__all__ = [
    "MODULE_STATUSES",
    "PCS_BASE_URL",
    "PLATFORM_STATUSES",
    "QE_STATUSES",
    "ROOT_CA_CRL_URL",
    "EnclaveTcbLevel",
    "QeIdentity",
    "SignedJson",
    "TcbInfo",
    "TcbLevel",
    "TcbStatus",
    "TdxModule",
    "TdxModuleIdentity",
    "extract_signed",
    "parse_qe_identity",
    "parse_tcb_info",
    "pck_crl_url",
    "qe_identity_url",
    "tcb_info_url",
]

PLATFORM = "tdx"
PCS_BASE_URL = "https://api.trustedservices.intel.com"
ROOT_CA_CRL_URL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
MAX_JSON_BYTES = 1 << 20
_MAX_LEVELS = 256
_MAX_ADVISORIES = 256


#: Statuses a TCB Info platform level may carry (Intel QVL VALID_TCB_INFO_STATUSES).
PLATFORM_STATUSES = frozenset(
    {
        TcbStatus.UP_TO_DATE,
        TcbStatus.SW_HARDENING_NEEDED,
        TcbStatus.CONFIGURATION_NEEDED,
        TcbStatus.CONFIGURATION_AND_SW_HARDENING_NEEDED,
        TcbStatus.OUT_OF_DATE,
        TcbStatus.OUT_OF_DATE_CONFIGURATION_NEEDED,
        TcbStatus.REVOKED,
    }
)
#: Statuses a TDX module level may carry (Intel QVL VALID_MODULE_TCB_STATUSES).
MODULE_STATUSES = frozenset({TcbStatus.UP_TO_DATE, TcbStatus.OUT_OF_DATE, TcbStatus.REVOKED})
#: Statuses a QE Identity level may carry (Intel QVL IdentityTcbLevel).
QE_STATUSES = MODULE_STATUSES


# --- the signed substring ----------------------------------------------------------------------


def _malformed(
    message: str,
    *,
    field: str,
    expected: object = None,
    actual: object = None,
    offset: int | None = None,
) -> TdxCollateralMalformedError:
    return TdxCollateralMalformedError(
        message, platform=PLATFORM, field=field, expected=expected, actual=actual, offset=offset
    )


_WS = b" \t\r\n"


def _skip_ws(data: bytes, pos: int) -> int:
    while pos < len(data) and data[pos] in _WS:
        pos += 1
    return pos


_STRING = re.compile(rb'"[^"\\\x00-\x1f]*(?:\\.[^"\\\x00-\x1f]*)*"', re.DOTALL)
_STRUCTURAL = re.compile(rb'[{}\[\]"]')
_SCALAR_END = re.compile(rb"[,}\]\s]")


def _scan_string(data: bytes, pos: int, field: str) -> int:
    """``data[pos]`` is a quote; return the offset after the closing quote."""
    match = _STRING.match(data, pos)
    if match is None:
        raise _malformed("unterminated or invalid JSON string", field=field, offset=pos)
    return match.end()


def _scan_value(data: bytes, pos: int, field: str) -> int:
    """Return the offset just after the JSON value starting at ``pos`` (structure only)."""
    if pos >= len(data):
        raise _malformed("truncated JSON", field=field, offset=pos)
    first = data[pos]
    if first == 0x22:
        return _scan_string(data, pos, field)
    if first in b"{[":
        depth = 0
        while True:
            match = _STRUCTURAL.search(data, pos)
            if match is None:
                raise _malformed("unbalanced JSON brackets", field=field, offset=pos)
            pos = match.start()
            byte = data[pos]
            if byte == 0x22:
                pos = _scan_string(data, pos, field)
                continue
            if byte in b"{[":
                depth += 1
                if depth > 64:
                    raise _malformed("JSON nested too deeply", field=field, offset=pos)
            else:
                depth -= 1
                if depth == 0:
                    return pos + 1
            pos += 1
    match = _SCALAR_END.search(data, pos)
    end = match.start() if match is not None else len(data)
    if end == pos:
        raise _malformed("empty JSON value", field=field, offset=pos)
    return end


def top_level_spans(data: bytes, *, field: str) -> dict[str, tuple[int, int]]:
    """Byte spans of each member value of the top-level JSON object in ``data``.

    Raises:
        TdxCollateralMalformedError: not a single JSON object, or a duplicate member name.
    """
    if len(data) > MAX_JSON_BYTES:
        raise _malformed(
            "JSON collateral too large",
            field=field,
            expected=f"<= {MAX_JSON_BYTES} bytes",
            actual=f"{len(data)} bytes",
        )
    pos = _skip_ws(data, 0)
    if pos >= len(data) or data[pos] != 0x7B:
        raise _malformed("collateral is not a JSON object", field=field, offset=pos)
    pos = _skip_ws(data, pos + 1)
    spans: dict[str, tuple[int, int]] = {}
    if pos < len(data) and data[pos] == 0x7D:
        end = pos + 1
    else:
        while True:
            if pos >= len(data) or data[pos] != 0x22:
                raise _malformed("expected a JSON member name", field=field, offset=pos)
            key_end = _scan_string(data, pos, field)
            try:
                key = json.loads(data[pos:key_end])
            except ValueError as exc:
                raise _malformed("invalid JSON member name", field=field, offset=pos) from exc
            pos = _skip_ws(data, key_end)
            if pos >= len(data) or data[pos] != 0x3A:
                raise _malformed("expected ':' in JSON object", field=field, offset=pos)
            start = _skip_ws(data, pos + 1)
            stop = _scan_value(data, start, field)
            if key in spans:
                raise _malformed("duplicate JSON member", field=field, actual=key, offset=pos)
            spans[key] = (start, stop)
            pos = _skip_ws(data, stop)
            if pos < len(data) and data[pos] == 0x2C:
                pos = _skip_ws(data, pos + 1)
                continue
            if pos < len(data) and data[pos] == 0x7D:
                end = pos + 1
                break
            raise _malformed("expected ',' or '}' in JSON object", field=field, offset=pos)
    if data[end:].strip(_WS + b"\x00"):
        raise _malformed("bytes after the JSON object", field=field, offset=end)
    return spans


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedJson:
    """A signed PCS JSON object: the exact signed bytes and the raw ``r‖s`` signature."""

    kind: str  # "tcb_info" or "qe_identity"
    signed: bytes
    signature: bytes
    source: str

    def __post_init__(self) -> None:
        if len(self.signature) != 64:
            raise ValueError("a PCS signature is 64 bytes (r‖s)")


_BODY_MEMBER = {"tcb_info": "tcbInfo", "qe_identity": "enclaveIdentity"}


def parse_signature_hex(value: object, *, field: str) -> bytes:
    """A 128-hex-digit ``r‖s`` signature.

    Raises:
        TdxCollateralMalformedError: not a string of 128 hex digits.
    """
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-fA-F]{128}", value):
        raise _malformed(
            "signature is not 64 bytes of hex",
            field=field,
            expected="128 hex digits",
            actual=repr(value)[:40],
        )
    return bytes.fromhex(value)


def extract_signed(body: bytes, kind: str, *, source: str) -> SignedJson:
    """Take a PCS TCB Info / QE Identity response body apart into signed bytes and signature.

    Raises:
        TdxCollateralMalformedError: not ``{"<member>": {...}, "signature": "<hex>"}``.
    """
    member = _BODY_MEMBER[kind]
    spans = top_level_spans(body, field=kind)
    if set(spans) != {member, "signature"}:
        raise _malformed(
            f"PCS {member} response must hold exactly {member} and signature",
            field=kind,
            expected=f"{member}, signature",
            actual=", ".join(sorted(spans)),
        )
    start, stop = spans[member]
    if body[start : start + 1] != b"{":
        raise _malformed(f"{member} is not a JSON object", field=f"{kind}.{member}")
    sig_start, sig_stop = spans["signature"]
    try:
        sig_text = json.loads(body[sig_start:sig_stop])
    except ValueError as exc:
        raise _malformed("signature is not a JSON string", field=f"{kind}.signature") from exc
    signature = parse_signature_hex(sig_text, field=f"{kind}.signature")
    return SignedJson(kind=kind, signed=body[start:stop], signature=signature, source=source)


# --- strict readers over authenticated JSON ----------------------------------------------------


def load_json(data: bytes, *, field: str) -> Any:
    """``json.loads`` that rejects duplicate members, NaN/Infinity and non-UTF-8.

    Raises:
        TdxCollateralMalformedError: invalid JSON.
    """
    try:
        return strict_loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _malformed(f"invalid JSON: {exc}", field=field) from exc


class _Obj:
    """Typed access to one JSON object; every failure names the member path."""

    __slots__ = ("path", "value")

    def __init__(self, value: object, path: str) -> None:
        if not isinstance(value, dict):
            raise _malformed("expected a JSON object", field=path, actual=type(value).__name__)
        self.value: dict[str, Any] = value
        self.path = path

    def _get(self, key: str) -> Any:
        if key not in self.value:
            raise _malformed(
                "missing member", field=f"{self.path}.{key}", expected="present", actual="absent"
            )
        return self.value[key]

    def has(self, key: str) -> bool:
        return key in self.value

    def integer(self, key: str, minimum: int = 0, maximum: int = 2**32 - 1) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _malformed(
                "expected an integer", field=f"{self.path}.{key}", actual=repr(value)[:40]
            )
        if not minimum <= value <= maximum:
            raise _malformed(
                "integer out of range",
                field=f"{self.path}.{key}",
                expected=f"{minimum}..{maximum}",
                actual=value,
            )
        return value

    def text(self, key: str, max_length: int = 256) -> str:
        value = self._get(key)
        if not isinstance(value, str) or len(value) > max_length:
            raise _malformed(
                "expected a string", field=f"{self.path}.{key}", actual=repr(value)[:40]
            )
        return value

    def hexbytes(self, key: str, size: int) -> bytes:
        value = self.text(key, 2 * size)
        if not re.fullmatch(rf"[0-9a-fA-F]{{{2 * size}}}", value):
            raise _malformed(
                "expected hex bytes",
                field=f"{self.path}.{key}",
                expected=f"{2 * size} hex digits",
                actual=value[:40],
            )
        return bytes.fromhex(value)

    def date(self, key: str) -> datetime:
        text = self.text(key, 64)
        if not re.fullmatch(
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", text
        ):
            raise _malformed(
                "expected an RFC 3339 date-time", field=f"{self.path}.{key}", actual=text
            )
        try:
            return datetime.fromisoformat(text).astimezone(UTC)
        except ValueError as exc:
            raise _malformed("invalid date-time", field=f"{self.path}.{key}", actual=text) from exc

    def obj(self, key: str) -> _Obj:
        return _Obj(self._get(key), f"{self.path}.{key}")

    def array(self, key: str, max_items: int = _MAX_LEVELS, *, min_items: int = 1) -> list[Any]:
        value = self._get(key)
        if not isinstance(value, list) or not min_items <= len(value) <= max_items:
            raise _malformed(
                "expected a non-empty array",
                field=f"{self.path}.{key}",
                expected=f"{min_items}..{max_items} items",
                actual=repr(value)[:40],
            )
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        if key not in self.value:
            return ()
        items = self.array(key, _MAX_ADVISORIES, min_items=0)
        if not all(isinstance(i, str) and len(i) <= 64 for i in items):
            raise _malformed("expected an array of strings", field=f"{self.path}.{key}")
        return tuple(items)

    def status(self, key: str, allowed: frozenset[TcbStatus]) -> TcbStatus:
        text = self.text(key, 64)
        try:
            status = TcbStatus(text)
        except ValueError:
            status = None
        if status is None or status not in allowed:
            raise _malformed(
                "unrecognised TCB status",
                field=f"{self.path}.{key}",
                expected=", ".join(sorted(allowed)),
                actual=text,
            )
        return status


# --- TCB Info ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TcbLevel:
    """One platform TCB level of a TDX TCB Info (specs/tdx.md §3.1)."""

    sgx_components: tuple[int, ...]
    pce_svn: int
    tdx_components: tuple[int, ...]
    tcb_date: datetime
    status: TcbStatus
    advisory_ids: tuple[str, ...]

    def sort_key(self) -> tuple[tuple[int, ...], int, tuple[int, ...]]:
        """Intel QVL's ``TcbLevel::operator>`` order: SGX SVNs, PCESVN, TDX SVNs."""
        return self.sgx_components, self.pce_svn, self.tdx_components

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "sgx_components": list(self.sgx_components),
            "pcesvn": self.pce_svn,
            "tdx_components": list(self.tdx_components),
            "tcb_date": self.tcb_date.isoformat().replace("+00:00", "Z"),
            "tcb_status": self.status.value,
            "advisory_ids": list(self.advisory_ids),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class EnclaveTcbLevel:
    """An ISVSVN-keyed level (TDX module identity or QE Identity)."""

    isvsvn: int
    tcb_date: datetime
    status: TcbStatus
    advisory_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "isvsvn": self.isvsvn,
            "tcb_date": self.tcb_date.isoformat().replace("+00:00", "Z"),
            "tcb_status": self.status.value,
            "advisory_ids": list(self.advisory_ids),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class TdxModule:
    """``tdxModule``: the module signer and attributes used when TEE_TCB_SVN[1] == 0."""

    mrsigner: bytes
    attributes: bytes
    attributes_mask: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class TdxModuleIdentity:
    """One ``tdxModuleIdentities`` entry (``TDX_01``, ``TDX_03``, ...)."""

    id: str
    mrsigner: bytes
    attributes: bytes
    attributes_mask: bytes
    tcb_levels: tuple[EnclaveTcbLevel, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TcbInfo:
    """A TDX TCB Info (version 3), parsed from its authenticated bytes."""

    id: str
    version: int
    issue_date: datetime
    next_update: datetime
    fmspc: bytes
    pce_id: bytes
    tcb_type: int
    tcb_evaluation_data_number: int
    tdx_module: TdxModule
    tdx_module_identities: tuple[TdxModuleIdentity, ...] | None
    tcb_levels: tuple[TcbLevel, ...]


def _components(value: object, path: str) -> tuple[int, ...]:
    if not isinstance(value, list) or len(value) != 16:
        raise _malformed("expected 16 TCB components", field=path, actual=repr(value)[:40])
    return tuple(_Obj(item, f"{path}[{i}]").integer("svn", 0, 255) for i, item in enumerate(value))


def _enclave_levels(
    values: list[Any], path: str, allowed: frozenset[TcbStatus]
) -> tuple[EnclaveTcbLevel, ...]:
    levels: list[EnclaveTcbLevel] = []
    for i, item in enumerate(values):
        level = _Obj(item, f"{path}[{i}]")
        levels.append(
            EnclaveTcbLevel(
                isvsvn=level.obj("tcb").integer("isvsvn", 0, 0xFFFF),
                tcb_date=level.date("tcbDate"),
                status=level.status("tcbStatus", allowed),
                advisory_ids=level.strings("advisoryIDs"),
            )
        )
    for i in range(1, len(levels)):
        if levels[i].isvsvn >= levels[i - 1].isvsvn:
            raise _malformed(
                "TCB levels are not in strictly descending ISVSVN order",
                field=f"{path}[{i}]",
                expected=f"isvsvn < {levels[i - 1].isvsvn}",
                actual=levels[i].isvsvn,
            )
    return tuple(levels)


def _module(obj: _Obj) -> TdxModule:
    return TdxModule(
        mrsigner=obj.hexbytes("mrsigner", 48),
        attributes=obj.hexbytes("attributes", 8),
        attributes_mask=obj.hexbytes("attributesMask", 8),
    )


def parse_tcb_info(signed: bytes, *, field: str = "tcb_info") -> TcbInfo:
    """Parse the (already authenticated) ``tcbInfo`` object of a TDX TCB Info.

    Raises:
        TdxCollateralMalformedError: not a version 3 ``TDX`` TCB Info, a field of the wrong
            type or range, an unknown status, or levels out of Intel's order (§5.2).
    """
    root = _Obj(load_json(signed, field=field), field)
    tcb_id = root.text("id", 16)
    version = root.integer("version")
    if tcb_id != "TDX":
        raise _malformed(
            "TCB Info is not for TDX", field=f"{field}.id", expected="TDX", actual=tcb_id
        )
    if version != 3:
        raise _malformed(
            "unsupported TCB Info version", field=f"{field}.version", expected=3, actual=version
        )
    tcb_type = root.integer("tcbType")
    if tcb_type != 0:
        raise _malformed(
            "unsupported tcbType", field=f"{field}.tcbType", expected=0, actual=tcb_type
        )
    identities: tuple[TdxModuleIdentity, ...] | None = None
    if root.has("tdxModuleIdentities"):
        found = []
        for i, item in enumerate(root.array("tdxModuleIdentities")):
            ident = _Obj(item, f"{field}.tdxModuleIdentities[{i}]")
            module = _module(ident)
            found.append(
                TdxModuleIdentity(
                    id=ident.text("id", 32),
                    mrsigner=module.mrsigner,
                    attributes=module.attributes,
                    attributes_mask=module.attributes_mask,
                    tcb_levels=_enclave_levels(
                        ident.array("tcbLevels"), f"{ident.path}.tcbLevels", MODULE_STATUSES
                    ),
                )
            )
        identities = tuple(found)
    levels: list[TcbLevel] = []
    for i, item in enumerate(root.array("tcbLevels")):
        level = _Obj(item, f"{field}.tcbLevels[{i}]")
        tcb = level.obj("tcb")
        levels.append(
            TcbLevel(
                sgx_components=_components(
                    tcb.value.get("sgxtcbcomponents"), f"{tcb.path}.sgxtcbcomponents"
                ),
                pce_svn=tcb.integer("pcesvn", 0, 0xFFFF),
                tdx_components=_components(
                    tcb.value.get("tdxtcbcomponents"), f"{tcb.path}.tdxtcbcomponents"
                ),
                tcb_date=level.date("tcbDate"),
                status=level.status("tcbStatus", PLATFORM_STATUSES),
                advisory_ids=level.strings("advisoryIDs"),
            )
        )
    for i in range(1, len(levels)):
        if not levels[i].sort_key() < levels[i - 1].sort_key():
            raise _malformed(
                "TCB levels are not in Intel's strictly descending order",
                field=f"{field}.tcbLevels[{i}]",
                expected="lower (SGX SVNs, PCESVN, TDX SVNs) than the level before",
                actual=str(levels[i].sort_key()),
            )
    return TcbInfo(
        id=tcb_id,
        version=version,
        issue_date=root.date("issueDate"),
        next_update=root.date("nextUpdate"),
        fmspc=root.hexbytes("fmspc", 6),
        pce_id=root.hexbytes("pceId", 2),
        tcb_type=tcb_type,
        tcb_evaluation_data_number=root.integer("tcbEvaluationDataNumber"),
        tdx_module=_module(root.obj("tdxModule")),
        tdx_module_identities=identities,
        tcb_levels=tuple(levels),
    )


# --- QE Identity -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class QeIdentity:
    """A QE Identity (``TD_QE``, version 2), parsed from its authenticated bytes."""

    id: str
    version: int
    issue_date: datetime
    next_update: datetime
    tcb_evaluation_data_number: int
    miscselect: bytes
    miscselect_mask: bytes
    attributes: bytes
    attributes_mask: bytes
    mrsigner: bytes
    isvprodid: int
    tcb_levels: tuple[EnclaveTcbLevel, ...]


def parse_qe_identity(signed: bytes, *, field: str = "qe_identity") -> QeIdentity:
    """Parse the (already authenticated) ``enclaveIdentity`` object of a QE Identity.

    Raises:
        TdxCollateralMalformedError: not a version 2 ``TD_QE`` identity, or a field of the
            wrong type, size or range, an unknown status, levels out of order.
    """
    root = _Obj(load_json(signed, field=field), field)
    qe_id = root.text("id", 16)
    version = root.integer("version")
    if qe_id != "TD_QE":
        raise _malformed(
            "QE Identity is not the TDX Quoting Enclave's",
            field=f"{field}.id",
            expected="TD_QE",
            actual=qe_id,
        )
    if version != 2:
        raise _malformed(
            "unsupported QE Identity version", field=f"{field}.version", expected=2, actual=version
        )
    return QeIdentity(
        id=qe_id,
        version=version,
        issue_date=root.date("issueDate"),
        next_update=root.date("nextUpdate"),
        tcb_evaluation_data_number=root.integer("tcbEvaluationDataNumber"),
        miscselect=root.hexbytes("miscselect", 4),
        miscselect_mask=root.hexbytes("miscselectMask", 4),
        attributes=root.hexbytes("attributes", 16),
        attributes_mask=root.hexbytes("attributesMask", 16),
        mrsigner=root.hexbytes("mrsigner", 32),
        isvprodid=root.integer("isvprodid", 0, 0xFFFF),
        tcb_levels=_enclave_levels(root.array("tcbLevels"), f"{field}.tcbLevels", QE_STATUSES),
    )


def peek_identity(signed: bytes) -> tuple[str | None, object]:
    """(``id``, ``version``) of a signed TCB Info / QE Identity body, for messages only."""
    try:
        data = load_json(signed, field="peek")
    except TdxCollateralMalformedError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    ident = data.get("id")
    return (ident if isinstance(ident, str) else None), data.get("version")


# --- PCS v4 URLs (specs/tdx.md §4) -------------------------------------------------------------


def tcb_info_url(
    fmspc: bytes,
    *,
    update: str | None = None,
    tcb_evaluation_data_number: int | None = None,
    base: str = PCS_BASE_URL,
) -> str:
    """The PCS v4 URL of the TDX TCB Info for ``fmspc`` (``update`` and a fixed evaluation
    data number are mutually exclusive)."""
    if update is not None and tcb_evaluation_data_number is not None:
        raise ValueError("update and tcbEvaluationDataNumber are mutually exclusive")
    if update not in (None, "early", "standard"):
        raise ValueError("update must be 'early' or 'standard'")
    query: dict[str, str] = {"fmspc": fmspc.hex()}
    if update is not None:
        query["update"] = update
    if tcb_evaluation_data_number is not None:
        query["tcbEvaluationDataNumber"] = str(tcb_evaluation_data_number)
    return f"{base.rstrip('/')}/tdx/certification/v4/tcb?{urlencode(query)}"


def qe_identity_url(*, base: str = PCS_BASE_URL) -> str:
    """The PCS v4 URL of the TD QE Identity."""
    return f"{base.rstrip('/')}/tdx/certification/v4/qe/identity"


def pck_crl_url(ca: str, *, base: str = PCS_BASE_URL) -> str:
    """The PCS v4 URL of the PCK CRL for ``ca`` (``platform`` or ``processor``), DER."""
    if ca not in ("platform", "processor"):
        raise ValueError("ca must be 'platform' or 'processor'")
    return f"{base.rstrip('/')}/sgx/certification/v4/pckcrl?ca={ca}&encoding=der"


#: Response headers that carry URL-encoded PEM issuer chains (PCS v4 and PCCS spellings).
ISSUER_CHAIN_HEADERS: Mapping[str, str] = {
    "tcb-info-issuer-chain": "tcb_info",
    "sgx-tcb-info-issuer-chain": "tcb_info",
    "sgx-enclave-identity-issuer-chain": "qe_identity",
    "sgx-pck-crl-issuer-chain": "pck_crl",
}
