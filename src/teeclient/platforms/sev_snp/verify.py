"""SEV-SNP verification: VEK chain to the pinned AMD roots, report signature, VEK ↔ report rules.

Pure: inputs (report bytes, collateral, trust store, ``now``) → ``SnpClaims`` or a typed error.
No I/O and no clock. The order follows specs/sev-snp.md §8 with one deliberate change: the
report signature is checked over the raw signed bytes *before* the report's fields are
interpreted, so tampered evidence is always reported as a signature failure, and no decision
is taken on unauthenticated content. Structure checks then run on authenticated bytes.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import NameOID, SignatureAlgorithmOID

from teeclient._time import require_aware
from teeclient._x509 import (
    check_validity,
    common_name,
    der,
    fingerprint,
    load_certificate,
    require_ca,
    require_not_revoked,
    verify_crl,
    verify_issued_by,
)
from teeclient.collateral.items import CollateralSet
from teeclient.errors import (
    BindingError,
    ChainExtensionError,
    ChainUntrustedError,
    CollateralMissingError,
    ParseError,
    ProductRequiredError,
    SnpChipIdMismatchError,
    SnpEndorsementMismatchError,
    SnpProductMismatchError,
    SnpProductUnknownError,
    SnpSignatureError,
    SnpTcbMismatchError,
    SnpUnsignedReportError,
)
from teeclient.platforms import VerifyOptions
from teeclient.platforms.sev_snp import abi, kds
from teeclient.platforms.sev_snp.abi import Product, SigningKey, SnpReport, TcbVersion
from teeclient.platforms.sev_snp.claims import HclBinding, RevocationInfo, SnpClaims, VekInfo
from teeclient.trust import AnchorCert, TrustStore

__all__ = ["SnpEvidence", "split_evidence", "verify", "verify_evidence"]

PLATFORM = "sev-snp"
_VEK_CN = {"SEV-VCEK": SigningKey.VCEK, "SEV-VLEK": SigningKey.VLEK}
_AMD_NAME = {
    NameOID.COUNTRY_NAME: "US",
    NameOID.STATE_OR_PROVINCE_NAME: "CA",
    NameOID.LOCALITY_NAME: "Santa Clara",
    NameOID.ORGANIZATION_NAME: "Advanced Micro Devices",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "Engineering",
}
_RSASSA_PSS = SignatureAlgorithmOID.RSASSA_PSS


@dataclass(frozen=True, slots=True, kw_only=True)
class SnpEvidence:
    """An SNP report as received: the 1184 report bytes plus what came wrapped around it."""

    report: bytes
    cert_table: tuple[abi.CertTableEntry, ...] = ()
    hcl: abi.HclReport | None = None


def split_evidence(data: bytes) -> SnpEvidence:
    """Recognise a plain report, an extended report (report + certificate table) or an HCL report.

    Raises:
        ParseError: too short, or a malformed certificate table or HCL wrapper.
    """
    if data[:4] == abi.HCL_MAGIC:
        hcl = abi.parse_hcl_report(data)
        return SnpEvidence(report=hcl.report, hcl=hcl)
    if len(data) < abi.REPORT_SIZE:
        raise ParseError(
            "an SEV-SNP report is 1184 bytes",
            platform=PLATFORM,
            field="report",
            expected=f">= {abi.REPORT_SIZE} bytes",
            actual=f"{len(data)} bytes",
        )
    if len(data) == abi.REPORT_SIZE:
        return SnpEvidence(report=bytes(data))
    table = abi.parse_cert_table(bytes(data[abi.REPORT_SIZE :]))
    return SnpEvidence(report=bytes(data[: abi.REPORT_SIZE]), cert_table=table)


def _coerce_product(product: Product | str | None) -> Product | None:
    if product is None or isinstance(product, Product):
        return product
    try:
        return Product(product.lower())
    except ValueError as exc:
        raise ProductRequiredError(
            "unknown product",
            platform=PLATFORM,
            field="product",
            expected="milan, genoa or turin",
            actual=product,
        ) from exc


@dataclass(frozen=True, slots=True)
class _VekFacts:
    """What a candidate certificate's bytes say (memoised by content hash)."""

    kind: SigningKey | None
    issuer_der: bytes
    subject: str
    issuer: str


