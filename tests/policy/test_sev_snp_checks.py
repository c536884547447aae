"""Every [[sev_snp]] check id, with its pass and its fail path (and skip/warn where it has one).

Claims come from verifying real vectors; variants replace single fields of those verified
claims (policy reads claims only, so this isolates each check).
"""

from __future__ import annotations

import dataclasses
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest

from teeclient.platforms.sev_snp.abi import GuestPolicy, PlatformInfo, SignerInfo, SigningKey
from teeclient.platforms.sev_snp.claims import RevocationInfo, SnpClaims
from teeclient.platforms.sev_snp.verify import verify
from teeclient.policy.appraise import appraise
from teeclient.policy.checks import known_check_ids
from teeclient.policy.checks import sev_snp as snp_checks
from teeclient.policy.checks.sev_snp import CHECKS, check_alternative
from teeclient.policy.load import parse_policy
from teeclient.policy.result import CheckStatus
from teeclient.trust import TrustStore
from tests._snp import Vector
from tests._toml import dumps

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PASS, FAIL, WARN, SKIP = CheckStatus.PASS, CheckStatus.FAIL, CheckStatus.WARN, CheckStatus.SKIP


@cache
def real(name: str) -> SnpClaims:
    vector = Vector(name)
    return verify(
        vector.report,
        trust=TrustStore.vendor(),
        now=vector.now,
        collateral=vector.collateral(),
        product=vector.v2_product,
    )


# genoa-v5-oak (expectations.json): policy 0x30000 (SMT), platform_info 0x25 (SMT, ECC,
# ALIAS_CHECK), VMPL 0, GUEST_SVN 0, TCB bl 10 tee 0 snp 25 ucode 84, firmware 1.55.43,
# mitigation vectors 0x1/0x1, CHIP_ID unmasked, AUTHOR_KEY_EN 0, committed == current.
GENOA = "genoa-v5-oak"
TURIN = "turin-v5-oak"  # TCB fmc 0 bl 1 tee 0 snp 2 ucode 71; platform_info 0x67 (bit 6)
MILAN_V3 = "milan-v3-vlek-aws"  # v3: no mitigation vectors; VLEK; committed < current
MILAN_V2_ID = "milan-v2-trustee"  # ID block present, ABI 0.31, guest_svn 4


def guest(raw: int) -> dict[str, Any]:
    return {"policy": GuestPolicy.decode(raw)}


def platform(raw: int) -> dict[str, Any]:
    return {"platform_info": PlatformInfo.decode(raw)}


def signer(*, author: bool = False, mask: bool = False) -> dict[str, Any]:
    raw = int(author) | int(mask) << 1
    return {
        "signer_info": SignerInfo(
            raw=raw, author_key_en=author, mask_chip_key=mask, signing_key=SigningKey.VCEK
        )
    }


def crl(this: datetime, nxt: datetime | None) -> dict[str, Any]:
    return {
        "revocation": RevocationInfo(
            checked=True, crl_sha256="00" * 32, this_update=this, next_update=nxt, source="crl.der"
        )
    }


@dataclass(frozen=True)
class Case:
    check: str
    status: CheckStatus
    rule: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    vector: str = GENOA
    revocation: str | None = None
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.check}-{self.status.value}{'-' + self.label if self.label else ''}"


