"""[gpu] checks (ids and entry point; the logic is in policy/checks/nvidia.py)."""

from __future__ import annotations

from datetime import datetime

from teeclient.platforms.nvidia.claims import NvidiaNodeClaims
from teeclient.policy.checks import Recorder
from teeclient.policy.checks.nvidia import NODE_CHECKS as CHECKS
from teeclient.policy.checks.nvidia import check_node
from teeclient.policy.model import Policy
from teeclient.policy.sections.nvidia import GpuNodeRule

__all__ = ["CHECKS", "check_alternative"]


def check_alternative(
    claims: NvidiaNodeClaims,
    rule: GpuNodeRule,
    policy: Policy,
    now: datetime,
    *,
    component: str,
    alternative: int,
) -> Recorder:
    """Run every [gpu] check of one alternative against ``claims``."""
    return check_node(claims, rule, policy, now, component=component, alternative=alternative)
