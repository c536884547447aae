"""SEV-SNP report parsing (specs/sev-snp.md §1–§4, §5.6, §10.12): real reports and built ones."""

from __future__ import annotations

import hashlib
import re
import struct
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from teeclient.errors import ParseError, UnsupportedFormatError
from teeclient.platforms.sev_snp import abi
from teeclient.platforms.sev_snp.abi import (
    Product,
    SigningKey,
    decode_tcb,
    parse_cert_table,
    parse_hcl_report,
    parse_report,
    signature_components,
)
from teeclient.testing.evidence import SnpReportSpec, tcb_bytes
from tests._snp import ROOTS, SNP, Vector, spec_tcb, vector_names

MALFORMED = "evidence.malformed"
UNSUPPORTED = "evidence.unsupported"

# specs/sev-snp.md §5.6
GUID_VCEK = uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd")
GUID_VLEK = uuid.UUID("a8074bc2-a25a-483e-aae6-39c045a0b8a1")
GUID_ASK = uuid.UUID("4ab7b379-bbac-4fe4-a02f-05aef327c782")
GUID_ARK = uuid.UUID("c0b406a4-a803-4952-9743-3fb6014cd0ae")


def _hex(value: bytes) -> str:
    return value.hex()


# --- real reports: every field equals expectations.json ---------------------------------------


@pytest.mark.parametrize("name", vector_names())
def test_real_report_fields(name: str) -> None:
    vector = Vector(name)
    data = vector.report
    report = parse_report(data)
    fields = vector.fields
    exp = vector.exp
    assert hashlib.sha256(data).hexdigest() == exp["report_sha256"]
    assert report.raw == data
    assert report.signed_bytes == data[:0x2A0]
    assert report.version == fields["version"] == exp["report_version"]
    assert report.guest_svn == fields["guest_svn"]
    assert report.policy.raw == int(fields["policy"], 16)
    decoded = fields["policy_decoded"]
    assert f"{report.policy.abi_major}.{report.policy.abi_minor}" == decoded["abi"]
    for flag in ("smt", "migrate_ma", "debug", "single_socket"):
        assert getattr(report.policy, flag) is decoded[flag], flag
    assert bool(report.policy.raw >> 17 & 1) is decoded["mbo17"]
    assert report.vmpl == fields["vmpl"]
    assert report.signature_algo == fields["signature_algo"]
    for tcb in ("current_tcb", "reported_tcb", "committed_tcb", "launch_tcb"):
        assert _hex(getattr(report, tcb)) == fields[tcb], tcb
    assert report.platform_info.raw == int(fields["platform_info"], 16)
    assert report.signer_info.raw == int(fields["signer_info"], 16)
    assert report.signer_info.signing_key.value == exp["signing_key"].lower()
    assert report.signer_info.mask_chip_key is bool(exp["mask_chip_key"])
    assert report.signer_info.author_key_en is bool(exp["author_key_en"])
    for name_ in (
        "measurement",
        "report_data",
        "host_data",
        "family_id",
        "image_id",
        "id_key_digest",
        "author_key_digest",
        "report_id",
        "report_id_ma",
        "chip_id",
    ):
        assert _hex(getattr(report, name_)) == fields[name_], name_
    assert report.current_version == fields["current_version"]
    assert report.committed_version == fields["committed_version"]
    for vec in ("launch_mit_vector", "current_mit_vector"):
        want = fields[vec]
        got = getattr(report, vec)
        assert got == (None if want is None else int(want, 16)), vec
    if exp["cpuid_fms"] is None:
        assert (report.cpuid_fam_id, report.cpuid_mod_id, report.cpuid_step) == (None,) * 3
        assert report.cpuid_product is None
    else:
        m = re.fullmatch(
            r"fam=(0x[0-9a-f]+) model=(0x[0-9a-f]+) step=(0x[0-9a-f]+)", exp["cpuid_fms"]
        )
        assert m is not None
        assert report.cpuid_fam_id == int(m.group(1), 16)
        assert report.cpuid_mod_id == int(m.group(2), 16)
        assert report.cpuid_step == int(m.group(3), 16)
        assert report.cpuid_product is Product(vector.product)
    # The signature components read back as the little-endian integers of §1.
    assert signature_components(data) == (
        int.from_bytes(data[0x2A0:0x2E8], "little"),
        int.from_bytes(data[0x2E8:0x330], "little"),
    )
    assert report.signature_r == data[0x2A0:0x2E8]
    assert report.signature_s == data[0x2E8:0x330]


