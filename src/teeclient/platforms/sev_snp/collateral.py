"""What an SEV-SNP report needs from AMD KDS: pure planning of collateral requests.

Reads the (not yet authenticated) report only to build URLs; everything fetched is verified
afterwards like any supplied collateral. The ASK/ASVK and ARK are pinned, so the KDS
``cert_chain`` is never needed. VLEKs are not downloadable (they come with the evidence).
"""

from __future__ import annotations

from teeclient._x509 import common_name
from teeclient.collateral.items import CollateralRequest, CollateralSet, ItemKind
from teeclient.collateral.settings import CollateralSettings
from teeclient.platforms import VerifyOptions
from teeclient.platforms.sev_snp import abi, kds
from teeclient.platforms.sev_snp.abi import Product, SigningKey
from teeclient.platforms.sev_snp.verify import split_evidence

__all__ = ["plan"]

_VEK_NAMES = frozenset({"SEV-VCEK", "SEV-VLEK"})


def _has_vek(supplied: CollateralSet, cert_table: tuple[abi.CertTableEntry, ...]) -> bool:
    # Read certificates strictly: a corrupt supplied item is reported, never planned around.
    certificates = supplied.certificates()
    if any(e.role in ("vcek", "vlek") for e in cert_table):
        return True
    return any(common_name(cert.subject) in _VEK_NAMES for cert, _ in certificates)


def _has_crl(supplied: CollateralSet) -> bool:
    return any(
        item.kind in (ItemKind.CRL, ItemKind.PEM_BUNDLE) and item.crls() for item in supplied
    )


def plan(
    data: bytes,
    *,
    supplied: CollateralSet,
    options: VerifyOptions,
    settings: CollateralSettings,
    revocation: str,
) -> list[CollateralRequest]:
    """The KDS requests for this report: its VCEK (unless supplied) and the CRL.

    ``revocation`` is ``fetch`` (CRL required, fetched), ``fetch-optional`` (fetched, not
    required), ``cached`` (from a bundle or the cache only) or ``off``.

    Raises:
        ParseError: the evidence is not an SEV-SNP report.
    """
    evidence = split_evidence(data)
    raw = evidence.report
    version = int.from_bytes(raw[0:4], "little")
    signing = {0: SigningKey.VCEK, 1: SigningKey.VLEK}.get(raw[0x48] >> 2 & 0x7)
    product: Product | None = None
    if version >= 3:
        product = abi.product_from_cpuid(raw[0x188], raw[0x189])
    elif options.product:
        try:
            product = Product(options.product.lower())
        except ValueError:
            product = None
    if product is None or signing is None:
        return []
    base = settings.base_url("amd_kds")
    requests: list[CollateralRequest] = []
    if signing is SigningKey.VCEK and not _has_vek(supplied, evidence.cert_table):
        reported = abi.decode_tcb(raw[0x180:0x188], product)
        requests.append(
            CollateralRequest(
                url=kds.vcek_url(product, raw[0x1A0:0x1E0], reported, base=base),
                purpose=f"sev-snp.vcek.{product.value}",
                media_type="application/pkix-cert",
                required=True,
            )
        )
    if revocation != "off" and not _has_crl(supplied):
        requests.append(
            CollateralRequest(
                url=kds.crl_url(product, signing, base=base),
                purpose=f"sev-snp.crl.{product.value}.{signing.value}",
                media_type="application/pkix-crl",
                required=revocation == "fetch",
                allow_network=revocation in ("fetch", "fetch-optional"),
            )
        )
    return requests