@dataclass(frozen=True, slots=True)
class _Vek:
    cert: x509.Certificate
    kind: SigningKey
    source: str
    der: bytes
    digest: bytes
    facts: _VekFacts


def _facts(cert: x509.Certificate, digest: bytes, trust: TrustStore) -> _VekFacts:
    cached = trust.memo.get("snp.vek-facts", digest)
    if isinstance(cached, _VekFacts):
        return cached
    issuer_der = cert.issuer.public_bytes()
    kinds = {
        k for a in trust.by_subject(issuer_der) if (k := _intermediate_kind(a.anchor)) is not None
    }
    kind = next(iter(kinds)) if len(kinds) == 1 else _VEK_CN.get(common_name(cert.subject) or "")
    if kind is not None and trust.by_subject(cert.subject.public_bytes()):
        kind = None  # a pinned CA itself, not an endorsement key
    facts = _VekFacts(
        kind=kind,
        issuer_der=issuer_der,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
    )
    trust.memo.put("snp.vek-facts", digest, facts)
    return facts


def _intermediate_kind(anchor: str) -> SigningKey | None:
    """amd.<p>.ask → VCEK, amd.<p>.asvk → VLEK, anything else → None."""
    if not anchor.startswith("amd."):
        return None
    if anchor.endswith(".ask"):
        return SigningKey.VCEK
    if anchor.endswith(".asvk"):
        return SigningKey.VLEK
    return None


def _select_vek(
    evidence: SnpEvidence,
    certificates: list[tuple[x509.Certificate, str]],
    explicit: x509.Certificate | None,
    trust: TrustStore,
) -> _Vek:
    """Pick the VEK: any certificate issued by a pinned intermediate, or named SEV-VCEK/VLEK."""
    candidates: list[tuple[x509.Certificate, str]] = []
    if explicit is not None:
        candidates.append((explicit, "argument"))
    else:
        for entry in evidence.cert_table:
            if entry.role in ("vcek", "vlek"):
                cert = load_certificate(
                    entry.data, role=f"cert_table.{entry.role}", platform=PLATFORM
                )
                candidates.append((cert, f"cert_table:{entry.role}"))
        candidates.extend(certificates)
    veks: list[_Vek] = []
    seen: set[bytes] = set()
    for cert, source in candidates:
        encoded = der(cert)
        if encoded in seen:
            continue
        seen.add(encoded)
        digest = hashlib.sha256(encoded).digest()
        facts = _facts(cert, digest, trust)
        if facts.kind is not None:
            veks.append(_Vek(cert, facts.kind, source, encoded, digest, facts))
    if not veks:
        raise CollateralMissingError(
            "no VCEK or VLEK certificate was supplied",
            platform=PLATFORM,
            field="vek",
            expected="a certificate issued by a pinned AMD ASK/ASVK (collateral or cert table)",
            actual=f"{len(candidates)} other certificate(s)",
        )
    if len(veks) == 1:
        return veks[0]
    # Several candidates: pick by what the (not yet authenticated) report says; the pick is
    # then fully verified, so a wrong pick can only fail, never pass.
    raw = evidence.report
    signing_code = int.from_bytes(raw[0x48:0x4C], "little") >> 2 & 0x7
    wanted = {0: SigningKey.VCEK, 1: SigningKey.VLEK}.get(signing_code)
    reported = raw[0x180:0x188]
    chip = raw[0x1A0:0x1E0]
    for vek in veks:
        if vek.kind is not wanted:
            continue
        try:
            ext = _extensions(vek, trust)
        except ParseError:
            continue
        if (
            vek.kind is SigningKey.VCEK
            and ext.hwid is not None
            and chip[: len(ext.hwid)] != ext.hwid
        ):
            continue
        if ext.spl.get("ucode") != reported[7]:
            continue
        return vek
    raise CollateralMissingError(
        "none of the supplied endorsement keys matches the report",
        platform=PLATFORM,
        field="vek",
        expected=f"{wanted} for CHIP_ID {chip.hex()[:16]}… and REPORTED_TCB {reported.hex()}",
        actual=f"{len(veks)} candidate(s)",
    )


