"""Fixtures for the fault-injection tests: the loopback raw server of the collateral tests."""

from __future__ import annotations

from tests.collateral.conftest import raw_server

__all__ = ["raw_server"]
