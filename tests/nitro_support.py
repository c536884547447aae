"""Shared helpers for the AWS Nitro tests: real vectors, expectations, generated documents."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from teeclient._time import parse_time
from teeclient.errors import TeeclientError
from teeclient.testing.nitro_evidence import NitroAttester, NitroDocumentSpec, timestamp_ms
from teeclient.testing.pki.nitro import IssuedLeaf, NitroPki
from teeclient.trust import TrustStore
from tests.conftest import REAL

NITRO = REAL / "nitro"
DOCS = NITRO / "docs"
ROOT_FINGERPRINT = "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"
ROOT_ZIP_SHA256 = "8cf60e2b2efca96c6a9e71e851d00c1b6991cc09eadbe64a6a1d1b1eb9faff7c"
BAD_SIGNATURE = "eternis-2024-07-23-bad-signature.cbor"
PROD = "evervault-2022-10-13-prod.cbor"
BINDING = "evervault-2023-09-18-debug.cbor"
BINDING_CERT = NITRO / "bindings" / "evervault-2023-09-18-tls-cert.der"
#: A time inside every generated chain (see NitroPki.generate and NitroAttester.create).
AT = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SOON = AT + timedelta(seconds=5)


@cache
def expectations() -> dict[str, Any]:
    """fixtures/real/nitro/expectations.json (a copy of shared/vectors/nitro)."""
    data: dict[str, Any] = json.loads((NITRO / "expectations.json").read_text())
    return data


def names() -> list[str]:
    """Every vector document's file name."""
    return sorted(expectations())


def valid_names() -> list[str]:
    """The vectors whose every expected boolean is true."""
    return [n for n in names() if all(expectations()[n]["expected"].values())]


def vector(name: str) -> bytes:
    """The bytes of a vector document."""
    return (DOCS / name).read_bytes()


def suggested_now(name: str) -> datetime:
    """The vector's ``suggested_now`` (timestamp + 60 s)."""
    return parse_time(expectations()[name]["verification_time"]["suggested_now"])


@cache
def vendor() -> TrustStore:
    """The shipped trust store (built once per test session)."""
    return TrustStore.vendor()


@dataclass(frozen=True, slots=True)
class Generated:
    """A generated PKI, an enclave leaf on it, and the trust store that trusts its root."""

    pki: NitroPki
    leaf: IssuedLeaf
    trust: TrustStore

    def spec(self, **changes: Any) -> NitroDocumentSpec:
        """A document spec at ``AT`` for this leaf, with ``changes``."""
        base = NitroDocumentSpec(module_id=self.leaf.module_id, timestamp_ms=timestamp_ms(AT))
        return base.replace(**changes) if changes else base

    def document(self, spec: NitroDocumentSpec | None = None, **kwargs: Any) -> bytes:
        """A document signed by this leaf with this PKI's CA bundle."""
        chosen = spec or self.spec()
        kwargs.setdefault("key", self.leaf.key)
        kwargs.setdefault("certificate", self.leaf.der)
        kwargs.setdefault("cabundle", self.pki.cabundle)
        return chosen.build(**kwargs)


def generate(pki: NitroPki | None = None, **leaf_kwargs: Any) -> Generated:
    """A fresh generated enclave (chain valid around ``AT``)."""
    chosen = pki or NitroPki.generate(at=AT)
    leaf_kwargs.setdefault("not_before", AT - timedelta(minutes=1))
    leaf = chosen.issue_leaf(**leaf_kwargs)
    return Generated(chosen, leaf, chosen.trust_store())


def attester(**kwargs: Any) -> NitroAttester:
    """A mock NSM valid around ``AT``."""
    return NitroAttester.create(at=AT, **kwargs)


def code_of(fn: Any, *args: Any, **kwargs: Any) -> str:
    """The code of the TeeclientError ``fn`` raises (fails the test if it does not raise)."""
    with pytest.raises(TeeclientError) as info:
        fn(*args, **kwargs)
    return info.value.code


def read(path: Path) -> bytes:
    """File bytes (typed helper)."""
    return path.read_bytes()