def _extensions(vek: _Vek, trust: TrustStore) -> kds.VekExtensions:
    """The VEK's AMD extensions, decoded once per certificate content."""
    cached = trust.memo.get("snp.vek-extensions", vek.digest)
    if isinstance(cached, kds.VekExtensions):
        return cached
    ext = kds.parse_vek_extensions(vek.cert)
    trust.memo.put("snp.vek-extensions", vek.digest, ext)
    return ext


def _check_amd_name(cert: x509.Certificate, role: str, expected_cn: str | None) -> None:
    for oid, value in _AMD_NAME.items():
        attrs = cert.subject.get_attributes_for_oid(oid)
        found = attrs[0].value if attrs else None
        if found != value:
            raise ChainExtensionError(
                f"{role} subject does not carry AMD's name attributes",
                platform=PLATFORM,
                field=f"{role}.subject.{oid._name}",
                expected=value,
                actual=str(found),
            )
    if expected_cn is not None and common_name(cert.subject) != expected_cn:
        raise ChainExtensionError(
            f"{role} has an unexpected common name",
            platform=PLATFORM,
            field=f"{role}.subject.CN",
            expected=expected_cn,
            actual=str(common_name(cert.subject)),
        )


def _anchor_names(product: Product, kind: SigningKey) -> tuple[str, str]:
    inter = "ask" if kind is SigningKey.VCEK else "asvk"
    return f"amd.{product.value}.ark", f"amd.{product.value}.{inter}"


def _find_chain(
    vek: _Vek, trust: TrustStore, requested: Product | None
) -> tuple[Product, AnchorCert, AnchorCert]:
    """Find (product, intermediate, ARK) among the pinned anchors by the VEK's issuer name.

    The answer depends only on the VEK's bytes and the store, so it is memoised per store.
    """
    key = vek.digest + (requested.value.encode() if requested is not None else b"")
    cached = trust.memo.get("snp.chain", hashlib.sha256(key).digest())
    if isinstance(cached, tuple):
        return cached
    found = _find_chain_uncached(vek, trust, requested)
    trust.memo.put("snp.chain", hashlib.sha256(key).digest(), found)
    return found


def _find_chain_uncached(
    vek: _Vek, trust: TrustStore, requested: Product | None
) -> tuple[Product, AnchorCert, AnchorCert]:
    matches: list[tuple[Product, AnchorCert]] = []
    for entry in trust.by_subject(vek.facts.issuer_der):
        for product in Product:
            if entry.anchor == _anchor_names(product, vek.kind)[1]:
                matches.append((product, entry))
    if requested is not None:
        chosen = [m for m in matches if m[0] is requested]
        if not chosen:
            prefix = "SEV-" if vek.kind is SigningKey.VCEK else "SEV-VLEK-"
            raise ChainUntrustedError(
                f"{vek.kind.value.upper()} is not issued by the pinned {requested.kds_name} "
                "intermediate",
                platform=PLATFORM,
                field="vek.issuer",
                expected=f"CN={prefix}{requested.kds_name}",
                actual=vek.cert.issuer.rfc4514_string(),
            )
        matches = chosen
    if not matches:
        raise ChainUntrustedError(
            f"{vek.kind.value.upper()} issuer is not a pinned AMD intermediate",
            platform=PLATFORM,
            field="vek.issuer",
            expected="SEV-<Milan|Genoa|Turin> (VCEK) or SEV-VLEK-<product> (VLEK)",
            actual=vek.cert.issuer.rfc4514_string(),
        )
    product, intermediate = matches[0]
    ark_name, _ = _anchor_names(product, vek.kind)
    arks = [
        a for a in trust.by_subject(intermediate.cert.issuer.public_bytes()) if a.anchor == ark_name
    ]
    if not arks:
        raise ChainUntrustedError(
            "pinned intermediate is not issued by the pinned ARK",
            platform=PLATFORM,
            field=ark_name,
            expected=intermediate.cert.issuer.rfc4514_string(),
        )
    return product, intermediate, arks[0]