@pytest.mark.parametrize("name", vector_names())
def test_real_report_tcbs_decode_per_product(name: str) -> None:
    vector = Vector(name)
    report = parse_report(vector.report)
    product = Product(vector.product)
    for tcb in ("current_tcb", "reported_tcb"):
        decoded = decode_tcb(getattr(report, tcb), product)
        assert decoded.parts() == vector.fields[f"{tcb}_decoded"]
        assert decoded.to_dict() == {"raw": vector.fields[tcb], **vector.fields[f"{tcb}_decoded"]}
    for tcb in ("committed_tcb", "launch_tcb"):
        decoded = decode_tcb(getattr(report, tcb), product)
        assert decoded.parts() == spec_tcb(vector.fields[tcb], vector.product)


# --- built reports: must-be-zero ranges ------------------------------------------------------

# (offset, size) of every reserved range per version (specs/sev-snp.md §2.5).
_COMMON = [(0x04C, 4), (0x1EB, 1), (0x1EF, 1), (0x208, 152), (0x330, 368)]
MBZ = {
    2: [*_COMMON, (0x188, 24), (0x1F8, 16)],
    3: [*_COMMON, (0x18B, 21), (0x1F8, 16)],
    4: [*_COMMON, (0x18B, 21), (0x1F8, 16)],
    5: [*_COMMON, (0x18B, 21)],
}
MBZ_CASES = [(v, off, size) for v, ranges in MBZ.items() for off, size in ranges]


def built(version: int = 5, product: str = "genoa", **changes: object) -> bytearray:
    return bytearray(SnpReportSpec.for_product(product, version=version, **changes).unsigned())


@pytest.mark.parametrize("version", [2, 3, 4, 5])
def test_built_report_parses(version: int) -> None:
    report = parse_report(bytes(built(version)))
    assert report.version == version


@pytest.mark.parametrize(
    ("version", "start", "size"), MBZ_CASES, ids=[f"v{v}-{o:#x}+{s}" for v, o, s in MBZ_CASES]
)
def test_every_reserved_byte_must_be_zero(version: int, start: int, size: int) -> None:
    base = built(version)
    assert not any(base[start : start + size])
    for offset in range(start, start + size):
        data = bytearray(base)
        data[offset] = 0x01 if offset % 2 else 0x80
        with pytest.raises(ParseError) as info:
            parse_report(bytes(data))
        err = info.value
        assert err.code == MALFORMED, offset
        assert err.offset == offset, (hex(offset), err.offset)
        assert err.platform == "sev-snp"


def test_v5_mitigation_vectors_and_v3_cpuid_are_not_reserved() -> None:
    data = built(5, launch_mit_vector=0x8000_0000_0000_0001, current_mit_vector=0x3)
    report = parse_report(bytes(data))
    assert report.launch_mit_vector == 0x8000_0000_0000_0001
    assert report.current_mit_vector == 0x3
    for version in (3, 4):
        report = parse_report(bytes(built(version, cpuid=(0x1A, 0x02, 0x07))))
        assert (report.cpuid_fam_id, report.cpuid_mod_id, report.cpuid_step) == (0x1A, 2, 7)
        assert report.launch_mit_vector is None
        assert report.current_mit_vector is None


def test_version_4_uses_the_v3_layout() -> None:
    data = built(4)
    report = parse_report(bytes(data))
    assert report.cpuid_product is Product.GENOA
    assert report.launch_mit_vector is None
    data[0x1F8] = 1
    with pytest.raises(ParseError) as info:
        parse_report(bytes(data))
    assert info.value.offset == 0x1F8


@pytest.mark.parametrize("version", [0, 1, 6, 7, 0xFFFF_FFFF])
def test_unsupported_versions(version: int) -> None:
    data = built(5)
    data[0:4] = version.to_bytes(4, "little")
    with pytest.raises(UnsupportedFormatError) as info:
        parse_report(bytes(data))
    assert info.value.code == UNSUPPORTED
    assert info.value.field == "VERSION"