SMT = 1 << 16 | 1 << 17
X = "aa"
CASES = [
    # identity
    Case("sev_snp.product", PASS, {"products": ["genoa"]}),
    Case("sev_snp.product", FAIL, {"products": ["milan", "turin"]}),
    Case("sev_snp.product", FAIL, {"products": []}, label="empty"),
    Case("sev_snp.product", SKIP),
    Case("sev_snp.signing_key", PASS, {"signing_keys": ["vcek"]}),
    Case("sev_snp.signing_key", FAIL, {"signing_keys": ["vlek"]}),
    Case("sev_snp.signing_key", PASS, {"signing_keys": ["vlek"]}, vector=MILAN_V3, label="vlek"),
    Case("sev_snp.signing_key", SKIP),
    Case("sev_snp.chip_id", PASS, {"chip_ids": [X * 64, Vector(GENOA).fields["chip_id"]]}),
    Case("sev_snp.chip_id", FAIL, {"chip_ids": [X * 64]}),
    Case("sev_snp.chip_id", SKIP),
    Case("sev_snp.masked_chip_id", PASS),
    Case("sev_snp.masked_chip_id", FAIL, claims=signer(mask=True)),
    Case(
        "sev_snp.masked_chip_id",
        PASS,
        {"allow_masked_chip_id": True},
        signer(mask=True),
        label="allowed",
    ),
    Case("sev_snp.vmpl", PASS, {"vmpl": 0}),
    Case("sev_snp.vmpl", FAIL, {"vmpl": [1, 2, 3]}),
    Case("sev_snp.vmpl", PASS, {"vmpl": [0, 1]}, vector=MILAN_V3, label="aws"),
    Case("sev_snp.vmpl", SKIP),
    Case("sev_snp.guest_svn", PASS, {"min_guest_svn": 4}, vector=MILAN_V2_ID),
    Case("sev_snp.guest_svn", FAIL, {"min_guest_svn": 5}, vector=MILAN_V2_ID),
    Case("sev_snp.guest_svn", SKIP),
    # guest policy (§2.2)
    Case(
        "sev_snp.guest_policy.abi", PASS, {"guest_policy": {"min_abi": "0.31"}}, vector=MILAN_V2_ID
    ),
    Case(
        "sev_snp.guest_policy.abi", FAIL, {"guest_policy": {"min_abi": "0.32"}}, vector=MILAN_V2_ID
    ),
    Case(
        "sev_snp.guest_policy.abi",
        FAIL,
        {"guest_policy": {"min_abi": "1.0"}},
        vector=MILAN_V2_ID,
        label="major",
    ),
    Case(
        "sev_snp.guest_policy.abi",
        PASS,
        {"guest_policy": {"min_abi": "1.50"}},
        guest(SMT | 0x0133),
        label="1.51",
    ),
    Case("sev_snp.guest_policy.abi", SKIP),
    Case("sev_snp.guest_policy.smt", PASS),
    Case("sev_snp.guest_policy.smt", FAIL, {"guest_policy": {"allow": []}}),
    Case(
        "sev_snp.guest_policy.smt",
        PASS,
        {"guest_policy": {"allow": []}},
        guest(1 << 17),
        label="clear",
    ),
    Case("sev_snp.guest_policy.migrate_ma", FAIL, claims=guest(SMT | 1 << 18)),
    Case(
        "sev_snp.guest_policy.migrate_ma",
        PASS,
        {"guest_policy": {"allow": ["migrate_ma"]}},
        guest(SMT | 1 << 18),
    ),
    Case("sev_snp.guest_policy.debug", FAIL, claims=guest(SMT | 1 << 19)),
    Case(
        "sev_snp.guest_policy.debug",
        PASS,
        {"guest_policy": {"allow": ["smt", "debug"]}},
        guest(SMT | 1 << 19),
    ),
    Case("sev_snp.guest_policy.cxl", FAIL, claims=guest(SMT | 1 << 21)),
    Case(
        "sev_snp.guest_policy.cxl",
        PASS,
        {"guest_policy": {"allow": ["cxl", "smt"]}},
        guest(SMT | 1 << 21),
    ),
    *[
        case
        for flag, bit in (
            ("single_socket", 20),
            ("mem_aes_256_xts", 22),
            ("rapl_dis", 23),
            ("ciphertext_hiding", 24),
            ("page_swap_disable", 25),
        )
        for case in (
            Case(f"sev_snp.guest_policy.{flag}", FAIL, {"guest_policy": {"require": [flag]}}),
            Case(
                f"sev_snp.guest_policy.{flag}",
                PASS,
                {"guest_policy": {"require": [flag]}},
                guest(SMT | 1 << bit),
            ),
            Case(
                f"sev_snp.guest_policy.{flag}",
                PASS,
                claims=guest(SMT | 1 << bit),
                label="not-required",
            ),
        )
    ],
    # platform info (§2.3)
    Case("sev_snp.platform_info.smt", PASS),
    Case("sev_snp.platform_info.smt", FAIL, {"platform_info": {"allow": ["tsme"]}}),
    Case("sev_snp.platform_info.tsme", FAIL, {"platform_info": {"allow": ["smt"]}}, platform(0x27)),
    Case("sev_snp.platform_info.tsme", PASS, claims=platform(0x27)),
    Case(
        "sev_snp.platform_info.tio",
        FAIL,
        {"platform_info": {"allow": ["smt"]}},
        platform(0x25 | 1 << 7),
    ),
    Case("sev_snp.platform_info.tio", PASS, claims=platform(0x25 | 1 << 7)),
    Case("sev_snp.platform_info.ecc", PASS, {"platform_info": {"require": ["ecc"]}}),
    Case(
        "sev_snp.platform_info.ecc", FAIL, {"platform_info": {"require": ["ecc"]}}, platform(0x21)
    ),
    Case(
        "sev_snp.platform_info.rapl_disabled",
        FAIL,
        {"platform_info": {"require": ["rapl_disabled"]}},
    ),
    Case(
        "sev_snp.platform_info.rapl_disabled",
        PASS,
        {"platform_info": {"require": ["rapl_disabled"]}},
        platform(0x2D),
    ),
    Case(
        "sev_snp.platform_info.ciphertext_hiding_dram",
        FAIL,
        {"platform_info": {"require": ["ciphertext_hiding_dram"]}},
    ),
    Case(
        "sev_snp.platform_info.ciphertext_hiding_dram",
        PASS,
        {"platform_info": {"require": ["ciphertext_hiding_dram"]}},
        platform(0x35),
    ),
    Case(
        "sev_snp.platform_info.alias_check_complete",
        PASS,
        {"platform_info": {"require": ["alias_check_complete"]}},
    ),
    Case(
        "sev_snp.platform_info.alias_check_complete",
        FAIL,
        {"platform_info": {"require": ["alias_check_complete"]}},
        vector=MILAN_V2_ID,
    ),
    Case("sev_snp.platform_info.bit6", PASS, vector=TURIN),
    Case(
        "sev_snp.platform_info.bit6",
        FAIL,
        {"platform_info": {"allow": ["smt", "tsme"]}},
        vector=TURIN,
    ),
    Case(
        "sev_snp.platform_info.bit6",
        FAIL,
        {"platform_info": {"require": ["bit6"]}},
        label="required",
    ),
    Case(
        "sev_snp.platform_info.bit6",
        PASS,
        {"platform_info": {"require": ["bit6"], "allow": ["smt", "tsme", "bit6"]}},
        vector=TURIN,
        label="required",
    ),
    Case("sev_snp.platform_info.unknown_bits", PASS),
    Case(
        "sev_snp.platform_info.unknown_bits",
        PASS,
        {"platform_info": {"unknown_bits": "fail"}},
        vector=TURIN,
        label="bit6-is-known",
    ),
    Case("sev_snp.platform_info.unknown_bits", WARN, claims=platform(0x25 | 1 << 8)),
    Case(
        "sev_snp.platform_info.unknown_bits",
        PASS,
        {"platform_info": {"unknown_bits": "ignore"}},
        platform(0x25 | 1 << 40),
        label="ignore",
    ),
    Case(
        "sev_snp.platform_info.unknown_bits",
        FAIL,
        {"platform_info": {"unknown_bits": "fail"}},
        platform(0x25 | 1 << 63),
    ),
    # TCB minimums (component-wise, §8 step 12)
    Case("sev_snp.tcb", PASS, {"min_tcb": {"bl": 10, "tee": 0, "snp": 25, "ucode": 84}}),
    Case("sev_snp.tcb", FAIL, {"min_tcb": {"ucode": 85}}),
    Case("sev_snp.tcb", FAIL, {"min_tcb": {"bl": 1, "snp": 26}}, label="snp"),
    Case("sev_snp.tcb", PASS, {"min_tcb": {"fmc": 9, "bl": 10}}, label="fmc-ignored-on-genoa"),
    Case("sev_snp.tcb", FAIL, {"min_tcb": {"fmc": 0}}, label="only-fmc-on-genoa"),
    Case("sev_snp.tcb", FAIL, {"min_tcb": {"fmc": 1}}, vector=TURIN, label="turin-fmc"),
    Case(
        "sev_snp.tcb",
        PASS,
        {"min_tcb": {"fmc": 0, "bl": 1, "ucode": 71}},
        vector=TURIN,
        label="turin",
    ),
    Case("sev_snp.tcb", SKIP),
    Case("sev_snp.launch_tcb", PASS, {"min_launch_tcb": {"ucode": 84}}),
    Case("sev_snp.launch_tcb", FAIL, {"min_launch_tcb": {"bl": 11}}),
    Case(
        "sev_snp.launch_tcb",
        PASS,
        {"min_launch_tcb": {"ucode": 219}},
        vector=MILAN_V3,
        label="launch-not-reported",
    ),  # LAUNCH ucode 219 > REPORTED 217
    Case("sev_snp.launch_tcb", SKIP),
    # firmware (§8 step 13): 1.55.43
    Case("sev_snp.firmware", PASS, {"min_firmware": "1.55.43"}),
    Case("sev_snp.firmware", PASS, {"min_firmware": "1.55"}, label="two-parts"),
    Case("sev_snp.firmware", FAIL, {"min_firmware": "1.55.44"}),
    Case("sev_snp.firmware", FAIL, {"min_firmware": "1.56"}, label="minor"),
    Case("sev_snp.firmware", PASS, {"min_firmware": "1.54.99"}, label="ordered"),
    Case("sev_snp.firmware", PASS, {"min_firmware": {"api": "1.55", "build": 43}}, label="api"),
    Case("sev_snp.firmware", FAIL, {"min_firmware": {"build": 44}}, label="build"),
    Case("sev_snp.firmware", FAIL, {"min_firmware": {"api": "1.56"}}, label="api"),
    Case(
        "sev_snp.firmware",
        FAIL,
        {"min_firmware": {"api": "1.54", "build": 50}},
        label="api-and-build",
    ),  # build is compared on its own: 43 < 50
    Case("sev_snp.firmware", SKIP),
    # provisional firmware
    Case("sev_snp.provisional_firmware", PASS),
    Case("sev_snp.provisional_firmware", FAIL, vector=MILAN_V3),
    Case(
        "sev_snp.provisional_firmware",
        PASS,
        {"permit_provisional_firmware": True},
        vector=MILAN_V3,
        label="permitted",
    ),
    Case("sev_snp.provisional_firmware", FAIL, claims={"committed_build": 44}, label="build"),
    Case(
        "sev_snp.provisional_firmware",
        FAIL,
        {"permit_provisional_firmware": True},
        {"committed_build": 44},
        label="committed-newer",
    ),
    Case(
        "sev_snp.provisional_firmware",
        PASS,
        {"permit_provisional_firmware": True},
        {"committed_minor": 54},
        label="committed-older",
    ),
    # ID block and author key (§8 step 19)
    Case(
        "sev_snp.id_block",
        PASS,
        {"trusted_id_key_hashes": [Vector(MILAN_V2_ID).fields["id_key_digest"]]},
        vector=MILAN_V2_ID,
    ),
    Case(
        "sev_snp.id_block",
        FAIL,
        {"require_id_block": True, "trusted_id_key_hashes": [X * 48]},
        vector=MILAN_V2_ID,
    ),
    Case("sev_snp.id_block", FAIL, {"require_id_block": True}, label="nothing-trusted"),
    Case("sev_snp.id_block", SKIP),
    Case(
        "sev_snp.author_key", PASS, {"trusted_author_key_hashes": ["00" * 48]}, signer(author=True)
    ),
    Case(
        "sev_snp.author_key", FAIL, {"trusted_author_key_hashes": ["00" * 48]}, label="not-enabled"
    ),
    Case(
        "sev_snp.author_key",
        FAIL,
        {"require_author_key": True, "trusted_author_key_hashes": [X * 48]},
        signer(author=True),
    ),
    Case("sev_snp.author_key", SKIP),
    # mitigation vectors (v5 only)
    Case("sev_snp.mitigation.launch", PASS, {"min_launch_mitigation_vector": 1}),
    Case("sev_snp.mitigation.launch", FAIL, {"min_launch_mitigation_vector": "0x3"}),
    Case(
        "sev_snp.mitigation.launch",
        FAIL,
        {"min_launch_mitigation_vector": 0},
        vector=MILAN_V3,
        label="v3-absent",
    ),
    Case("sev_snp.mitigation.launch", SKIP),
    Case("sev_snp.mitigation.current", PASS, {"min_current_mitigation_vector": "0x1"}),
    Case("sev_snp.mitigation.current", FAIL, {"min_current_mitigation_vector": 2}),
    Case(
        "sev_snp.mitigation.current",
        FAIL,
        {"min_current_mitigation_vector": 1},
        vector=MILAN_V3,
        label="v3-absent",
    ),
    Case(
        "sev_snp.mitigation.current",
        PASS,
        {"min_current_mitigation_vector": 5},
        {"current_mit_vector": 0xF},
        label="superset",
    ),
    Case("sev_snp.mitigation.current", SKIP),
    # revocation (policy-level setting, [revocation] amd_crl)
    Case("sev_snp.revocation", SKIP),
    Case("sev_snp.revocation", FAIL, revocation="require"),
    Case("sev_snp.revocation", SKIP, revocation="off", label="off"),
    Case(
        "sev_snp.revocation",
        PASS,
        revocation="require",
        claims=crl(datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)),
    ),
    Case(
        "sev_snp.revocation",
        FAIL,
        revocation="if-present",
        label="future",
        claims=crl(datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)),
    ),
    Case(
        "sev_snp.revocation",
        WARN,
        revocation="allow-stale-until:2d",
        label="stale",
        claims=crl(datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 12, 31, tzinfo=UTC)),
    ),
    Case(
        "sev_snp.revocation",
        FAIL,
        revocation="allow-stale-until:12h",
        label="too-stale",
        claims=crl(datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 12, 31, tzinfo=UTC)),
    ),
    Case(
        "sev_snp.revocation",
        PASS,
        revocation="if-present",
        label="open-ended",
        claims=crl(datetime(2025, 11, 1, tzinfo=UTC), None),
    ),
]

