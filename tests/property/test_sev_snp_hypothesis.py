"""Hypothesis: any bytes (and any policy text) into every parser raise only TeeclientError.

Random edits of the signed region of a real report are always rejected by verify().
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teeclient._der import read_ia5, read_integer, read_tlv
from teeclient.collateral.items import CollateralItem, classify
from teeclient.errors import SnpSignatureError, TeeclientError
from teeclient.inspection import describe
from teeclient.platforms.sev_snp.abi import parse_cert_table, parse_hcl_report, parse_report
from teeclient.platforms.sev_snp.verify import split_evidence, verify
from teeclient.policy.load import parse_policy
from teeclient.policy.model import Policy
from teeclient.trust import TrustStore
from tests._pki import amd_pki
from tests._snp import SNP, Vector, vector_names
from tests._toml import dumps

FAST = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])

pytestmark = pytest.mark.filterwarnings("ignore:Attribute's length:UserWarning")


def only_teeclient_errors(parse: Callable[[], object]) -> None:
    """Run ``parse``: returning or raising a TeeclientError is fine, anything else fails."""
    with contextlib.suppress(TeeclientError):
        parse()


@cache
def reports() -> tuple[bytes, ...]:
    return tuple(Vector(n).report for n in vector_names())


@cache
def certificates() -> tuple[bytes, ...]:
    """Real VEKs (DER), the pinned roots (DER), a generated CRL (DER)."""
    out = [Vector(n).vek_bytes for n in vector_names() if Vector(n).vek_path.suffix == ".der"]
    for path in sorted((SNP / "roots").glob("*.pem")):
        out += [
            c.public_bytes(Encoding.DER) for c in x509.load_pem_x509_certificates(path.read_bytes())
        ]
    pki = amd_pki("genoa")
    out.append(pki.crl(revoked=[pki.ask.serial_number, 5]))
    return tuple(out)


@st.composite
def edited(
    draw: st.DrawFn, sources: Callable[[], tuple[bytes, ...]], lo: int = 0, hi: int | None = None
) -> bytes:
    """One of ``sources()`` with 1–8 bytes changed (xor with a non-zero mask) in [lo, hi)."""
    data = bytearray(draw(st.sampled_from(sources())))
    top = len(data) if hi is None else hi
    for offset in draw(st.lists(st.integers(lo, top - 1), min_size=1, max_size=8, unique=True)):
        data[offset] ^= draw(st.integers(1, 255))
    if draw(st.booleans()) and hi is None:
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] if draw(st.booleans()) else data + draw(st.binary(max_size=64))
    return bytes(data)


report_bytes = st.one_of(
    st.binary(max_size=2048),
    st.binary(min_size=1184, max_size=1184),
    st.binary(min_size=1184, max_size=1184).map(lambda b: b"\x05\x00\x00\x00" + b[4:]),
    edited(reports),
)


# --- SEV-SNP parsers ------------------------------------------------------------------------


@FAST
@given(report_bytes)
def test_parse_report(data: bytes) -> None:
    only_teeclient_errors(lambda: parse_report(data))


@FAST
@given(
    st.one_of(
        st.binary(max_size=1024),
        st.lists(
            st.tuples(
                st.binary(min_size=16, max_size=16), st.integers(0, 600), st.integers(0, 600)
            ),
            max_size=6,
        ).map(
            lambda es: (
                b"".join(g + o.to_bytes(4, "little") + n.to_bytes(4, "little") for g, o, n in es)
                + bytes(24)
                + bytes(range(256))
            )
        ),
    )
)
def test_parse_cert_table(data: bytes) -> None:
    only_teeclient_errors(lambda: parse_cert_table(data))


hcl_bytes = st.one_of(
    st.binary(max_size=2048).map(lambda b: b"HCLA" + b),
    st.binary(max_size=64),
    edited(lambda: ((SNP / "milan-v2-azure-hcl" / "hcl_report.bin").read_bytes(),)),
)


@FAST
@given(hcl_bytes)
def test_parse_hcl_report(data: bytes) -> None:
    only_teeclient_errors(lambda: parse_hcl_report(data))


@FAST
@given(
    st.one_of(
        report_bytes,
        hcl_bytes,
        st.tuples(st.sampled_from(reports()), st.binary(max_size=512)).map(lambda t: t[0] + t[1]),
    )
)
def test_split_evidence(data: bytes) -> None:
    only_teeclient_errors(lambda: split_evidence(data))


# --- DER primitives --------------------------------------------------------------------------

der_bytes = st.one_of(
    st.binary(max_size=64),
    st.tuples(
        st.sampled_from([0x02, 0x04, 0x16, 0x0C, 0x30, 0x1F]),
        st.binary(max_size=8),
        st.binary(max_size=40),
    ).map(lambda t: bytes([t[0]]) + t[1] + t[2]),
)


@FAST
@given(der_bytes, st.integers(-2, 70))
def test_der_readers(data: bytes, offset: int) -> None:
    only_teeclient_errors(lambda: read_tlv(data, max(offset, 0), field="f", platform="t"))
    only_teeclient_errors(lambda: read_integer(data, field="f", platform="t"))
    only_teeclient_errors(lambda: read_ia5(data, field="f", platform="t"))


# --- collateral ---------------------------------------------------------------------------

collateral_bytes = st.one_of(
    st.binary(max_size=512),
    st.binary(max_size=512).map(lambda b: b"\x30" + b),
    edited(certificates),
    edited(certificates).map(
        lambda d: (
            b"-----BEGIN CERTIFICATE-----\n"
            + __import__("base64").encodebytes(d)
            + b"-----END CERTIFICATE-----\n"
        )
    ),
    edited(certificates).map(
        lambda d: (
            b"-----BEGIN X509 CRL-----\n"
            + __import__("base64").encodebytes(d)
            + b"-----END X509 CRL-----\n"
        )
    ),
    st.binary(max_size=200).map(lambda b: b"-----BEGIN CERTIFICATE-----\n" + b),
)


@SLOW
@given(collateral_bytes)
def test_collateral_items(data: bytes) -> None:
    classify(data)  # never raises at all
    item = CollateralItem(data=data, source="fuzz")
    only_teeclient_errors(item.certificates)
    only_teeclient_errors(item.crls)


@SLOW
@given(st.one_of(collateral_bytes, report_bytes))
def test_inspect_describe(data: bytes) -> None:
    only_teeclient_errors(lambda: describe(data, source="fuzz"))


# --- verify: random edits of the signed region never verify ---------------------------------


@cache
def store() -> TrustStore:
    return TrustStore.vendor()


@SLOW
@given(st.sampled_from(vector_names()), st.data())
def test_verify_rejects_edited_signed_region(name: str, data: st.DataObject) -> None:
    vector = Vector(name)
    report = data.draw(edited(lambda: (vector.report,), 0, 0x2A0))
    assert report != vector.report
    with pytest.raises(SnpSignatureError):
        verify(
            report,
            trust=store(),
            now=vector.now,
            collateral=vector.collateral(),
            product=vector.v2_product,
        )


@SLOW
@given(st.sampled_from(vector_names()), st.data())
def test_verify_any_edit_raises_only_teeclient_errors(name: str, data: st.DataObject) -> None:
    vector = Vector(name)
    report = data.draw(edited(lambda: (vector.report,)))
    vek = data.draw(st.one_of(st.just(vector.vek_bytes), edited(lambda: (vector.vek_bytes,))))
    item = CollateralItem(data=vek, source="fuzz")
    from teeclient.collateral.items import CollateralSet

    try:
        verify(
            report,
            trust=store(),
            now=vector.now,
            collateral=CollateralSet.of([item]),
            product=vector.v2_product,
        )
    except TeeclientError:
        return
    # only the untouched pair may verify
    assert report == vector.report
    assert vek == vector.vek_bytes


# --- policy ------------------------------------------------------------------------------------


@FAST
@given(st.text(max_size=400))
def test_parse_policy_any_text(text: str) -> None:
    only_teeclient_errors(lambda: parse_policy(text))


@FAST
@given(
    st.lists(
        st.sampled_from(
            [
                "version = 1\n",
                "[[sev_snp]]\n",
                "[revocation]\n",
                "[sev_snp.guest_policy]\n",
                "vmpl = [0, 1]\n",
                "name = 'x'\n",
                "measurement = []\n",
                "min_tcb = { bl = 1 }\n",
                "= 1\n",
                'amd_crl = "off"\n',
                'allow = ["smt"]\n',
                "[[",
                "}",
            ]
        ),
        max_size=12,
    ).map("".join)
)
def test_parse_policy_fragments(text: str) -> None:
    only_teeclient_errors(lambda: parse_policy(text))


KEYS = [
    "version",
    "name",
    "description",
    "revocation",
    "amd_crl",
    "sev_snp",
    "products",
    "signing_keys",
    "measurement",
    "host_data",
    "family_id",
    "image_id",
    "report_id",
    "report_id_ma",
    "report_data",
    "chip_ids",
    "allow_masked_chip_id",
    "vmpl",
    "min_guest_svn",
    "guest_policy",
    "platform_info",
    "min_tcb",
    "min_launch_tcb",
    "min_firmware",
    "permit_provisional_firmware",
    "require_id_block",
    "require_author_key",
    "trusted_id_key_hashes",
    "trusted_author_key_hashes",
    "min_launch_mitigation_vector",
    "min_current_mitigation_vector",
    "warn_only",
    "min_abi",
    "allow",
    "require",
    "unknown_bits",
    "fmc",
    "bl",
    "tee",
    "snp",
    "ucode",
    "api",
    "build",
]

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12),
    st.sampled_from(
        [
            "milan",
            "vcek",
            "smt",
            "debug",
            "warn",
            "1.55",
            "1.55.43",
            "0x1",
            "sev_snp.vmpl",
            "allow-stale-until:1d",
            "ab" * 48,
            "00" * 64,
        ]
    ),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(min_size=1, max_size=8))
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(keys, children, max_size=3),
    ),
    max_leaves=8,
)
rules = st.dictionaries(keys, values, max_size=6)
documents = st.tuples(
    st.fixed_dictionaries(
        {},
        optional={
            "version": st.one_of(st.just(1), scalars),
            "name": scalars,
            "revocation": st.dictionaries(st.sampled_from(["amd_crl", "x"]), scalars, max_size=2),
            "sev_snp": st.lists(rules, max_size=3),
        },
    ),
    st.dictionaries(keys, values, max_size=1),
).map(lambda t: {**t[1], **t[0]})


@SLOW
@given(documents)
def test_parse_policy_structures(doc: dict[str, Any]) -> None:
    try:
        text = dumps(doc)
    except TypeError:  # a shape the tiny writer does not support (never happens here)
        raise AssertionError(doc) from None
    try:
        policy = parse_policy(text)
    except TeeclientError:
        return
    assert isinstance(policy, Policy)