def _check_supplied_cas(
    certificates: list[tuple[x509.Certificate, str]],
    evidence: SnpEvidence,
    trust: TrustStore,
    product: Product,
) -> None:
    """Supplied ASK/ASVK/ARK copies are never trusted; a copy that differs from the pin fails."""
    supplied = [c for c, _ in certificates]
    for entry in evidence.cert_table:
        if entry.role in ("ask", "ark"):
            supplied.append(
                load_certificate(entry.data, role=f"cert_table.{entry.role}", platform=PLATFORM)
            )
    prefix = f"amd.{product.value}."
    for cert in supplied:
        pinned = [
            a for a in trust.by_subject(cert.subject.public_bytes()) if a.anchor.startswith(prefix)
        ]
        if pinned and der(cert) not in {a.der for a in pinned}:
            raise ChainUntrustedError(
                "a supplied AMD CA certificate differs from the pinned one",
                platform=PLATFORM,
                field=str(common_name(cert.subject)),
                expected=f"pinned {pinned[0].digest.hex()}",
                actual=fingerprint(cert),
            )


def _verify_chain(
    vek: _Vek,
    intermediate: AnchorCert,
    ark: AnchorCert,
    product: Product,
    trust: TrustStore,
    now: datetime,
) -> None:
    inter_role = "ASK" if vek.kind is SigningKey.VCEK else "ASVK"
    vek_role = vek.kind.value.upper()
    # Signatures first (memoised by content hash), so any change to a signed byte of a
    # certificate is reported as a signature failure; then validity at `now` (never memoised).
    memo = trust.memo
    verify_issued_by(
        ark.cert,
        ark.cert,
        role="ARK",
        platform=PLATFORM,
        memo=memo,
        digests=(ark.digest, ark.digest),
    )
    verify_issued_by(
        intermediate.cert,
        ark.cert,
        role=inter_role,
        platform=PLATFORM,
        memo=memo,
        digests=(intermediate.digest, ark.digest),
    )
    verify_issued_by(
        vek.cert,
        intermediate.cert,
        role=vek_role,
        platform=PLATFORM,
        memo=memo,
        digests=(vek.digest, intermediate.digest),
    )
    check_validity(ark.cert, now, role="ARK", platform=PLATFORM)
    check_validity(intermediate.cert, now, role=inter_role, platform=PLATFORM)
    check_validity(vek.cert, now, role=vek_role, platform=PLATFORM)
    # Names, constraints and key types depend only on the three certificates' bytes.
    static_key = hashlib.sha256(vek.digest + intermediate.digest + ark.digest).digest()
    if memo.get("snp.chain-static", static_key) is None:
        _check_chain_static(vek, intermediate.cert, ark.cert, product, inter_role, vek_role)
        memo.put("snp.chain-static", static_key, True)