@pytest.mark.parametrize("algo", [0, 2, 0x100])
def test_unsupported_signature_algorithm(algo: int) -> None:
    with pytest.raises(UnsupportedFormatError) as info:
        parse_report(bytes(built(5, signature_algo=algo)))
    assert info.value.field == "SIGNATURE_ALGO"


def test_policy_bit_17_must_be_one() -> None:
    with pytest.raises(ParseError) as info:
        parse_report(bytes(built(5, policy=0x10000)))
    assert info.value.code == MALFORMED
    assert info.value.field == "POLICY"


@pytest.mark.parametrize("bit", range(26, 64))
def test_policy_reserved_bits(bit: int) -> None:
    with pytest.raises(ParseError) as info:
        parse_report(bytes(built(5, policy=0x30000 | 1 << bit)))
    assert info.value.code == MALFORMED
    assert info.value.field == "POLICY"


def test_policy_named_bits_decode() -> None:
    names = [
        "smt",
        None,
        "migrate_ma",
        "debug",
        "single_socket",
        "cxl_allow",
        "mem_aes_256_xts",
        "rapl_dis",
        "ciphertext_hiding",
        "page_swap_disable",
    ]  # bits 16..25, §2.2
    for index, name in enumerate(names):
        if name is None:
            continue
        report = parse_report(bytes(built(5, policy=1 << 17 | 1 << (16 + index) | 0x0A05)))
        flags = report.policy.flags()
        assert {k for k, v in flags.items() if v} == {name}
        assert (report.policy.abi_major, report.policy.abi_minor) == (0x0A, 0x05)


@pytest.mark.parametrize("code", [2, 3, 4, 5, 6])
def test_reserved_signing_keys(code: int) -> None:
    with pytest.raises(ParseError) as info:
        parse_report(bytes(built(5, signing_key=code)))
    assert info.value.code == MALFORMED
    assert info.value.field == "SIGNER_INFO.SIGNING_KEY"


def test_signing_keys_and_signer_bits() -> None:
    expected = {0: SigningKey.VCEK, 1: SigningKey.VLEK, 7: SigningKey.NONE}
    for code, kind in expected.items():
        report = parse_report(
            bytes(built(5, signing_key=code, author_key_en=True, mask_chip_key=True))
        )
        assert report.signer_info.signing_key is kind
        assert report.signer_info.author_key_en
        assert report.signer_info.mask_chip_key
        assert report.signer_info.raw == 0b11 | code << 2


@pytest.mark.parametrize("bit", [5, 8, 31])
def test_signer_info_reserved_bits(bit: int) -> None:
    data = built(5)
    value = int.from_bytes(data[0x48:0x4C], "little") | 1 << bit
    data[0x48:0x4C] = value.to_bytes(4, "little")
    with pytest.raises(ParseError) as info:
        parse_report(bytes(data))
    assert info.value.field == "SIGNER_INFO"


def test_vmpl_range() -> None:
    assert parse_report(bytes(built(5, vmpl=3))).vmpl == 3
    with pytest.raises(ParseError) as info:
        parse_report(bytes(built(5, vmpl=4)))
    assert info.value.field == "VMPL"


@pytest.mark.parametrize("bits", [1 << 6, 1 << 8, 1 << 6 | 1 << 8, 1 << 63])
def test_unknown_platform_info_bits_parse(bits: int) -> None:
    report = parse_report(bytes(built(5, platform_info=0x25 | bits)))
    info = report.platform_info
    assert info.raw == 0x25 | bits
    assert info.bit6 is bool(bits & 1 << 6)
    assert info.unknown_bits == bits & ~0xFF
    assert info.smt_en
    assert info.ecc_en
    assert info.alias_check_complete
    assert not info.tsme_en


@pytest.mark.parametrize("size", [0, 1183, 1185, 2 * 1184])
def test_report_size(size: int) -> None:
    data = bytes(built(5)) + bytes(1184)
    with pytest.raises(ParseError) as info:
        parse_report(data[:size])
    assert info.value.code == MALFORMED


# --- TCB_VERSION --------------------------------------------------------------------------------


