"""Recognise Intel DCAP collateral by content and sort it for verification (specs/tdx.md §3).

Accepted forms, in any mix:

* PCS response bodies: TCB Info (``{"tcbInfo": …, "signature": …}``) and QE Identity
  (``{"enclaveIdentity": …}``) JSON; PCK and root CA CRLs (DER or PEM);
* their issuer chains, either as the PCS response headers (``TCB-Info-Issuer-Chain``,
  ``SGX-Enclave-Identity-Issuer-Chain``, ``SGX-PCK-CRL-Issuer-Chain``; URL-encoded PEM) on a
  ``CollateralItem``, as a saved HTTP response (``curl -i``: status line, headers, body), as
  a header value saved to a file (URL-encoded PEM), or as plain PEM;
* dcap-qvl's ``collateral.json`` (``QuoteCollateralV3``: the signed JSON text as strings,
  hex signatures and DER CRLs, PEM chains).

Nothing is trusted here; ``verify`` authenticates every piece.

``plan`` turns a quote into the Intel PCS v4 requests for what is not supplied (TCB Info for
the PCK certificate's FMSPC, QE Identity, the PCK CRL of its CA, the root CA CRL); PCCS mirrors
serve the same paths under their own base URL. Fetched items keep their issuer-chain response
headers, which ``gather`` reads exactly as it reads them on a bundled or saved response.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from teeclient._x509 import (
    MALFORMED,
    common_name,
    crl_parsed,
    load_certificate,
    load_certificates,
)
from teeclient.collateral.items import (
    CollateralItem,
    CollateralRequest,
    CollateralSet,
    ItemKind,
    classify,
)
from teeclient.collateral.settings import CollateralSettings
from teeclient.errors import (
    MalformedCertificateError,
    ParseError,
    TdxCollateralMalformedError,
    TeeclientError,
)
from teeclient.platforms import VerifyOptions
from teeclient.platforms.tdx import abi
from teeclient.platforms.tdx.pck import parse_pck_extensions
from teeclient.platforms.tdx.pcs import (
    ISSUER_CHAIN_HEADERS,
    SignedJson,
    extract_signed,
    load_json,
    parse_signature_hex,
    pck_crl_url,
    peek_identity,
    qe_identity_url,
    tcb_info_url,
)

__all__ = [
    "DCAP_QVL_KEYS",
    "SignedItem",
    "TdxCollateral",
    "TdxCrl",
    "collateral_key",
    "gather",
    "parse_http_response",
    "plan",
]

PLATFORM = "tdx"
DCAP_QVL_KEYS = frozenset(
    {
        "pck_crl_issuer_chain",
        "root_ca_crl",
        "pck_crl",
        "tcb_info_issuer_chain",
        "tcb_info",
        "tcb_info_signature",
        "qe_identity_issuer_chain",
        "qe_identity",
        "qe_identity_signature",
    }
)
_DCAP_QVL_OPTIONAL = frozenset({"pck_certificate_chain"})
_MAX_HEADER_BYTES = 64 * 1024
_PCK_CA_TYPES = {
    "Intel SGX PCK Platform CA": "platform",
    "Intel SGX PCK Processor CA": "processor",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedItem:
    """A signed TCB Info / QE Identity with the issuer chain delivered alongside it, if any."""

    signed: SignedJson
    chain: tuple[x509.Certificate, ...] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TdxCrl:
    """A CRL, where it came from, and the SHA-256 of its DER encoding."""

    crl: x509.CertificateRevocationList
    source: str
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TdxCollateral:
    """Intel collateral sorted by kind; nothing in it is authenticated yet."""

    tcb_infos: tuple[SignedItem, ...]
    qe_identities: tuple[SignedItem, ...]
    crls: tuple[TdxCrl, ...]
    certificates: tuple[tuple[x509.Certificate, str], ...]
    key: bytes = b""  # collateral_key() of what was gathered


def _malformed(
    message: str, source: str, *, expected: object = None, actual: object = None
) -> TdxCollateralMalformedError:
    return TdxCollateralMalformedError(
        message, platform=PLATFORM, field=source, expected=expected, actual=actual
    )


def parse_http_response(data: bytes, *, source: str) -> tuple[bytes, dict[str, str]]:
    """Split a saved HTTP/1.x response into its body and lower-cased headers.

    Raises:
        TdxCollateralMalformedError: no header/body separator, or a malformed header line.
    """
    for sep in (b"\r\n\r\n", b"\n\n"):
        cut = data.find(sep)
        if 0 <= cut <= _MAX_HEADER_BYTES:
            head, body = data[:cut], data[cut + len(sep) :]
            break
    else:
        raise _malformed("saved HTTP response has no end of headers", source)
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    status = lines[0].split()
    if len(status) < 2 or status[1] != b"200":
        raise _malformed(
            "saved HTTP response is not a 200 OK", source, actual=lines[0][:60].decode("latin-1")
        )
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep_found, value = line.partition(b":")
        if not sep_found or not name.strip():
            raise _malformed(
                "malformed HTTP header line", source, actual=line[:60].decode("latin-1")
            )
        headers[name.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
    return body, headers


def _chain_from_header(value: str, source: str) -> tuple[x509.Certificate, ...]:
    pem = unquote_to_bytes(value)
    try:
        certs = load_certificates(pem, role=source, platform=PLATFORM)
    except ParseError as exc:
        raise _malformed(
            f"issuer chain header is not URL-encoded PEM: {exc.message}", source
        ) from exc
    if not certs:
        raise _malformed("issuer chain header holds no certificate", source)
    return tuple(certs)


def _pem_certificates(pem: bytes, source: str) -> tuple[x509.Certificate, ...]:
    try:
        return tuple(load_certificates(pem, role=source, platform=PLATFORM))
    except ParseError as exc:
        raise MalformedCertificateError(exc.message, platform=PLATFORM, field=source) from exc


def _der_crl(value: object, source: str) -> x509.CertificateRevocationList:
    if not isinstance(value, str):
        raise _malformed("CRL is not a hex string", source)
    try:
        return crl_parsed(x509.load_der_x509_crl(bytes.fromhex(value)))
    except MALFORMED as exc:
        raise _malformed(f"invalid CRL: {exc}", source) from exc


class _Builder:
    def __init__(self) -> None:
        self.tcb_infos: list[SignedItem] = []
        self.qe_identities: list[SignedItem] = []
        self.crls: list[TdxCrl] = []
        self.certificates: list[tuple[x509.Certificate, str]] = []

    def add_certs(self, certs: tuple[x509.Certificate, ...], source: str) -> None:
        for cert in certs:
            try:
                _ = cert.subject, cert.issuer, cert.extensions
            except (ValueError, x509.DuplicateExtension) as exc:
                raise MalformedCertificateError(
                    f"certificate cannot be decoded: {exc}", platform=PLATFORM, field=source
                ) from exc
            self.certificates.append((cert, source))

    def add_dcap_qvl(self, obj: dict[str, object], source: str) -> None:
        unknown = set(obj) - DCAP_QVL_KEYS - _DCAP_QVL_OPTIONAL
        missing = DCAP_QVL_KEYS - set(obj)
        if unknown or missing:
            raise _malformed(
                "not a dcap-qvl QuoteCollateralV3 document",
                source,
                expected=", ".join(sorted(DCAP_QVL_KEYS)),
                actual=f"missing {sorted(missing)}, unknown {sorted(unknown)}",
            )
        chains: dict[str, tuple[x509.Certificate, ...]] = {}
        for key in ("tcb_info_issuer_chain", "qe_identity_issuer_chain", "pck_crl_issuer_chain"):
            value = obj[key]
            if not isinstance(value, str):
                raise _malformed(f"{key} is not a PEM string", f"{source}:{key}")
            chains[key] = _pem_certificates(value.encode(), f"{source}:{key}")
            self.add_certs(chains[key], f"{source}:{key}")
        for kind in ("tcb_info", "qe_identity"):
            text = obj[kind]
            if not isinstance(text, str):
                raise _malformed(f"{kind} is not a string", f"{source}:{kind}")
            signed = SignedJson(
                kind=kind,
                signed=text.encode("utf-8"),
                signature=parse_signature_hex(
                    obj[f"{kind}_signature"], field=f"{source}:{kind}_signature"
                ),
                source=f"{source}:{kind}",
            )
            target = self.tcb_infos if kind == "tcb_info" else self.qe_identities
            target.append(SignedItem(signed=signed, chain=chains[f"{kind}_issuer_chain"]))
        for key in ("pck_crl", "root_ca_crl"):
            self.add_crl(_der_crl(obj[key], f"{source}:{key}"), f"{source}:{key}")

    def add_crl(self, crl: x509.CertificateRevocationList, source: str) -> None:
        try:
            _ = crl.issuer, crl.last_update_utc, crl.next_update_utc, len(crl)
        except ValueError as exc:
            raise _malformed(f"CRL cannot be decoded: {exc}", source) from exc
        digest = hashlib.sha256(crl.public_bytes(Encoding.DER)).hexdigest()
        self.crls.append(TdxCrl(crl=crl, source=source, sha256=digest))

    def add_json(
        self, data: bytes, source: str, chains: dict[str, tuple[x509.Certificate, ...]]
    ) -> None:
        # Route by the top-level members (json.loads is fast); a PCS body is then cut into its
        # exact signed text by the byte scanner, a dcap-qvl bundle holds that text as strings.
        obj = load_json(data, field=source)
        members = set(obj) if isinstance(obj, dict) else set()
        if "tcbInfo" in members:
            signed = extract_signed(data, "tcb_info", source=source)
            self.tcb_infos.append(SignedItem(signed=signed, chain=chains.get("tcb_info")))
        elif "enclaveIdentity" in members:
            signed = extract_signed(data, "qe_identity", source=source)
            self.qe_identities.append(SignedItem(signed=signed, chain=chains.get("qe_identity")))
        elif members & DCAP_QVL_KEYS:
            assert isinstance(obj, dict)
            self.add_dcap_qvl(obj, source)
        else:
            raise _malformed(
                "JSON collateral is neither TCB Info, QE Identity nor a dcap-qvl bundle",
                source,
                expected="tcbInfo, enclaveIdentity or QuoteCollateralV3 members",
                actual=", ".join(sorted(members))[:120] or type(obj).__name__,
            )

    def add_item(self, item: CollateralItem) -> None:
        data = item.data
        source = item.source
        headers = {k.lower(): v for k, v in item.headers.items()}
        if data.startswith(b"HTTP/"):
            data, parsed = parse_http_response(data, source=source)
            headers.update(parsed)
        chains = {
            ISSUER_CHAIN_HEADERS[name]: _chain_from_header(value, f"{source}:{name}")
            for name, value in headers.items()
            if name in ISSUER_CHAIN_HEADERS
        }
        for role, chain in chains.items():
            self.add_certs(chain, f"{source}:{role}_issuer_chain")
        if data.strip().startswith(b"-----BEGIN%20CERTIFICATE-----"):
            # A saved issuer-chain header value (URL-encoded PEM).
            self.add_certs(_chain_from_header(data.strip().decode("latin-1"), source), source)
            return
        # JSON first: a dcap-qvl bundle holds PEM text, which ``classify`` would see first.
        kind = ItemKind.JSON if data.lstrip()[:1] == b"{" else classify(data)
        if kind is ItemKind.JSON:
            self.add_json(data, source, chains)
            return
        if kind in (ItemKind.CERTIFICATES, ItemKind.PEM_BUNDLE, ItemKind.CRL):
            sub = CollateralItem(data=data, source=source)
            self.add_certs(tuple(sub.certificates()), source)
            try:
                crls = sub.crls()
            except ParseError as exc:
                raise _malformed(exc.message, source) from exc
            for crl in crls:
                self.add_crl(crl, source)
            return
        raise _malformed(
            "collateral item is not Intel DCAP collateral",
            source,
            expected="TCB Info, QE Identity, CRL, certificates or a dcap-qvl bundle",
            actual=f"{len(data)} bytes starting {data[:8].hex()}",
        )


def gather(collateral: CollateralSet) -> TdxCollateral:
    """Sort every item of ``collateral`` into TCB Infos, QE Identities, CRLs and certificates.

    Raises:
        TdxCollateralMalformedError: an item is not recognisable Intel collateral, or is
            malformed (bad JSON framing, bad hex, bad issuer-chain header).
        MalformedCertificateError: a certificate block is malformed.
    """
    builder = _Builder()
    for item in collateral:
        builder.add_item(item)
    return TdxCollateral(
        tcb_infos=tuple(builder.tcb_infos),
        qe_identities=tuple(builder.qe_identities),
        crls=tuple(builder.crls),
        certificates=tuple(builder.certificates),
        key=collateral_key(collateral),
    )


def collateral_key(collateral: CollateralSet) -> bytes:
    """SHA-256 over every item's source, headers and bytes (what ``gather`` reads)."""
    digest = hashlib.sha256(b"tdx.collateral|")
    for item in collateral:
        for part in (item.source.encode(), repr(sorted(item.headers.items())).encode(), item.data):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.digest()