def _check_chain_static(
    vek: _Vek,
    intermediate: x509.Certificate,
    ark: x509.Certificate,
    product: Product,
    inter_role: str,
    vek_role: str,
) -> None:
    """Names and constraints (go-sev-guest validateRootX509 / validateKDSCertSubject): the
    anchors are pinned, but a caller-built store may hold anything."""
    inter_cn = (
        f"SEV-{product.kds_name}" if vek.kind is SigningKey.VCEK else f"SEV-VLEK-{product.kds_name}"
    )
    _check_amd_name(ark, "ARK", f"ARK-{product.kds_name}")
    _check_amd_name(intermediate, inter_role, inter_cn)
    _check_amd_name(vek.cert, vek_role, "SEV-VCEK" if vek.kind is SigningKey.VCEK else "SEV-VLEK")
    require_ca(ark, role="ARK", platform=PLATFORM)
    require_ca(intermediate, role=inter_role, platform=PLATFORM, path_length=0)
    # The VEK itself: X.509 v3, RSASSA-PSS/SHA-384 by the intermediate, an EC P-384 key.
    if vek.cert.version is not x509.Version.v3:
        raise ChainExtensionError(
            f"{vek_role} is not an X.509 v3 certificate",
            platform=PLATFORM,
            field=f"{vek_role}.version",
            expected="v3",
            actual=vek.cert.version.name,
        )
    if vek.cert.signature_algorithm_oid != _RSASSA_PSS or not isinstance(
        vek.cert.signature_hash_algorithm, hashes.SHA384
    ):
        raise ChainExtensionError(
            f"{vek_role} is not signed with RSASSA-PSS SHA-384",
            platform=PLATFORM,
            field=f"{vek_role}.signatureAlgorithm",
            expected="RSASSA-PSS with SHA-384",
            actual=vek.cert.signature_algorithm_oid.dotted_string,
        )
    try:
        key = vek.cert.public_key()
    except ValueError as exc:
        raise ChainExtensionError(
            f"{vek_role} public key cannot be parsed",
            platform=PLATFORM,
            field=f"{vek_role}.publicKey",
            expected="EC secp384r1",
        ) from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP384R1):
        raise ChainExtensionError(
            f"{vek_role} key is not ECDSA P-384",
            platform=PLATFORM,
            field=f"{vek_role}.publicKey",
            expected="EC secp384r1",
            actual=type(key).__name__,
        )


def _verify_signature(raw: bytes, vek: _Vek) -> None:
    components = abi.signature_components(raw)
    if components is None:
        raise SnpSignatureError(
            "report signature components exceed 48 bytes",
            platform=PLATFORM,
            field="SIGNATURE",
            offset=abi.SIGNATURE_OFFSET,
            expected="R and S < 2^384 (upper 24 bytes zero)",
        )
    key = vek.cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)  # checked in _verify_chain
    signature = utils.encode_dss_signature(*components)
    try:
        key.verify(signature, raw[: abi.SIGNED_SIZE], ec.ECDSA(hashes.SHA384()))
    except InvalidSignature as exc:
        raise SnpSignatureError(
            f"report signature does not verify with the {vek.kind.value.upper()} public key",
            platform=PLATFORM,
            field="SIGNATURE",
            expected=f"valid ECDSA P-384 signature by {vek.kind.value.upper()} "
            f"{vek.digest.hex()[:16]}…",
        ) from exc


def _resolve_product(
    report: SnpReport, requested: Product | None, vek_product: Product
) -> tuple[Product, str]:
    if report.version >= 3:
        family, model = report.cpuid_fam_id, report.cpuid_mod_id
        cpuid = report.cpuid_product
        if cpuid is None:
            raise SnpProductUnknownError(
                "report CPUID names no known SEV-SNP product",
                platform=PLATFORM,
                field="CPUID_FAM_ID/CPUID_MOD_ID",
                expected="0x19/0x01 (Milan), 0x19/0x11 (Genoa), 0x1a/0x02 (Turin)",
                actual=f"{family:#04x}/{model:#04x}",
            )
        if requested is not None and requested is not cpuid:
            raise SnpProductMismatchError(
                "requested product contradicts the report's CPUID",
                platform=PLATFORM,
                field="product",
                expected=cpuid.value,
                actual=requested.value,
            )
        if cpuid is not vek_product:
            raise SnpEndorsementMismatchError(
                "endorsement key is issued for another product than the report's CPUID",
                platform=PLATFORM,
                field="vek.issuer",
                expected=cpuid.kds_name,
                actual=vek_product.kds_name,
            )
        return cpuid, "cpuid"
    if requested is None:
        raise ProductRequiredError(
            "report version 2 carries no CPUID: the product must be given "
            f"(the endorsement key is issued by the {vek_product.kds_name} chain: "
            f"use --product {vek_product.value})",
            platform=PLATFORM,
            field="product",
            expected="milan, genoa or turin",
            actual="not given",
        )
    return requested, "caller"


