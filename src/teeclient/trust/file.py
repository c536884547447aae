"""Trust files (``teeclient.trust/v1``): named anchors as PEM, with where they came from.

A trust file is the only way, besides code that builds a ``TrustStore`` itself, to trust a
root teeclient does not ship (a generated test PKI, a private PCCS root). It is read only when
a caller passes its path explicitly (``TrustStore.with_trust_file``, ``teeclient verify
--trust FILE``); no environment variable, default location or policy key names one.

JSON or TOML, the same members::

    format = "teeclient.trust/v1"
    source = "where these roots come from (required, shown in results)"
    mode = "replace"            # or "add": each anchor replaces / joins the named anchor
    [anchors."amd.genoa.ark"]
    certificates = "-----BEGIN CERTIFICATE-----\\n…"
    source = "optional per-anchor note"

Anchor names are the ones teeclient's verifiers look up (``TRUST_ANCHOR_NAMES``, plus
``<partition>.nitro.root``); an unknown name is an error, so a typo cannot silently trust
nothing. Unknown members, duplicate members, empty or unparseable certificates are errors.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from teeclient._json import DuplicateMemberError, strict_loads
from teeclient._x509 import load_certificates
from teeclient.errors import ParseError, TrustFileError

__all__ = [
    "MAX_TRUST_FILE_BYTES",
    "TRUST_ANCHOR_NAMES",
    "TRUST_FILE_FORMAT",
    "TrustFile",
    "TrustFileAnchor",
    "dump_trust_file",
    "load_trust_file",
    "parse_trust_file",
]

TRUST_FILE_FORMAT = "teeclient.trust/v1"
MAX_TRUST_FILE_BYTES = 1024 * 1024
_MAX_ANCHORS = 64
_MAX_CERTS = 16
_NITRO_ROOT = re.compile(r"[a-z][a-z0-9-]{0,31}\.nitro\.root")

#: Every anchor name a teeclient verifier looks up (AWS partitions: ``<partition>.nitro.root``).
TRUST_ANCHOR_NAMES: frozenset[str] = frozenset(
    {
        *(
            f"amd.{product}.{role}"
            for product in ("milan", "genoa", "turin")
            for role in ("ark", "ask", "asvk")
        ),
        "intel.sgx.root",
        "nvidia.device.root",
        "nvidia.corim.root",
    }
)


def _known(name: str) -> bool:
    return name in TRUST_ANCHOR_NAMES or _NITRO_ROOT.fullmatch(name) is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustFileAnchor:
    """One anchor of a trust file: its name, certificates and source note."""

    name: str
    certificates: tuple[x509.Certificate, ...]
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustFile:
    """A parsed trust file."""

    source: str
    mode: str
    anchors: tuple[TrustFileAnchor, ...]
    path: str


def _fail(
    message: str, where: str, expected: object = None, actual: object = None
) -> TrustFileError:
    return TrustFileError(message, platform="trust", field=where, expected=expected, actual=actual)


def _members(obj: object, where: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise _fail("expected a table", where, "table", type(obj).__name__)
    unknown = sorted(set(obj) - required - optional)
    if unknown:
        raise _fail("unknown member", f"{where}.{unknown[0]}", sorted(required | optional))
    missing = sorted(required - set(obj))
    if missing:
        raise _fail("missing member", f"{where}.{missing[0]}", sorted(required))
    return obj


def _text(value: object, where: str, limit: int = 2000) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise _fail(
            "expected a non-empty string", where, f"1..{limit} characters", repr(value)[:60]
        )
    return value


def parse_trust_file(data: bytes, *, path: str = "<trust file>") -> TrustFile:
    """Parse a JSON or TOML trust file (JSON when it starts with ``{``).

    Raises:
        TrustFileError: too large, not JSON/TOML, wrong format, unknown members or anchor
            names, missing source, no or unparseable certificates.
    """
    if len(data) > MAX_TRUST_FILE_BYTES:
        raise _fail("trust file too large", path, f"<= {MAX_TRUST_FILE_BYTES} bytes", len(data))
    try:
        text = data.decode("utf-8")
        doc: object = strict_loads(text) if text.lstrip().startswith("{") else tomllib.loads(text)
    except DuplicateMemberError as exc:
        raise _fail("duplicate member", exc.member, "each member once", "twice") from exc
    except (ValueError, RecursionError) as exc:
        raise _fail(f"trust file is neither JSON nor TOML: {exc}", path) from exc
    top = _members(doc, "trust", {"format", "source", "anchors"}, {"mode"})
    if top["format"] != TRUST_FILE_FORMAT:
        raise _fail("unsupported trust file format", "format", TRUST_FILE_FORMAT, top["format"])
    mode = top.get("mode", "replace")
    if mode not in ("replace", "add"):
        raise _fail("invalid mode", "mode", "replace or add", mode)
    source = _text(top["source"], "source")
    raw_anchors = top["anchors"]
    if not isinstance(raw_anchors, dict) or not raw_anchors or len(raw_anchors) > _MAX_ANCHORS:
        raise _fail("anchors must be a non-empty table", "anchors", f"1..{_MAX_ANCHORS} anchors")
    anchors = []
    for name, raw in raw_anchors.items():
        where = f"anchors.{name}"
        if not _known(name):
            raise _fail(
                "unknown trust anchor name",
                where,
                ", ".join(sorted(TRUST_ANCHOR_NAMES)) + ", <partition>.nitro.root",
                name,
            )
        entry = _members(raw, where, {"certificates"}, {"source"})
        pem = _text(entry["certificates"], f"{where}.certificates", limit=256 * 1024)
        try:
            certs = load_certificates(pem.encode(), role=where, platform="trust")
        except ParseError as exc:
            raise _fail(f"certificates do not parse: {exc.message}", where) from exc
        if not certs or len(certs) > _MAX_CERTS or "-----BEGIN CERTIFICATE-----" not in pem:
            raise _fail("an anchor needs 1..16 PEM certificates", where, "PEM", len(certs))
        note = _text(entry["source"], f"{where}.source") if "source" in entry else source
        anchors.append(
            TrustFileAnchor(name=name, certificates=tuple(certs), source=f"{note} ({path})")
        )
    return TrustFile(source=source, mode=mode, anchors=tuple(anchors), path=path)


def load_trust_file(path: str | Path) -> TrustFile:
    """Read and parse a trust file.

    Raises:
        TrustFileError: unreadable or invalid (see ``parse_trust_file``).
    """
    p = Path(path)
    try:
        if p.stat().st_size > MAX_TRUST_FILE_BYTES:
            raise _fail("trust file too large", str(p), f"<= {MAX_TRUST_FILE_BYTES} bytes")
        data = p.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read trust file: {exc.strerror}", str(p)) from exc
    return parse_trust_file(data, path=str(p))


def dump_trust_file(
    anchors: Mapping[str, Iterable[x509.Certificate]],
    *,
    source: str,
    mode: str = "replace",
    as_json: bool = False,
) -> str:
    """Render anchors as a trust file (TOML, or JSON with ``as_json``)."""
    pems = {
        name: "".join(c.public_bytes(Encoding.PEM).decode() for c in certs)
        for name, certs in sorted(anchors.items())
    }
    if as_json:
        return json.dumps(
            {
                "format": TRUST_FILE_FORMAT,
                "source": source,
                "mode": mode,
                "anchors": {n: {"certificates": p} for n, p in pems.items()},
            },
            indent=2,
        )
    lines = [
        f"format = {json.dumps(TRUST_FILE_FORMAT)}",
        f"source = {json.dumps(source)}",
        f"mode = {json.dumps(mode)}",
    ]
    for name, pem in pems.items():
        lines += ["", f"[anchors.{json.dumps(name)}]", f'certificates = """\n{pem}"""']
    return "\n".join(lines) + "\n"