def test_decode_tcb_turin_vector() -> None:
    tcb = decode_tcb(bytes.fromhex("0001000200000047"), Product.TURIN)
    assert (tcb.fmc, tcb.bl, tcb.tee, tcb.snp, tcb.ucode) == (0, 1, 0, 2, 71)
    assert tcb.parts() == {"fmc": 0, "bl": 1, "tee": 0, "snp": 2, "ucode": 71}
    assert tcb.reserved == bytes(3)


@pytest.mark.parametrize("product", [Product.MILAN, Product.GENOA])
def test_decode_tcb_milan_genoa_layout(product: Product) -> None:
    raw = bytes([3, 1, 0xA, 0xB, 0xC, 0xD, 8, 0xD9])
    tcb = decode_tcb(raw, product)
    assert tcb.parts() == {"bl": 3, "tee": 1, "snp": 8, "ucode": 0xD9}
    assert tcb.fmc is None
    assert tcb.reserved == bytes([0xA, 0xB, 0xC, 0xD])
    # the same bytes read with Turin's layout mean something else (§3)
    turin = decode_tcb(raw, Product.TURIN)
    assert turin.parts() == {"fmc": 3, "bl": 1, "tee": 0xA, "snp": 0xB, "ucode": 0xD9}
    assert turin.reserved == bytes([0xC, 0xD, 8])


def test_tcb_bytes_helper_agrees_with_spec() -> None:
    assert tcb_bytes("turin", fmc=0, bl=1, tee=0, snp=2, ucode=71).hex() == "0001000200000047"
    assert tcb_bytes("milan", bl=3, tee=0, snp=8, ucode=115).hex() == "0300000000000873"


def test_tcb_dominates_is_componentwise() -> None:
    low = decode_tcb(tcb_bytes("genoa", bl=1, tee=1, snp=1, ucode=1), Product.GENOA)
    high = decode_tcb(tcb_bytes("genoa", bl=2, tee=1, snp=1, ucode=1), Product.GENOA)
    mixed = decode_tcb(tcb_bytes("genoa", bl=9, tee=0, snp=9, ucode=9), Product.GENOA)
    assert high.dominates(low)
    assert low.dominates(low)
    assert not low.dominates(high)
    assert not mixed.dominates(low)
    assert not low.dominates(mixed)


def test_decode_tcb_needs_eight_bytes() -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (a programmer error: no code to assert)
        decode_tcb(bytes(7), Product.GENOA)


# --- signature components ---------------------------------------------------------------------


@pytest.mark.parametrize("offset", [0x2A0 + 48, 0x2A0 + 71, 0x2E8 + 48, 0x2E8 + 71])
def test_signature_components_reject_upper_bytes(offset: int) -> None:
    data = bytearray(Vector("genoa-v5-oak").report)
    assert signature_components(bytes(data)) is not None
    data[offset] = 1
    assert signature_components(bytes(data)) is None


def test_signature_components_short_buffer() -> None:
    assert signature_components(bytes(0x300)) is None


# --- extended-report certificate table -------------------------------------------------------


def cert_table(entries: list[tuple[uuid.UUID, bytes]]) -> bytes:
    """Build a certificate table per §5.6 (offsets relative to the table start)."""
    header = 24 * (len(entries) + 1)
    head = bytearray()
    body = bytearray()
    for guid, data in entries:
        head += guid.bytes + struct.pack("<II", header + len(body), len(data))
        body += data
    return bytes(head + bytes(24) + body)


def _milan_cas() -> tuple[bytes, bytes]:
    ask, ark = x509.load_pem_x509_certificates((ROOTS / "milan_ask_ark.pem").read_bytes())
    return ask.public_bytes(Encoding.DER), ark.public_bytes(Encoding.DER)


def test_cert_table_valid() -> None:
    vcek = Vector("milan-v2-virtee").vek_bytes
    ask, ark = _milan_cas()
    unknown = uuid.UUID("11111111-2222-3333-4444-555555555555")
    table = cert_table([(GUID_VCEK, vcek), (GUID_ASK, ask), (GUID_ARK, ark), (unknown, b"xyz")])
    entries = parse_cert_table(table)
    assert [(e.guid, e.role) for e in entries] == [
        (GUID_VCEK, "vcek"),
        (GUID_ASK, "ask"),
        (GUID_ARK, "ark"),
        (unknown, None),
    ]
    assert [e.data for e in entries] == [vcek, ask, ark, b"xyz"]
    assert abi.CERT_TABLE_GUIDS[GUID_VLEK] == "vlek"


