"""Policy files: TOML → Policy, with errors that name the file, the line and the key."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from teeclient.errors import (
    InputError,
    PolicyError,
    PolicySyntaxError,
    PolicyTypeError,
    PolicyUnknownKeyError,
    PolicyValueError,
)
from teeclient.policy.lint import lint_policy
from teeclient.policy.load import baseline_text, load_baseline, load_policy, parse_policy
from teeclient.policy.model import Policy, RevocationMode
from teeclient.policy.sections.sev_snp import FirmwareMin
from tests._snp import ROOT

M48 = "ab" * 48


def parse(text: str) -> Policy:
    return parse_policy(textwrap.dedent(text).lstrip("\n"), source="p.toml")


def error(text: str, cls: type[PolicyError]) -> PolicyError:
    with pytest.raises(cls) as info:
        parse(text)
    assert type(info.value) is cls
    assert info.value.file == "p.toml"
    return info.value


def test_minimal_policy() -> None:
    policy = parse("version = 1\n")
    assert policy.version == 1
    assert policy.sev_snp is None
    assert policy.revocation.amd_crl.mode is RevocationMode.IF_PRESENT
    assert policy.source == "p.toml"
    assert policy.sha256 is not None
    assert len(policy.sha256) == 64


def test_full_rule_loads() -> None:
    policy = parse(f"""
        version = 1
        name = "prod"
        description = "everything"

        [revocation]
        amd_crl = "allow-stale-until:1h30m"

        [[sev_snp]]
        name = "genoa"
        products = ["genoa", "turin"]
        signing_keys = ["vcek"]
        measurement = ["{M48}", "0x{M48.upper()}", "{"cd" * 48}"]
        host_data = "{"00" * 32}"
        report_data = "{"11" * 64}"
        chip_ids = ["{"22" * 64}"]
        vmpl = [0, 1, 1]
        min_guest_svn = 3
        min_tcb = {{ bl = 7, ucode = 0x54 }}
        min_launch_tcb = {{ fmc = 1 }}
        min_firmware = "1.55.40"
        permit_provisional_firmware = true
        allow_masked_chip_id = true
        require_id_block = true
        trusted_id_key_hashes = ["{"33" * 48}"]
        min_launch_mitigation_vector = "0x1"
        min_current_mitigation_vector = 3
        warn_only = ["sev_snp.vmpl"]

        [sev_snp.guest_policy]
        min_abi = "0.31"
        allow = ["smt", "migrate_ma"]
        require = ["single_socket"]

        [sev_snp.platform_info]
        allow = ["smt"]
        require = ["ecc", "bit6"]
        unknown_bits = "fail"

        [[sev_snp]]
        name = "fallback"
        min_firmware = {{ api = "1.55", build = 21 }}
    """)
    assert policy.name == "prod"
    assert policy.revocation.amd_crl.mode is RevocationMode.ALLOW_STALE
    assert policy.revocation.amd_crl.max_staleness == timedelta(hours=1, minutes=30)
    assert policy.sev_snp is not None
    first, second = policy.sev_snp
    assert first.products == frozenset({"genoa", "turin"})
    assert first.measurement == (M48, "cd" * 48)  # normalised and deduplicated
    assert first.host_data == ("00" * 32,)
    assert first.vmpl == (0, 1)
    assert first.min_tcb is not None
    assert first.min_tcb.parts() == {"bl": 7, "ucode": 0x54}
    assert first.min_launch_tcb is not None
    assert first.min_launch_tcb.parts() == {"fmc": 1}
    assert first.min_firmware == FirmwareMin(version=(1, 55, 40))
    assert first.min_launch_mitigation_vector == 1
    assert first.min_current_mitigation_vector == 3
    assert first.warn_only == frozenset({"sev_snp.vmpl"})
    assert first.guest_policy.min_abi == (0, 31)
    assert first.guest_policy.allow == frozenset({"smt", "migrate_ma"})
    assert first.guest_policy.require == frozenset({"single_socket"})
    assert first.platform_info.allow == frozenset({"smt"})
    assert first.platform_info.require == frozenset({"ecc", "bit6"})
    assert first.platform_info.unknown_bits == "fail"
    assert second.name == "fallback"
    assert second.min_firmware == FirmwareMin(api=(1, 55), build=21)
    # defaults of the second alternative (secure defaults, DESIGN §5)
    assert second.guest_policy.allow == frozenset({"smt"})
    assert second.permit_provisional_firmware is False
    assert second.allow_masked_chip_id is False
    assert second.platform_info.unknown_bits == "warn"


# --- unknown keys, with line and suggestion ----------------------------------------------


def test_unknown_top_level_key() -> None:
    err = error(
        """
        version = 1
        nmae = "x"
    """,
        PolicyUnknownKeyError,
    )
    assert err.code == "policy.unknown_key"
    assert err.line == 2
    assert err.actual == "nmae"
    assert isinstance(err.expected, str)
    assert "name" in err.expected.split("one of ", 1)[1]
    assert err.key_path == "nmae"


def test_unknown_key_in_second_alternative() -> None:
    err = error(
        f"""
        version = 1

        [[sev_snp]]
        measurement = "{M48}"

        [[sev_snp]]
        name = "b"
        measurment = "{M48}"
    """,
        PolicyUnknownKeyError,
    )
    assert err.line == 8
    assert err.key_path == "sev_snp[1].measurment"
    assert err.actual == "measurment"
    assert isinstance(err.expected, str)
    assert "measurement" in [k.strip() for k in err.expected.removeprefix("one of ").split(",")]
    assert err.to_dict()["line"] == 8


def test_unknown_key_in_sub_table() -> None:
    err = error(
        """
        version = 1
        [[sev_snp]]
        name = "a"
        [sev_snp.guest_policy]
        allow = ["smt"]
        requires = ["single_socket"]
    """,
        PolicyUnknownKeyError,
    )
    assert err.line == 6
    assert err.key_path == "sev_snp[0].guest_policy.requires"


def test_sub_table_of_the_second_alternative() -> None:
    err = error(
        """
        version = 1
        [[sev_snp]]
        name = "a"
        [sev_snp.platform_info]
        allow = ["smt"]
        [[sev_snp]]
        name = "b"
        [sev_snp.platform_info]
        allow = ["smt"]
        unknown_bits = "maybe"
    """,
        PolicyValueError,
    )
    assert err.line == 10
    assert err.key_path == "sev_snp[1].platform_info.unknown_bits"


def test_unknown_key_in_inline_table() -> None:
    err = error(
        """
        version = 1

        [[sev_snp]]
        name = "a"
        min_tcb = { bl = 1, ucod = 3 }
    """,
        PolicyUnknownKeyError,
    )
    assert err.line == 5
    assert err.key_path == "sev_snp[0].min_tcb.ucod"


def test_unknown_section() -> None:
    err = error(
        """
        version = 1
        [[sev_snpp]]
        name = "x"
    """,
        PolicyUnknownKeyError,
    )
    assert err.line == 2
    assert err.actual == "sev_snpp"


def test_unknown_key_in_revocation() -> None:
    err = error(
        """
        version = 1

        [revocation]
        amd_crl = "off"
        azure_crl = "off"
    """,
        PolicyUnknownKeyError,
    )
    assert err.line == 5
    assert err.key_path == "revocation.azure_crl"


# --- wrong types and bad values ------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "cls"),
    [
        ('vmpl = "0"', PolicyTypeError),
        ("vmpl = 4", PolicyValueError),
        ("vmpl = [0, true]", PolicyTypeError),
        ("min_guest_svn = -1", PolicyValueError),
        ("min_guest_svn = 1.5", PolicyTypeError),
        ('products = "genoa"', PolicyTypeError),
        ('products = ["bergamo"]', PolicyValueError),
        ("signing_keys = [1]", PolicyTypeError),
        ("measurement = 5", PolicyTypeError),
        (f'measurement = "{M48[:-2]}"', PolicyValueError),
        (f'measurement = "{M48}00"', PolicyValueError),
        (f'measurement = "{M48[:-1]}g"', PolicyValueError),
        ('host_data = "' + "00" * 48 + '"', PolicyValueError),
        ('chip_ids = ["' + "00" * 8 + '"]', PolicyValueError),
        ('allow_masked_chip_id = "yes"', PolicyTypeError),
        ("min_tcb = 5", PolicyTypeError),
        ("min_tcb = { ucode = 256 }", PolicyValueError),
        ("min_tcb = {}", PolicyValueError),
        ('min_firmware = "1"', PolicyValueError),
        ('min_firmware = "1.2.3.4"', PolicyValueError),
        ('min_firmware = "1.x"', PolicyValueError),
        ("min_firmware = 155", PolicyTypeError),
        ('min_firmware = { api = "1.55.2" }', PolicyValueError),
        ("min_firmware = { build = 256 }", PolicyValueError),
        ('min_firmware = { version = "1.2" }', PolicyValueError),
        ("min_firmware = {}", PolicyValueError),
        ('min_launch_mitigation_vector = "0x"', PolicyValueError),
        ('min_launch_mitigation_vector = "0x11112222333344445"', PolicyValueError),
        ("min_launch_mitigation_vector = -1", PolicyValueError),
        ("min_launch_mitigation_vector = 1.0", PolicyTypeError),
        ('warn_only = "sev_snp.vmpl"', PolicyTypeError),
        ('warn_only = ["sev_snp.nothing"]', PolicyValueError),
        ('warn_only = ["policy.component"]', PolicyValueError),
        ('guest_policy = { allow = ["single_socket"] }', PolicyValueError),
        ('guest_policy = { require = ["debug"] }', PolicyValueError),
        ('guest_policy = { min_abi = "1" }', PolicyValueError),
        ("platform_info = { unknown_bits = true }", PolicyTypeError),
        ('platform_info = { allow = ["ecc"] }', PolicyValueError),
        ("name = 5", PolicyTypeError),
        ('name = "' + "x" * 201 + '"', PolicyValueError),
    ],
)
def test_wrong_type_or_value_has_a_line(line: str, cls: type[PolicyError]) -> None:
    text = f"version = 1\n\n[[sev_snp]]\n# the rule\n{line}\n"
    with pytest.raises(cls) as info:
        parse_policy(text, source="p.toml")
    err = info.value
    assert type(err) is cls, type(err)
    assert err.line == 5
    assert err.key_path is not None
    assert err.key_path.startswith("sev_snp[0].")
    assert err.to_dict()["code"] == cls.code


def test_sev_snp_must_be_an_array_of_tables() -> None:
    err = error(
        """
        version = 1
        sev_snp = { name = "x" }
    """,
        PolicyTypeError,
    )
    assert err.line == 2


def test_version_missing_or_unsupported() -> None:
    err = error('name = "x"\n', PolicyValueError)
    assert err.key_path == "version"
    for text in ("version = 2\n", "version = 0\n"):
        assert error(text, PolicyValueError).line == 1
    assert error('version = "1"\n', PolicyTypeError).line == 1


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('version = 1\n[[sev_snp]]\nname = "a\nvmpl = 0\n', 3),
        ("version = 1\nversion = 1\n", 2),
        ("version = 1\n[[sev_snp]\n", 2),
        ("version = 1\n\n\nmeasurement = = 1\n", 4),
        ("version = 1979-02-30\n", 1),
    ],
)
def test_toml_syntax_error(text: str, line: int) -> None:
    with pytest.raises(PolicySyntaxError) as info:
        parse_policy(text, source="p.toml")
    assert info.value.code == "policy.syntax"
    assert info.value.line == line
    assert info.value.file == "p.toml"


def test_pathological_toml_is_a_syntax_error() -> None:
    # Regression (fixed in 434c97f): tomllib raises a plain ValueError / RecursionError here.
    for text in ("version = " + "9" * 5000 + "\n", "a = " + "[" * 5000 + "]" * 5000 + "\n"):
        with pytest.raises(PolicySyntaxError):
            parse_policy(text)


# --- revocation modes and durations -----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "mode", "grace"),
    [
        ("require", RevocationMode.REQUIRE, timedelta(0)),
        ("if-present", RevocationMode.IF_PRESENT, timedelta(0)),
        ("off", RevocationMode.OFF, timedelta(0)),
        ("allow-stale-until:30d", RevocationMode.ALLOW_STALE, timedelta(days=30)),
        ("allow-stale-until:12h", RevocationMode.ALLOW_STALE, timedelta(hours=12)),
        ("allow-stale-until:5m", RevocationMode.ALLOW_STALE, timedelta(minutes=5)),
        ("allow-stale-until:90s", RevocationMode.ALLOW_STALE, timedelta(seconds=90)),
        ("allow-stale-until:2w", RevocationMode.ALLOW_STALE, timedelta(weeks=2)),
        ("allow-stale-until:1h30m", RevocationMode.ALLOW_STALE, timedelta(minutes=90)),
        ("allow-stale-until:0d", RevocationMode.ALLOW_STALE, timedelta(0)),
    ],
)
def test_revocation_modes(value: str, mode: RevocationMode, grace: timedelta) -> None:
    policy = parse(f'version = 1\n[revocation]\namd_crl = "{value}"\n')
    setting = policy.revocation.amd_crl
    assert setting.mode is mode
    assert setting.max_staleness == grace


@pytest.mark.parametrize(
    "value",
    [
        '"sometimes"',
        '"allow-stale-until:"',
        '"allow-stale-until"',
        '"allow-stale-until:30"',
        '"allow-stale-until:30x"',
        '"allow-stale-until:d"',
        '"allow-stale-until:-1d"',
        '"allow-stale-until:1d 2h"',
        '"Require"',
        '"allow-stale-until:40000d"',
        '"allow-stale-until:' + "9" * 5000 + 'd"',
        '"allow-stale-until:1234567890123s"',
    ],
)
def test_bad_revocation_values(value: str) -> None:
    err = error(f"version = 1\n[revocation]\namd_crl = {value}\n", PolicyValueError)
    assert err.line == 3
    assert err.key_path == "revocation.amd_crl"


def test_revocation_wrong_type() -> None:
    assert error("version = 1\n[revocation]\namd_crl = 5\n", PolicyTypeError).line == 3


# --- warn_only ------------------------------------------------------------------------------


def test_warn_only_known_ids_turn_fail_into_warn() -> None:
    from teeclient.platforms.sev_snp.verify import verify
    from teeclient.policy.appraise import appraise
    from teeclient.policy.result import CheckStatus
    from teeclient.trust import TrustStore
    from tests._snp import Vector

    vector = Vector("genoa-v5-oak")
    claims = verify(
        vector.report, trust=TrustStore.vendor(), now=vector.now, collateral=vector.collateral()
    )
    strict = parse(f'version = 1\n[[sev_snp]]\nmeasurement = "{M48}"\n')
    lenient = parse(
        f'version = 1\n[[sev_snp]]\nmeasurement = "{M48}"\nwarn_only = ["sev_snp.measurement"]\n'
    )
    fail = {c.id: c.status for c in appraise([claims], strict, vector.now).checks}
    warn = {c.id: c.status for c in appraise([claims], lenient, vector.now).checks}
    assert fail["sev_snp.measurement"] is CheckStatus.FAIL
    assert warn["sev_snp.measurement"] is CheckStatus.WARN
    assert appraise([claims], lenient, vector.now).accepted
    assert not appraise([claims], strict, vector.now).accepted


# --- baseline and shipped files -------------------------------------------------------------


def test_baseline_loads() -> None:
    policy = load_baseline()
    assert policy.name == "baseline"
    assert policy.source == "builtin:baseline"
    assert policy.sev_snp is not None
    assert len(policy.sev_snp) == 1
    rule = policy.sev_snp[0]
    assert rule.products == frozenset({"milan", "genoa", "turin"})
    assert rule.signing_keys == frozenset({"vcek", "vlek"})
    assert rule.guest_policy.allow == frozenset({"smt"})
    assert rule.permit_provisional_firmware is False
    assert rule.allow_masked_chip_id is False
    assert policy.revocation.amd_crl.mode is RevocationMode.IF_PRESENT


def test_shipped_baseline_is_byte_identical() -> None:
    shipped = (ROOT / "policies" / "baseline.toml").read_bytes()
    packaged = (ROOT / "src" / "teeclient" / "policy" / "data" / "baseline.toml").read_bytes()
    assert shipped == packaged
    assert baseline_text().encode() == packaged


POLICY_FILES = sorted((ROOT / "policies").rglob("*.toml"))


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_policy_loads_and_lints(path: Path) -> None:
    policy = load_policy(path)
    assert policy.source == str(path)
    sections = [
        s
        for s in ("sev_snp", "tdx", "nitro", "nvidia_gpu", "nvidia_switch")
        if getattr(policy, s, None)
    ]
    assert sections, "a shipped policy accepts some component"
    for warning in lint_policy(policy):
        assert warning.code.startswith("lint.")


def test_policy_files_found() -> None:
    assert ROOT / "policies" / "baseline.toml" in POLICY_FILES


def test_load_policy_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_policy(tmp_path / "missing.toml")
    assert info.value.code == "input.unrecognised"
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(b'version = 1\nname = "caf\xe9"\n')
    with pytest.raises(PolicySyntaxError):
        load_policy(latin1)
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (1024 * 1024 + 1))
    with pytest.raises(InputError):
        load_policy(big)
    good = tmp_path / "good.toml"
    good.write_text("version = 1\n[[sev_snp]]\nvmpl = 0\n")
    assert load_policy(good).source == str(good)
    bad = tmp_path / "bad.toml"
    bad.write_text("version = 1\n[[sev_snp]]\nvmpl = 9\n")
    with pytest.raises(PolicyValueError) as err:
        load_policy(bad)
    assert (err.value.file, err.value.line) == (str(bad), 3)