# The exact-match fields (§8 step 18) are one shape: hit, miss, empty list, unconstrained.
EXACT = {
    "measurement": 48,
    "host_data": 32,
    "family_id": 16,
    "image_id": 16,
    "report_id": 32,
    "report_id_ma": 32,
    "report_data": 64,
}
for _key, _size in EXACT.items():
    _actual = Vector(MILAN_V2_ID).fields[_key]
    CASES += [
        Case(f"sev_snp.{_key}", PASS, {_key: _actual}, vector=MILAN_V2_ID),
        Case(
            f"sev_snp.{_key}",
            PASS,
            {_key: [X * _size, _actual.upper()]},
            vector=MILAN_V2_ID,
            label="list",
        ),
        Case(f"sev_snp.{_key}", FAIL, {_key: [X * _size]}, vector=MILAN_V2_ID),
        Case(f"sev_snp.{_key}", FAIL, {_key: []}, vector=MILAN_V2_ID, label="empty"),
        Case(f"sev_snp.{_key}", SKIP, vector=MILAN_V2_ID),
    ]


def claims_for(case: Case) -> SnpClaims:
    base = real(case.vector)
    return dataclasses.replace(base, **case.claims) if case.claims else base


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_check(case: Case) -> None:
    doc: dict[str, Any] = {"version": 1, "sev_snp": [case.rule]}
    if case.revocation is not None:
        doc["revocation"] = {"amd_crl": case.revocation}
    policy = parse_policy(dumps(doc))
    appraisal = appraise([claims_for(case)], policy, NOW)
    found = [c for c in appraisal.checks if c.id == case.check]
    assert len(found) == 1
    check = found[0]
    assert check.status is case.status, (check.status, check.expected, check.actual)
    assert check.component == "sev-snp[0]"
    assert check.message
    if case.status is SKIP:
        assert check.expected is None
    # accepted iff no check failed
    fails = [c for c in appraisal.checks if c.status is FAIL]
    assert appraisal.accepted is (not fails)