def _check_endorsement(
    report: SnpReport, vek: _Vek, product: Product, trust: TrustStore
) -> tuple[kds.VekExtensions, bool]:
    ext = _extensions(vek, trust)
    role = vek.kind.value.upper()
    if report.signer_info.signing_key is SigningKey.NONE:
        raise SnpUnsignedReportError(
            "report declares itself unsigned (SIGNING_KEY = 7)",
            platform=PLATFORM,
            field="SIGNER_INFO.SIGNING_KEY",
            expected="0 or 1",
            actual=7,
        )
    if report.signer_info.signing_key is not vek.kind:
        raise SnpEndorsementMismatchError(
            "report was signed by another key kind than the certificate supplied",
            platform=PLATFORM,
            field="SIGNER_INFO.SIGNING_KEY",
            expected=vek.kind.value,
            actual=report.signer_info.signing_key.value,
        )
    if ext.product_line is None or ext.product_line.lower() != product.value:
        raise SnpEndorsementMismatchError(
            f"{role} productName does not name the report's product",
            platform=PLATFORM,
            field=f"{role}.productName",
            expected=product.kds_name,
            actual=str(ext.product_name),
        )
    allowed_struct = {Product.MILAN: {0}, Product.GENOA: {0}, Product.TURIN: {1}}[product]
    if vek.kind is SigningKey.VLEK and product is Product.TURIN:
        allowed_struct = {0, 1}  # no public Turin VLEK sample; accept either layout version
    if ext.struct_version not in allowed_struct:
        raise SnpEndorsementMismatchError(
            f"{role} structVersion does not fit the product",
            platform=PLATFORM,
            field=f"{role}.structVersion",
            expected=" or ".join(str(v) for v in sorted(allowed_struct)),
            actual=str(ext.struct_version),
        )
    reported = abi.decode_tcb(report.reported_tcb, product)
    _check_spls(ext, reported, role)
    current = abi.decode_tcb(report.current_tcb, product)
    if not current.dominates(reported):
        raise SnpTcbMismatchError(
            "REPORTED_TCB exceeds CURRENT_TCB",
            platform=PLATFORM,
            field="REPORTED_TCB",
            expected=f"<= CURRENT_TCB {current.parts()}",
            actual=str(reported.parts()),
        )
    chip_bound = True
    if vek.kind is SigningKey.VCEK:
        hwid_len = 8 if product is Product.TURIN else 64
        if ext.hwid is None or len(ext.hwid) != hwid_len:
            raise SnpEndorsementMismatchError(
                "VCEK hwID is missing or has the wrong length for the product",
                platform=PLATFORM,
                field="VCEK.hwID",
                expected=f"{hwid_len} bytes",
                actual="absent" if ext.hwid is None else f"{len(ext.hwid)} bytes",
            )
        chip = report.chip_id
        if report.signer_info.mask_chip_key and chip == bytes(64):
            chip_bound = False
        else:
            tail_ok = product is not Product.TURIN or chip[8:] == bytes(56)
            if not tail_ok or not hmac.compare_digest(chip[:hwid_len], ext.hwid):
                raise SnpChipIdMismatchError(
                    "VCEK hwID does not equal the report's CHIP_ID",
                    platform=PLATFORM,
                    field="CHIP_ID",
                    expected=ext.hwid.hex() + ("00" * 56 if product is Product.TURIN else ""),
                    actual=chip.hex(),
                )
    else:
        if ext.csp_id is None or ext.hwid is not None:
            raise SnpEndorsementMismatchError(
                "a VLEK must carry cspID and no hwID",
                platform=PLATFORM,
                field="VLEK.cspID/hwID",
                expected="cspID present, hwID absent",
                actual=f"cspID {'present' if ext.csp_id else 'absent'}, "
                f"hwID {'present' if ext.hwid is not None else 'absent'}",
            )
        chip_bound = False
    return ext, chip_bound


