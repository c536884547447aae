"""Collateral settings: service base URLs, timeouts, retries, sizes and the cache directory.

Nothing here reads the environment except ``CollateralSettings.from_env``, which only the CLI
calls. Base URLs are configurable so users can point at a PCCS, a caching proxy or a mirror.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from teeclient.collateral.items import MAX_ITEM_BYTES
from teeclient.errors import ConfigError

__all__ = ["DEFAULT_BASE_URLS", "CollateralSettings", "default_cache_dir"]

DEFAULT_BASE_URLS: Mapping[str, str] = {
    "amd_kds": "https://kdsintf.amd.com",
    "intel_pcs": "https://api.trustedservices.intel.com",
    "nvidia_rim": "https://rim.attestation.nvidia.com",
    "nvidia_ocsp": "https://ocsp.ndis.nvidia.com",
    # A full URL, not a base: the Intel SGX Root CA's CRL distribution point.
    "intel_root_crl": "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der",
}

ENV_PREFIX = "TEECLIENT_"


def default_cache_dir(
    *, platform: str | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """The user cache directory for teeclient on this operating system."""
    env = os.environ if environ is None else environ
    system = platform or sys.platform
    home = Path(env.get("HOME") or Path.home())
    if system.startswith("win"):
        base = Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local")
        return base / "teeclient" / "Cache"
    if system == "darwin":
        return home / "Library" / "Caches" / "teeclient"
    xdg = env.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else home / ".cache") / "teeclient"


@dataclass(frozen=True, slots=True, kw_only=True)
class CollateralSettings:
    """How collateral is fetched and cached."""

    base_urls: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_BASE_URLS))
    cache_dir: Path | None = None
    use_cache: bool = True
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    deadline: float = 30.0
    attempts: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    max_retry_after: float = 30.0
    max_body_bytes: int = 8 * 1024 * 1024
    default_ttl: timedelta = timedelta(hours=1)
    stale_grace: timedelta = timedelta(0)
    # NVIDIA OCSP requests carry a nonce derived from the evidence's own nonce (deterministic,
    # so bundles re-plan to the same requests; echoed nonces are checked by the verifier).
    ocsp_nonce: bool = False

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.deadline <= 0 or self.max_body_bytes <= 0:
            raise ValueError("attempts, deadline and max_body_bytes must be positive")
        if self.max_body_bytes > MAX_ITEM_BYTES:
            raise ValueError(f"max_body_bytes is at most {MAX_ITEM_BYTES} (a collateral item)")
        unknown = set(self.base_urls) - set(DEFAULT_BASE_URLS)
        if unknown:
            raise ValueError(f"unknown collateral services: {sorted(unknown)}")

    def base_url(self, service: str) -> str:
        """The base URL of a collateral service (``amd_kds``, ``intel_pcs``, ...).

        ``intel_root_crl`` is the full URL of the Intel SGX Root CA CRL, not a base.
        """
        return self.base_urls.get(service, DEFAULT_BASE_URLS[service]).rstrip("/")

    def with_base_url(self, service: str, url: str) -> CollateralSettings:
        """A copy with one service's base URL replaced."""
        if service not in DEFAULT_BASE_URLS:
            raise ConfigError(
                "unknown collateral service",
                field=service,
                expected=", ".join(DEFAULT_BASE_URLS),
                actual=service,
            )
        if not url.startswith(("https://", "http://")):
            raise ConfigError(
                "collateral base URL must be http(s)",
                field=service,
                expected="https://host[:port][/path]",
                actual=url,
            )
        return replace(self, base_urls={**self.base_urls, service: url})

    def resolved_cache_dir(self) -> Path:
        """The cache directory: configured, else the platform default."""
        return self.cache_dir if self.cache_dir is not None else default_cache_dir()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CollateralSettings:
        """Settings from ``TEECLIENT_*`` variables (only the CLI calls this).

        ``TEECLIENT_AMD_KDS_URL``, ``TEECLIENT_INTEL_PCS_URL``, ``TEECLIENT_NVIDIA_RIM_URL``,
        ``TEECLIENT_NVIDIA_OCSP_URL``, ``TEECLIENT_INTEL_ROOT_CRL_URL`` (full URL),
        ``TEECLIENT_CACHE_DIR``, ``TEECLIENT_NO_CACHE=1``, ``TEECLIENT_OCSP_NONCE=1``,
        ``TEECLIENT_HTTP_TIMEOUT`` (seconds, read timeout), ``TEECLIENT_HTTP_ATTEMPTS``.

        Raises:
            ConfigError: a variable has an invalid value.
        """
        env = os.environ if environ is None else environ
        settings = cls()
        for service in DEFAULT_BASE_URLS:
            value = env.get(f"{ENV_PREFIX}{service.upper()}_URL")
            if value:
                settings = settings.with_base_url(service, value)
        changes: dict[str, object] = {}
        if env.get(f"{ENV_PREFIX}CACHE_DIR"):
            changes["cache_dir"] = Path(env[f"{ENV_PREFIX}CACHE_DIR"])
        if env.get(f"{ENV_PREFIX}NO_CACHE") in ("1", "true", "yes"):
            changes["use_cache"] = False
        if env.get(f"{ENV_PREFIX}OCSP_NONCE") in ("1", "true", "yes"):
            changes["ocsp_nonce"] = True
        for name, attr, kind in (
            ("HTTP_TIMEOUT", "read_timeout", float),
            ("HTTP_ATTEMPTS", "attempts", int),
        ):
            raw = env.get(f"{ENV_PREFIX}{name}")
            if raw:
                try:
                    value_num = kind(raw)
                except ValueError as exc:
                    raise ConfigError(
                        "invalid environment value",
                        field=f"{ENV_PREFIX}{name}",
                        expected="a number",
                        actual=raw,
                    ) from exc
                if value_num <= 0:
                    raise ConfigError(
                        "invalid environment value",
                        field=f"{ENV_PREFIX}{name}",
                        expected="> 0",
                        actual=raw,
                    )
                changes[attr] = value_num
        return replace(settings, **changes)  # type: ignore[arg-type]