def test_every_check_id_has_pass_and_fail_cases() -> None:
    with_pass = {c.check for c in CASES if c.status is PASS}
    with_fail = {c.check for c in CASES if c.status is FAIL}
    assert set(CHECKS) - with_pass == set()
    assert set(CHECKS) - with_fail == set()
    assert {c.check for c in CASES} <= set(CHECKS)
    assert known_check_ids("sev_snp") == frozenset(CHECKS)


@pytest.mark.parametrize("vector", [GENOA, TURIN, MILAN_V3, MILAN_V2_ID])
def test_every_check_is_reported_once_per_alternative(vector: str) -> None:
    policy = parse_policy("version = 1\n[[sev_snp]]\n[[sev_snp]]\nvmpl = 3\n")
    assert policy.sev_snp is not None
    for index, rule in enumerate(policy.sev_snp):
        rec = check_alternative(real(vector), rule, policy, NOW, component="c", alternative=index)
        ids = [c.id for c in rec.checks]
        assert sorted(ids) == sorted(CHECKS)
        assert {c.alternative for c in rec.checks} == {index}


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_warn_only_turns_each_failure_into_a_warning(check_id: str) -> None:
    failing = next(c for c in CASES if c.check == check_id and c.status is FAIL)
    rule = failing.rule | {"warn_only": [check_id]}
    doc: dict[str, Any] = {"version": 1, "sev_snp": [rule]}
    if failing.revocation is not None:
        doc["revocation"] = {"amd_crl": failing.revocation}
    appraisal = appraise([claims_for(failing)], parse_policy(dumps(doc)), NOW)
    (check,) = [c for c in appraisal.checks if c.id == check_id]
    assert check.status is WARN


def test_report_data_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real_compare = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return bool(real_compare(a, b))

    # the check module calls hmac.compare_digest through the module attribute
    assert snp_checks.__name__ == "teeclient.policy.checks.sev_snp"
    monkeypatch.setattr(hmac, "compare_digest", counting)
    claims = real(GENOA)
    allowed = [claims.report_data, "00" * 64, "11" * 64]
    policy = parse_policy(dumps({"version": 1, "sev_snp": [{"report_data": allowed}]}))
    appraisal = appraise([claims], policy, NOW)
    (check,) = [c for c in appraisal.checks if c.id == "sev_snp.report_data"]
    assert check.status is PASS
    compared = [c for c in calls if claims.report_data.encode() in c]
    # every candidate is compared (no early exit on the first match)
    assert len(compared) == len(allowed)