# --- planning (what to fetch from Intel PCS / a PCCS) ----------------------------------------


def _fmspc_of(item: SignedItem) -> bytes | None:
    try:
        body = load_json(item.signed.signed, field="plan")
    except TdxCollateralMalformedError:
        return None
    value = body.get("fmspc") if isinstance(body, dict) else None
    if not isinstance(value, str) or len(value) != 12:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def plan(
    data: bytes,
    *,
    supplied: CollateralSet,
    options: VerifyOptions,
    settings: CollateralSettings,
    revocation: str,
) -> list[CollateralRequest]:
    """The Intel PCS v4 requests for this quote, skipping what ``supplied`` already holds.

    TCB Info for the FMSPC and the TD QE Identity are always required. The PCK
    CRL (``ca=`` from the PCK CA's name, DER) and the Intel SGX Root CA CRL follow
    ``revocation``: ``fetch`` (required), ``fetch-optional``, ``cached`` (bundle or cache only)
    or ``off``. The quote and its PCK certificate are read unauthenticated, only to build URLs;
    a PCK certificate that cannot be read plans nothing, so that verification reports it.

    Raises:
        ParseError: the quote cannot be framed.
        TdxCollateralMalformedError, MalformedCertificateError: a supplied item is malformed.
    """
    del options
    quote = abi.parse_quote(data)
    try:
        leaf = load_certificate(quote.pck_chain_der[0], role="PCK", platform=PLATFORM)
        intermediate = load_certificate(quote.pck_chain_der[1], role="PCK CA", platform=PLATFORM)
        root_name = load_certificate(quote.pck_chain_der[2], role="root", platform=PLATFORM).subject
        fmspc = parse_pck_extensions(leaf).fmspc
        ca = _PCK_CA_TYPES.get(common_name(intermediate.subject) or "")
    except (TeeclientError, ValueError, IndexError):
        return []
    have = gather(supplied)
    pcs_base = settings.base_url("intel_pcs")
    requests: list[CollateralRequest] = []
    if not any(_fmspc_of(item) == fmspc for item in have.tcb_infos):
        requests.append(
            CollateralRequest(
                url=tcb_info_url(fmspc, base=pcs_base),
                purpose=f"tdx.tcb_info.{fmspc.hex()}",
                media_type="application/json",
            )
        )
    if not any(peek_identity(i.signed.signed)[0] == "TD_QE" for i in have.qe_identities):
        requests.append(
            CollateralRequest(
                url=qe_identity_url(base=pcs_base),
                purpose="tdx.qe_identity",
                media_type="application/json",
            )
        )
    if revocation == "off":
        return requests
    crl_issuers = {entry.crl.issuer for entry in have.crls}
    wanted: list[tuple[str, str]] = []
    if ca is not None and intermediate.subject not in crl_issuers:
        wanted.append((pck_crl_url(ca, base=pcs_base), f"tdx.pck_crl.{ca}"))
    if root_name not in crl_issuers:
        wanted.append((settings.base_url("intel_root_crl"), "tdx.root_ca_crl"))
    for url, purpose in wanted:
        requests.append(
            CollateralRequest(
                url=url,
                purpose=purpose,
                media_type="application/pkix-crl",
                required=revocation == "fetch",
                allow_network=revocation in ("fetch", "fetch-optional"),
            )
        )
    return requests
