"""Options shared by commands that fetch collateral: settings from env, then flags."""

from __future__ import annotations

import sys
from pathlib import Path

from teeclient.collateral.gather import GatherEvent
from teeclient.collateral.settings import CollateralSettings

__all__ = ["Progress", "collateral_settings"]


def collateral_settings(
    *,
    cache_dir: Path | None,
    no_cache: bool,
    kds_url: str | None,
    pcs_url: str | None,
    rim_url: str | None,
    ocsp_url: str | None,
) -> CollateralSettings:
    """TEECLIENT_* environment variables, overridden by command-line flags.

    Raises:
        ConfigError: an invalid URL or environment value.
    """
    from dataclasses import replace

    settings = CollateralSettings.from_env()
    for service, url in (
        ("amd_kds", kds_url),
        ("intel_pcs", pcs_url),
        ("nvidia_rim", rim_url),
        ("nvidia_ocsp", ocsp_url),
    ):
        if url:
            settings = settings.with_base_url(service, url)
    if cache_dir is not None:
        settings = replace(settings, cache_dir=cache_dir)
    if no_cache:
        settings = replace(settings, use_cache=False)
    return settings


class Progress:
    """A one-line-per-item progress display on stderr, only on a terminal."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()

    def __call__(self, event: GatherEvent) -> None:
        if not self.enabled:
            return
        prefix = f"[{event.index + 1}/{event.total}] {event.request.purpose}"
        if event.status == "start":
            sys.stderr.write(f"{prefix}: fetching {event.request.url} …\r")
        elif event.status == "done" and event.item is not None:
            sys.stderr.write(
                f"\x1b[2K{prefix}: ok ({event.item.origin}, {len(event.item.data)} bytes)\n"
            )
        elif event.error is not None:
            sys.stderr.write(f"\x1b[2K{prefix}: unavailable ({event.error.code})\n")
        sys.stderr.flush()