def test_cert_table_empty_and_padded() -> None:
    assert parse_cert_table(bytes(24)) == ()
    assert parse_cert_table(bytes(4096)) == ()  # firmware pads the buffer with zeros
    entries = parse_cert_table(cert_table([(GUID_VCEK, b"abc")]) + bytes(100))
    assert entries[0].data == b"abc"


def test_cert_table_duplicate_guid() -> None:
    with pytest.raises(ParseError) as info:
        parse_cert_table(cert_table([(GUID_VCEK, b"a"), (GUID_VCEK, b"b")]))
    assert info.value.code == MALFORMED
    assert info.value.field == "cert_table[1].guid"


def test_cert_table_entry_out_of_bounds() -> None:
    table = bytearray(cert_table([(GUID_VCEK, b"abcd")]))
    table[20:24] = struct.pack("<I", 5)  # length runs one byte past the end
    with pytest.raises(ParseError) as info:
        parse_cert_table(bytes(table))
    assert info.value.field == "cert_table[0]"
    table[16:24] = struct.pack("<II", 0xFFFF_FFF0, 0x20)  # offset far outside
    with pytest.raises(ParseError):
        parse_cert_table(bytes(table))


def test_cert_table_entry_overlapping_header() -> None:
    table = bytearray(cert_table([(GUID_VCEK, b"abcd"), (GUID_ASK, b"efgh")]))
    table[16:20] = struct.pack("<I", 24)  # inside the entry array (which ends at 72)
    with pytest.raises(ParseError) as info:
        parse_cert_table(bytes(table))
    assert info.value.field == "cert_table[0]"


@pytest.mark.parametrize("tail", [0, 10, 23])
def test_cert_table_unterminated(tail: int) -> None:
    entry_only = cert_table([(GUID_VCEK, b"abcd")])[:24]  # no terminating entry follows
    with pytest.raises(ParseError) as info:
        parse_cert_table(entry_only + bytes(tail))
    assert info.value.code == MALFORMED


def test_cert_table_without_terminator_to_the_end() -> None:
    data = b"".join(uuid.UUID(int=i + 1).bytes + struct.pack("<II", 0, 0) for i in range(10))
    with pytest.raises(ParseError):
        parse_cert_table(data)


def test_cert_table_terminator_must_be_all_zero() -> None:
    table = bytearray(cert_table([(GUID_VCEK, b"abcd")]))
    table[24 + 16] = 1  # zero GUID, non-zero offset
    with pytest.raises(ParseError) as info:
        parse_cert_table(bytes(table))
    assert info.value.field == "cert_table[1]"


def test_cert_table_too_many_entries() -> None:
    entries = [(uuid.UUID(int=i + 1), b"x") for i in range(65)]
    with pytest.raises(ParseError) as info:
        parse_cert_table(cert_table(entries))
    assert info.value.field == "cert_table"
    assert len(parse_cert_table(cert_table(entries[:64]))) == 64


def test_cert_table_too_large() -> None:
    with pytest.raises(ParseError):
        parse_cert_table(bytes((1 << 20) + 1))


# --- Azure HCL wrapper -------------------------------------------------------------------------

HCL_VECTORS = ["milan-v2-azure-hcl", "genoa-v3-azure-hcl"]


@pytest.mark.parametrize("name", HCL_VECTORS)
def test_hcl_report(name: str) -> None:
    vector = Vector(name)
    data = (vector.dir / "hcl_report.bin").read_bytes()
    hcl = parse_hcl_report(data)
    assert hcl.report == vector.report
    assert hcl.report_type == 2
    assert hcl.hash_type == 1
    report_data = bytes.fromhex(vector.fields["report_data"])
    assert hashlib.sha256(hcl.runtime_claims).digest() == report_data[:32]
    assert report_data[32:] == bytes(32)
    assert hcl.runtime_claims.startswith(b"{")
    # the claims are exactly claim_size bytes at 32 + 1184 + 20 (§10.12)
    claim_size = int.from_bytes(data[32 + 1184 + 16 : 32 + 1184 + 20], "little")
    assert len(hcl.runtime_claims) == claim_size
    assert data[32 + 1184 + 20 : 32 + 1184 + 20 + claim_size] == hcl.runtime_claims


