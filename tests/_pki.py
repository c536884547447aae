"""Generated AMD PKIs for tests, built once per test session (RSA-2048 key generation is slow)."""

from __future__ import annotations

from functools import cache

from teeclient.testing.pki.amd import AmdPki


@cache
def amd_pki(product: str, variant: str = "main") -> AmdPki:
    """The generated PKI for ``product``; another ``variant`` is an independent PKI."""
    return AmdPki.generate(product)
