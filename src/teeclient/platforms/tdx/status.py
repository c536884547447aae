"""The TDX TCB status vocabulary (a leaf module: policy and claims import it cheaply)."""

from __future__ import annotations

import enum

__all__ = ["TcbStatus"]


class TcbStatus(enum.StrEnum):
    """TCB statuses: Intel's TCB Info vocabulary plus the Intel QVL verdicts (tdx.md §5.8)."""

    UP_TO_DATE = "UpToDate"
    SW_HARDENING_NEEDED = "SWHardeningNeeded"
    CONFIGURATION_NEEDED = "ConfigurationNeeded"
    CONFIGURATION_AND_SW_HARDENING_NEEDED = "ConfigurationAndSWHardeningNeeded"
    OUT_OF_DATE = "OutOfDate"
    OUT_OF_DATE_CONFIGURATION_NEEDED = "OutOfDateConfigurationNeeded"
    REVOKED = "Revoked"
    TCB_NOT_SUPPORTED = "TCB_NOT_SUPPORTED"
    TDX_MODULE_MISMATCH = "TDX_MODULE_MISMATCH"
    TD_RELAUNCH_ADVISED = "TD_RELAUNCH_ADVISED"
    TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED = "TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED"