def test_hcl_bad_magic_and_truncation() -> None:
    data = bytearray((SNP / "milan-v2-azure-hcl" / "hcl_report.bin").read_bytes())
    bad = bytearray(data)
    bad[0:4] = b"HCLB"
    with pytest.raises(ParseError) as info:
        parse_hcl_report(bytes(bad))
    assert info.value.field == "HCL.signature"
    for cut in (3, 100, 32 + 1184 + 10, len(data) - 1200):
        with pytest.raises(ParseError):
            parse_hcl_report(bytes(data[:cut]))
    report_type = bytearray(data)
    report_type[32 + 1184 + 8] = 1
    with pytest.raises(UnsupportedFormatError):
        parse_hcl_report(bytes(report_type))
    huge = bytearray(data)
    huge[32 + 1184 + 16 : 32 + 1184 + 20] = (1 << 20).to_bytes(4, "little")
    with pytest.raises(ParseError) as info:
        parse_hcl_report(bytes(huge))
    assert info.value.field == "HCL.runtime.claim_size"


# --- round trip -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "version"),
    [("milan", 2), ("milan", 3), ("genoa", 3), ("genoa", 5), ("turin", 5), ("genoa", 4)],
)
def test_spec_round_trip(product: str, version: int) -> None:
    spec = SnpReportSpec.for_product(
        product,
        version=version,
        guest_svn=0x01020304,
        policy=0x3001F | 1 << 25,
        family_id=bytes(range(16)),
        image_id=bytes(range(16, 32)),
        vmpl=2,
        platform_info=0x1FF,
        author_key_en=True,
        signing_key=1,
        report_data=bytes(range(64, 128)),
        measurement=bytes(range(100, 148)),
        host_data=b"\x42" * 32,
        id_key_digest=b"\x11" * 48,
        author_key_digest=b"\x22" * 48,
        report_id=b"\x33" * 32,
        report_id_ma=b"\x44" * 32,
        committed_version=(1, 55, 40),
        current_version=(1, 55, 43),
        launch_mit_vector=0x5,
        current_mit_vector=0x7,
        committed_tcb=bytes([1, 2, 0, 0, 0, 0, 3, 4]),
    )
    report = parse_report(spec.unsigned())
    assert report.version == version
    assert report.guest_svn == spec.guest_svn
    assert report.policy.raw == spec.policy
    assert (report.family_id, report.image_id) == (spec.family_id, spec.image_id)
    assert report.vmpl == spec.vmpl
    assert report.signature_algo == 1
    assert report.current_tcb == spec.current_tcb
    assert report.reported_tcb == spec.reported_tcb
    assert report.committed_tcb == spec.committed_tcb
    assert report.launch_tcb == spec.launch_tcb
    assert report.platform_info.raw == spec.platform_info
    assert report.signer_info.author_key_en
    assert not report.signer_info.mask_chip_key
    assert report.signer_info.signing_key is SigningKey.VLEK
    for name in (
        "report_data",
        "measurement",
        "host_data",
        "id_key_digest",
        "author_key_digest",
        "report_id",
        "report_id_ma",
        "chip_id",
    ):
        assert getattr(report, name) == getattr(spec, name), name
    assert report.current_version == "1.55.43"
    assert report.committed_version == "1.55.40"
    if version >= 3:
        assert spec.cpuid is not None
        assert (report.cpuid_fam_id, report.cpuid_mod_id, report.cpuid_step) == spec.cpuid
        assert report.cpuid_product is Product(product)
    else:
        assert report.cpuid_product is None
    if version >= 5:
        assert (report.launch_mit_vector, report.current_mit_vector) == (5, 7)
    else:
        assert (report.launch_mit_vector, report.current_mit_vector) == (None, None)
    assert report.signature_r == bytes(72)
    assert report.signature_s == bytes(72)