def _check_spls(ext: kds.VekExtensions, reported: TcbVersion, role: str) -> None:
    def mismatch(name: str, expected: int, actual: int | None) -> SnpTcbMismatchError:
        return SnpTcbMismatchError(
            f"{role} TCB does not equal REPORTED_TCB",
            platform=PLATFORM,
            field=f"{role}.{name}SPL",
            expected=expected,
            actual="absent" if actual is None else str(actual),
        )

    for name, value in reported.parts().items():
        if ext.spl.get(name) != value:
            raise mismatch(name, value, ext.spl.get(name))
    if reported.fmc is None and "fmc" in ext.spl:
        raise mismatch("fmc", 0, ext.spl["fmc"])
    # Reserved TCB bytes ↔ spl4..spl7 (Milan/Genoa bytes 2..5; Turin bytes 4..6 ↔ spl5..7).
    names: tuple[str, ...] = ("spl4", "spl5", "spl6", "spl7")
    if reported.fmc is not None:
        if ext.spl.get("spl4", 0) != 0:
            raise mismatch("spl4", 0, ext.spl.get("spl4"))
        names = ("spl5", "spl6", "spl7")
    for name, byte in zip(names, reported.reserved, strict=True):
        if ext.spl.get(name, 0) != byte:
            raise mismatch(name, byte, ext.spl.get(name))


def _check_crls(
    collateral: CollateralSet,
    intermediate: x509.Certificate,
    ark: x509.Certificate,
    inter_role: str,
) -> RevocationInfo:
    crls = collateral.crls()
    if not crls:
        return RevocationInfo(checked=False)
    ark_subject = ark.subject.public_bytes()
    relevant = [(crl, src) for crl, src in crls if crl.issuer.public_bytes() == ark_subject]
    if not relevant:
        return RevocationInfo(checked=False)
    best = None
    for crl, source in relevant:
        status = verify_crl(crl, ark, role="AMD CRL", platform=PLATFORM)
        require_not_revoked(crl, intermediate, role=inter_role, platform=PLATFORM)
        if best is None or status.this_update > best[0].this_update:
            best = (status, source)
    assert best is not None
    status, source = best
    return RevocationInfo(
        checked=True,
        crl_sha256=status.sha256,
        this_update=status.this_update,
        next_update=status.next_update,
        source=source,
    )


