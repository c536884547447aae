"""[[nitro]] checks, one function per rule, reading NitroClaims (specs/nitro.md §4, §5, §6 7–9)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from types import MappingProxyType

from teeclient._time import iso
from teeclient.platforms.nitro.claims import NitroClaims
from teeclient.policy.checks import Recorder, allow_list, expected_of, in_list
from teeclient.policy.model import Policy
from teeclient.policy.sections.nitro import PCR_INDEXES, NitroRule

__all__ = ["CHECKS", "check_alternative"]

_LOG = logging.getLogger(__name__)

CHECKS = MappingProxyType(
    {
        "nitro.partition": "the pinned root anchoring the document belongs to a partition in "
        "`partition_root` (default aws)",
        "nitro.debug": "the enclave is not in debug mode (PCR0, PCR1, PCR2 all zero) unless "
        "`allow_debug`",
        **{f"nitro.pcr{i}": f"PCR{i} equals `pcr{i}` (or one of the list)" for i in PCR_INDEXES},
        "nitro.nonce": "the document's nonce equals the caller's challenge (`require_nonce`) or "
        "one of `nonce` (constant-time compare)",
        "nitro.timestamp.age": "the document's timestamp is at most `max_timestamp_age` old",
        "nitro.timestamp.future": "the document's timestamp is at most `clock_skew` ahead of the "
        "verification time",
        "nitro.user_data": "user_data equals `user_data` (or one of the list; constant-time)",
        "nitro.public_key": "public_key equals `public_key` (or one of the list; constant-time)",
        "nitro.module_id": "module_id matches `module_id_regex`",
        "nitro.region": "the signing certificate's region is in `regions`",
        "nitro.unknown_fields": "the payload has no fields besides the nine AWS defines "
        "(unknown fields are ignored and reported as a warning)",
        "nitro.revocation": "AWS CRLs are not checked (always skip, with the reason; "
        "specs/nitro.md §3 rule 7)",
    }
)


def _iso_ms(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _identity(rec: Recorder, claims: NitroClaims, rule: NitroRule) -> None:
    rec.verdict(
        "nitro.partition",
        claims.partition in rule.partition_root,
        expected=tuple(sorted(rule.partition_root)),
        actual=claims.partition,
        passed=f"anchored by the pinned {claims.partition} root",
        failed=f"anchored by the {claims.partition} root, which the policy does not accept"
        if rule.partition_root
        else "partition_root is empty: nothing is accepted",
    )
    if claims.debug and rule.allow_debug:
        _LOG.warning(
            "accepting a debug-mode Nitro enclave (%s): allow_debug is set", claims.module_id
        )
        rec.warn(
            "nitro.debug",
            expected="production or debug (allow_debug)",
            actual="debug (PCR0-2 all zero)",
            message="debug-mode enclave accepted because allow_debug = true: the parent "
            "instance can read the enclave's console",
        )
    else:
        rec.verdict(
            "nitro.debug",
            not claims.debug,
            expected="production (PCR0-2 set)",
            actual="debug (PCR0-2 all zero)" if claims.debug else "production",
            passed="not a debug-mode enclave",
            failed="debug-mode enclave (PCR0, PCR1 and PCR2 are all zero; the parent instance "
            "can read its console); set allow_debug = true to accept",
        )
    if rule.module_id_regex is None:
        rec.skip("nitro.module_id", "module_id is not constrained", actual=claims.module_id)
    else:
        rec.verdict(
            "nitro.module_id",
            re.fullmatch(rule.module_id_regex, claims.module_id) is not None,
            expected=rule.module_id_regex,
            actual=claims.module_id,
            passed="module_id matches the policy",
            failed="module_id does not match module_id_regex",
        )
    if rule.regions is None:
        rec.skip("nitro.region", "region is not constrained", actual=claims.region)
    else:
        rec.verdict(
            "nitro.region",
            claims.region is not None and claims.region in rule.regions,
            expected=tuple(sorted(rule.regions)),
            actual=claims.region,
            passed=f"region {claims.region} is accepted",
            failed=f"region {claims.region} is not accepted"
            if rule.regions
            else "regions is empty: nothing is accepted",
        )


def _pcrs(rec: Recorder, claims: NitroClaims, rule: NitroRule) -> None:
    for index in PCR_INDEXES:
        allowed = rule.pcr(index)
        actual = claims.pcr(index)
        check_id = f"nitro.pcr{index}"
        if allowed is None:
            if actual is not None:
                rec.skip(check_id, f"PCR{index} is not constrained by the policy", actual=actual)
            continue
        if actual is None:
            rec.verdict(
                check_id,
                False,
                expected=expected_of(allowed),
                actual="absent",
                passed="",
                failed=f"the document carries no PCR{index}",
            )
            continue
        allow_list(rec, check_id, f"PCR{index}", actual, allowed)


def _blob(
    rec: Recorder, check_id: str, label: str, actual: str | None, allowed: tuple[str, ...] | None
) -> None:
    shown = actual if actual is not None else "absent"
    if allowed is None:
        rec.skip(check_id, f"{label} is not constrained by the policy", actual=shown)
        return
    rec.verdict(
        check_id,
        actual is not None and in_list(actual, allowed),
        expected=expected_of(allowed),
        actual=shown,
        passed=f"{label} matches the policy",
        failed=(
            f"the document carries no {label}"
            if actual is None
            else f"{label} is not in the policy's allow-list"
        )
        if allowed
        else f"{label}: the policy's allow-list is empty, nothing is accepted",
    )


def _nonce(rec: Recorder, claims: NitroClaims, rule: NitroRule) -> None:
    shown = claims.nonce if claims.nonce is not None else "absent"
    if rule.nonce is not None:
        _blob(rec, "nitro.nonce", "nonce", claims.nonce, rule.nonce)
    elif rule.require_nonce:
        if claims.nonce is None:
            failed = "the document carries no nonce: it may be a replay"
        else:
            failed = (
                "no challenge was supplied to compare the nonce with (Python nonce=, CLI --nonce)"
            )
        rec.verdict(
            "nitro.nonce",
            claims.nonce_verified,
            expected="the caller's challenge",
            actual=shown,
            passed="the nonce echoes the caller's challenge",
            failed=failed,
        )
    elif claims.nonce_verified:
        rec.verdict(
            "nitro.nonce",
            True,
            expected="the caller's challenge",
            actual=shown,
            passed="the nonce echoes the caller's challenge",
            failed="",
        )
    else:
        rec.skip(
            "nitro.nonce",
            "a nonce is not required by the policy (require_nonce = false): "
            "freshness rests on the timestamp only",
            actual=shown,
        )


def _timestamp(rec: Recorder, claims: NitroClaims, rule: NitroRule, now: datetime) -> None:
    ts = claims.timestamp
    rec.verdict(
        "nitro.timestamp.future",
        ts - now <= rule.clock_skew,
        expected=f"<= {iso(now + rule.clock_skew)}",
        actual=_iso_ms(ts),
        passed="the timestamp is not in the future",
        failed=f"the timestamp is {ts - now} ahead of the verification time "
        f"(clock_skew {rule.clock_skew})",
    )
    if rule.max_timestamp_age is None:
        rec.skip(
            "nitro.timestamp.age",
            "document age is not constrained (max_timestamp_age)",
            actual=_iso_ms(ts),
        )
        return
    rec.verdict(
        "nitro.timestamp.age",
        now - ts <= rule.max_timestamp_age,
        expected=f">= {iso(now - rule.max_timestamp_age)}",
        actual=_iso_ms(ts),
        passed="the document is recent enough",
        failed=f"the document is {now - ts} old (max_timestamp_age {rule.max_timestamp_age})",
    )


def _fields(rec: Recorder, claims: NitroClaims) -> None:
    if claims.unknown_fields:
        rec.warn(
            "nitro.unknown_fields",
            expected="none",
            actual=tuple(claims.unknown_fields),
            message="the payload has fields AWS does not define; they were ignored",
        )
    else:
        rec.verdict(
            "nitro.unknown_fields",
            True,
            expected="none",
            actual="none",
            passed="no unknown payload fields",
            failed="",
        )
    rec.skip(
        "nitro.revocation",
        "NOT CHECKED: AWS CRLs for the regional and zonal CAs are not fetched or applied (AWS's "
        "attestation process does not require them; the chain lives hours to weeks)",
    )


def check_alternative(
    claims: NitroClaims,
    rule: NitroRule,
    policy: Policy,
    now: datetime,
    *,
    component: str,
    alternative: int,
) -> Recorder:
    """Run every [[nitro]] check of one alternative against ``claims``."""
    rec = Recorder(component, alternative, rule.warn_only)
    _identity(rec, claims, rule)
    _pcrs(rec, claims, rule)
    _nonce(rec, claims, rule)
    _timestamp(rec, claims, rule, now)
    _blob(rec, "nitro.user_data", "user_data", claims.user_data, rule.user_data)
    _blob(rec, "nitro.public_key", "public_key", claims.public_key, rule.public_key)
    _fields(rec, claims)
    return rec
