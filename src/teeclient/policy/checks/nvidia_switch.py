"""[[nvidia_switch]] checks (ids and entry point; the logic is in policy/checks/nvidia.py)."""

from __future__ import annotations

from datetime import datetime

from teeclient.platforms.nvidia.claims import SwitchClaims
from teeclient.policy.checks import Recorder
from teeclient.policy.checks.nvidia import SWITCH_CHECKS as CHECKS
from teeclient.policy.checks.nvidia import check_switch
from teeclient.policy.model import Policy
from teeclient.policy.sections.nvidia import NvidiaSwitchRule

__all__ = ["CHECKS", "check_alternative"]


def check_alternative(
    claims: SwitchClaims,
    rule: NvidiaSwitchRule,
    policy: Policy,
    now: datetime,
    *,
    component: str,
    alternative: int,
) -> Recorder:
    """Run every [[nvidia_switch]] check of one alternative against ``claims``."""
    return check_switch(claims, rule, policy, now, component=component, alternative=alternative)
