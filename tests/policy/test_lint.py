"""Advisory findings on valid policies: each lint code, and a clean policy has none."""

from __future__ import annotations

import pytest

from teeclient.policy.lint import LintWarning, lint_policy
from teeclient.policy.load import load_baseline, parse_policy

M48 = "ab" * 48
CLEAN = f"""
version = 1
[revocation]
amd_crl = "require"
[[sev_snp]]
measurement = "{M48}"
"""


def lint(text: str) -> list[tuple[str, str]]:
    return [(w.code, w.key_path) for w in lint_policy(parse_policy(text))]


def test_clean_policy_has_no_warnings() -> None:
    assert lint(CLEAN) == []


def test_no_components() -> None:
    assert lint("version = 1\n") == [("lint.no_components", "<top level>")]


def test_revocation_off() -> None:
    assert lint(CLEAN.replace('"require"', '"off"')) == [
        ("lint.revocation_off", "revocation.amd_crl")
    ]


def test_unpinned_measurement_per_alternative() -> None:
    text = CLEAN + "[[sev_snp]]\nvmpl = 0\n"
    assert lint(text) == [("lint.unpinned_measurement", "sev_snp[1]")]


@pytest.mark.parametrize(
    "key",
    [
        "host_data",
        "family_id",
        "image_id",
        "report_id",
        "report_id_ma",
        "report_data",
        "chip_ids",
        "trusted_id_key_hashes",
        "trusted_author_key_hashes",
        "products",
    ],
)
def test_empty_allow_lists(key: str) -> None:
    assert lint(CLEAN + f"{key} = []\n") == [("lint.empty_allow_list", f"sev_snp[0].{key}")]


def test_empty_measurement_list() -> None:
    text = 'version = 1\n[revocation]\namd_crl = "require"\n[[sev_snp]]\nmeasurement = []\n'
    assert lint(text) == [("lint.empty_allow_list", "sev_snp[0].measurement")]


def test_debug_allowed() -> None:
    text = CLEAN + 'guest_policy = { allow = ["smt", "debug"] }\n'
    assert lint(text) == [("lint.debug_allowed", "sev_snp[0].guest_policy.allow")]


@pytest.mark.parametrize(
    "check_id",
    ["sev_snp.guest_policy.debug", "sev_snp.measurement", "sev_snp.signing_key", "sev_snp.product"],
)
def test_risky_warn_only(check_id: str) -> None:
    text = CLEAN + f'warn_only = ["{check_id}", "sev_snp.vmpl"]\n'
    assert lint(text) == [("lint.risky_warn_only", "sev_snp[0].warn_only")]


def test_harmless_warn_only() -> None:
    assert lint(CLEAN + 'warn_only = ["sev_snp.platform_info.unknown_bits"]\n') == []


def test_baseline_lints_as_documented() -> None:
    # the baseline pins no workload on purpose (see its header)
    warnings = lint_policy(load_baseline())
    unpinned = sorted(w.key_path for w in warnings if w.code == "lint.unpinned_measurement")
    # one per platform section that pins no workload
    assert unpinned == ["nitro[0]", "sev_snp[0]", "tdx[0]"]
    # the baseline cannot know a caller's nonce for Nitro documents (see its comments)
    others = {(w.code, w.key_path) for w in warnings if w.code != "lint.unpinned_measurement"}
    assert others == {("lint.no_freshness", "nitro[0]")}


def test_warning_to_dict() -> None:
    warning = LintWarning(code="lint.x", key_path="a.b", message="m")
    assert warning.to_dict() == {"code": "lint.x", "key_path": "a.b", "message": "m"}
