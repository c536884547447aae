"""[[nvidia_gpu]] checks (ids and entry point; the logic is in policy/checks/nvidia.py)."""

from __future__ import annotations

from datetime import datetime

from teeclient.platforms.nvidia.claims import GpuClaims
from teeclient.policy.checks import Recorder
from teeclient.policy.checks.nvidia import GPU_CHECKS as CHECKS
from teeclient.policy.checks.nvidia import check_gpu
from teeclient.policy.model import Policy
from teeclient.policy.sections.nvidia import NvidiaGpuRule

__all__ = ["CHECKS", "check_alternative"]


def check_alternative(
    claims: GpuClaims,
    rule: NvidiaGpuRule,
    policy: Policy,
    now: datetime,
    *,
    component: str,
    alternative: int,
) -> Recorder:
    """Run every [[nvidia_gpu]] check of one alternative against ``claims``."""
    return check_gpu(claims, rule, policy, now, component=component, alternative=alternative)