def verify(
    evidence: bytes | SnpEvidence,
    *,
    trust: TrustStore,
    now: datetime,
    collateral: CollateralSet | None = None,
    vek: x509.Certificate | None = None,
    product: Product | str | None = None,
) -> SnpClaims:
    """Verify an SEV-SNP report and return its claims (specs/sev-snp.md §8 steps 1–11).

    ``evidence`` is a report, an extended report or an Azure HCL report. The VCEK/VLEK is
    ``vek`` or is taken from the certificate table or ``collateral``; supplied AMD CA
    certificates are only compared with the pinned ones; CRLs in ``collateral`` issued by the
    product's ARK are verified and applied. ``product`` is required for version 2 reports.

    Raises:
        ParseError: malformed report, certificate or collateral.
        ChainError: the VEK does not chain to the pinned roots at ``now``, or is revoked.
        SnpSignatureError: the report signature does not verify.
        EndorsementError: the VEK does not match the report (TCB, CHIP_ID, product, kind).
        CollateralError: no VEK supplied, or a CRL is not signed by the ARK.
        ProductRequiredError: a version 2 report and no product.
    """
    now = require_aware(now)
    collateral = collateral if collateral is not None else CollateralSet()
    ev = evidence if isinstance(evidence, SnpEvidence) else split_evidence(evidence)
    requested = _coerce_product(product)
    raw = ev.report
    # 1–4: authenticate first — VEK chain, then the signature over the raw signed bytes.
    certificates = collateral.certificates() if vek is None else []
    chosen = _select_vek(ev, certificates, vek, trust)
    vek_product, intermediate, ark = _find_chain(chosen, trust, requested)
    _verify_chain(chosen, intermediate, ark, vek_product, trust, now)
    _verify_signature(raw, chosen)
    # 5–6: structure of the authenticated report, product, supplied CA copies.
    report = abi.parse_report(raw)
    resolved, source = _resolve_product(report, requested, vek_product)
    _check_supplied_cas(certificates, ev, trust, resolved)
    # 7–10: the endorsement matches the report.
    ext, chip_bound = _check_endorsement(report, chosen, resolved, trust)
    inter_role = "ASK" if chosen.kind is SigningKey.VCEK else "ASVK"
    revocation = _check_crls(collateral, intermediate.cert, ark.cert, inter_role)
    hcl_binding = _check_hcl(ev, report)
    return SnpClaims(
        product=resolved,
        product_source=source,
        version=report.version,
        guest_svn=report.guest_svn,
        policy=report.policy,
        family_id=report.family_id.hex(),
        image_id=report.image_id.hex(),
        vmpl=report.vmpl,
        signature_algo=report.signature_algo,
        current_tcb=abi.decode_tcb(report.current_tcb, resolved),
        reported_tcb=abi.decode_tcb(report.reported_tcb, resolved),
        committed_tcb=abi.decode_tcb(report.committed_tcb, resolved),
        launch_tcb=abi.decode_tcb(report.launch_tcb, resolved),
        platform_info=report.platform_info,
        signer_info=report.signer_info,
        report_data=report.report_data.hex(),
        measurement=report.measurement.hex(),
        host_data=report.host_data.hex(),
        id_key_digest=report.id_key_digest.hex(),
        author_key_digest=report.author_key_digest.hex(),
        report_id=report.report_id.hex(),
        report_id_ma=report.report_id_ma.hex(),
        chip_id=report.chip_id.hex(),
        chip_id_bound=chip_bound,
        cpuid_fam_id=report.cpuid_fam_id,
        cpuid_mod_id=report.cpuid_mod_id,
        cpuid_step=report.cpuid_step,
        current_major=report.current_major,
        current_minor=report.current_minor,
        current_build=report.current_build,
        committed_major=report.committed_major,
        committed_minor=report.committed_minor,
        committed_build=report.committed_build,
        launch_mit_vector=report.launch_mit_vector,
        current_mit_vector=report.current_mit_vector,
        vek=VekInfo(
            kind=chosen.kind,
            subject=chosen.facts.subject,
            issuer=chosen.facts.issuer,
            not_before=chosen.cert.not_valid_before_utc,
            not_after=chosen.cert.not_valid_after_utc,
            sha256=chosen.digest.hex(),
            product_name=ext.product_name,
            struct_version=ext.struct_version,
            hwid=ext.hwid.hex() if ext.hwid is not None else None,
            csp_id=ext.csp_id,
            source=chosen.source,
        ),
        chain=(chosen.digest.hex(), intermediate.digest.hex(), ark.digest.hex()),
        revocation=revocation,
        report_sha256=hashlib.sha256(raw).hexdigest(),
        hcl=hcl_binding,
    )


def _check_hcl(ev: SnpEvidence, report: SnpReport) -> HclBinding | None:
    """Azure HCL: REPORT_DATA[0:32] = SHA-256(runtime claims), REPORT_DATA[32:64] = 0."""
    if ev.hcl is None:
        return None
    digest = hashlib.sha256(ev.hcl.runtime_claims).digest()
    if not hmac.compare_digest(report.report_data[:32], digest) or any(report.report_data[32:]):
        raise BindingError(
            "REPORT_DATA does not bind the HCL runtime claims",
            platform=PLATFORM,
            field="REPORT_DATA",
            expected=digest.hex() + "00" * 32,
            actual=report.report_data.hex(),
        )
    return HclBinding(
        runtime_claims_sha256=digest.hex(), runtime_claims_size=len(ev.hcl.runtime_claims)
    )


def verify_evidence(
    data: bytes,
    *,
    collateral: CollateralSet,
    trust: TrustStore,
    now: datetime,
    options: VerifyOptions,
) -> SnpClaims:
    """Registry entry point (see ``teeclient.platforms.verify_evidence``)."""
    return verify(data, trust=trust, now=now, collateral=collateral, product=options.product)
