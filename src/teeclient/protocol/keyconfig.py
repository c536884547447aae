"""RFC 9458 §3 key configurations and ``application/ohttp-keys`` lists: parse, serialize, select.

A key configuration names one gateway key and the symmetric algorithms it accepts::

    Key Config {
      Key Identifier (8),
      HPKE KEM ID (16),
      HPKE Public Key (Npk * 8),
      HPKE Symmetric Algorithms Length (16) = 4..65532,
      HPKE Symmetric Algorithms (32) ...,          # KDF ID (16), AEAD ID (16)
    }

``application/ohttp-keys`` (RFC 9458 §3.2) is a sequence of configurations, each prefixed by
its 2-byte length. Clients must discard a list with any encoding error (§3.2), so parsing is
all or nothing. Entries whose KEM teeclient does not implement are kept as raw bytes in
``KeyConfigList.unsupported`` (their public-key length is unknown, so they cannot be parsed);
unknown KDF or AEAD ids inside a supported configuration are kept and never selected.

Decisions where RFC 9458 is silent: a configuration that repeats a (KDF, AEAD) pair and a
list that repeats a key id are malformed; a list holds at most 32 configurations and 64 KiB.

Suite selection prefers the post-quantum hybrid MLKEM768-X25519 whenever any configuration
offers it, then DHKEM(X25519); within a KEM the AEAD order is AES-256-GCM,
ChaCha20-Poly1305, AES-128-GCM (256-bit keys first).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from teeclient.errors import KeyConfigMismatchError, MalformedMessageError, UnsupportedSuiteError
from teeclient.protocol._wire import Cursor
from teeclient.protocol.hpke import AeadId, KdfId, KemId, PublicKey, Suite, public_key_length

__all__ = [
    "DEFAULT_PREFERENCES",
    "MAX_KEY_CONFIGS",
    "MAX_LIST_BYTES",
    "MEDIA_TYPE",
    "KeyConfig",
    "KeyConfigList",
    "Selection",
    "SymmetricAlgorithm",
    "parse_key_config",
    "parse_key_config_list",
    "select_suite",
    "serialize_key_config_list",
]

MEDIA_TYPE = "application/ohttp-keys"
MAX_KEY_CONFIGS = 32
MAX_LIST_BYTES = 64 * 1024
_MAX_ALGORITHMS_BYTES = 65532  # RFC 9458 §3.1


def _suite(kem: KemId, aead: AeadId) -> Suite:
    return Suite(kem=kem, kdf=KdfId.HKDF_SHA256, aead=aead)


DEFAULT_PREFERENCES: tuple[Suite, ...] = tuple(
    _suite(kem, aead)
    for kem in (KemId.MLKEM768_X25519, KemId.DHKEM_X25519_HKDF_SHA256)
    for aead in (AeadId.AES_256_GCM, AeadId.CHACHA20_POLY1305, AeadId.AES_128_GCM)
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SymmetricAlgorithm:
    """One (KDF, AEAD) pair a key configuration accepts; ids teeclient lacks are kept."""

    kdf_id: int
    aead_id: int

    def __post_init__(self) -> None:
        if not (0 <= self.kdf_id <= 0xFFFF and 0 <= self.aead_id <= 0xFFFF):
            raise ValueError("KDF and AEAD ids are 16-bit values")

    @property
    def supported(self) -> bool:
        """True when teeclient implements both algorithms."""
        return self.kdf_id in KdfId._value2member_map_ and self.aead_id in AeadId._value2member_map_


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyConfig:
    """One RFC 9458 key configuration: key id, KEM, public key and accepted algorithms."""

    key_id: int
    public_key: PublicKey
    algorithms: tuple[SymmetricAlgorithm, ...]

    def __post_init__(self) -> None:
        if not 0 <= self.key_id <= 0xFF:
            raise ValueError("a key id is an 8-bit value")
        if not 1 <= len(self.algorithms) <= _MAX_ALGORITHMS_BYTES // 4:
            raise ValueError("a key configuration lists 1..16383 symmetric algorithms")
        if len(set(self.algorithms)) != len(self.algorithms):
            raise ValueError("a key configuration lists a (KDF, AEAD) pair twice")

    @classmethod
    def create(cls, key_id: int, public_key: PublicKey, suites: Iterable[Suite]) -> KeyConfig:
        """A configuration offering ``suites`` (all for ``public_key``'s KEM)."""
        algorithms = []
        for suite in suites:
            if suite.kem is not public_key.kem:
                raise ValueError(f"suite {suite} does not use the key's KEM")
            algorithms.append(SymmetricAlgorithm(kdf_id=suite.kdf, aead_id=suite.aead))
        return cls(key_id=key_id, public_key=public_key, algorithms=tuple(algorithms))

    @property
    def kem(self) -> KemId:
        """The configuration's KEM."""
        return self.public_key.kem

    def suites(self) -> tuple[Suite, ...]:
        """The HPKE suites teeclient can use with this configuration, in offered order."""
        return tuple(
            Suite(kem=self.kem, kdf=KdfId(a.kdf_id), aead=AeadId(a.aead_id))
            for a in self.algorithms
            if a.supported
        )

    def offers(self, suite: Suite) -> bool:
        """True when ``suite`` uses this key's KEM and lists its (KDF, AEAD)."""
        pair = SymmetricAlgorithm(kdf_id=suite.kdf, aead_id=suite.aead)
        return suite.kem is self.kem and pair in self.algorithms

    def require(self, suite: Suite) -> None:
        """Raise KeyConfigMismatchError unless this configuration accepts ``suite``."""
        if not self.offers(suite):
            raise KeyConfigMismatchError(
                "the key configuration does not accept this suite",
                field="suite",
                expected=[str(s) for s in self.suites()],
                actual=str(suite),
            )

    def to_bytes(self) -> bytes:
        """The RFC 9458 §3.1 encoding."""
        algorithms = b"".join(
            a.kdf_id.to_bytes(2, "big") + a.aead_id.to_bytes(2, "big") for a in self.algorithms
        )
        return (
            bytes([self.key_id])
            + self.kem.to_bytes(2, "big")
            + self.public_key.raw
            + len(algorithms).to_bytes(2, "big")
            + algorithms
        )


def parse_key_config(data: bytes, *, field: str = "key_config") -> KeyConfig:
    """Parse exactly one key configuration (no list framing, no trailing bytes).

    Raises:
        MalformedMessageError: truncated, trailing bytes, bad lengths, a repeated pair.
        UnsupportedSuiteError: a KEM teeclient does not implement.
    """
    data = bytes(data)
    cursor = Cursor(data, "key configuration")
    key_id = cursor.uint(1, f"{field}.key_id")
    kem_id = cursor.uint(2, f"{field}.kem_id")
    try:
        kem = KemId(kem_id)
    except ValueError:
        raise UnsupportedSuiteError(
            "unsupported KEM in key configuration", field=f"{field}.kem_id", actual=f"{kem_id:#06x}"
        ) from None
    raw_key = cursor.take(public_key_length(kem), f"{field}.public_key")
    public_key = PublicKey.from_bytes(kem, raw_key, field_name=f"{field}.public_key")
    length = cursor.uint(2, f"{field}.algorithms_length")
    if length < 4 or length > _MAX_ALGORITHMS_BYTES or length % 4:
        raise MalformedMessageError(
            "symmetric algorithms length must be a non-zero multiple of 4",
            field=f"{field}.algorithms_length",
            actual=length,
        )
    if length != cursor.remaining:
        raise MalformedMessageError(
            "symmetric algorithms length does not match the configuration",
            field=f"{field}.algorithms_length",
            expected=cursor.remaining,
            actual=length,
        )
    algorithms = tuple(
        SymmetricAlgorithm(
            kdf_id=cursor.uint(2, f"{field}.kdf_id"), aead_id=cursor.uint(2, f"{field}.aead_id")
        )
        for _ in range(length // 4)
    )
    if len(set(algorithms)) != len(algorithms):
        raise MalformedMessageError(
            "key configuration lists a (KDF, AEAD) pair twice", field=f"{field}.algorithms"
        )
    return KeyConfig(key_id=key_id, public_key=public_key, algorithms=algorithms)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyConfigList:
    """A parsed ``application/ohttp-keys`` body."""

    configs: tuple[KeyConfig, ...]
    unsupported: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        ids = [c.key_id for c in self.configs]
        if len(set(ids)) != len(ids):
            raise ValueError("a key configuration list repeats a key id")

    def find(self, key_id: int) -> KeyConfig:
        """The configuration with ``key_id``.

        Raises:
            KeyConfigMismatchError: no configuration has that key id.
        """
        for config in self.configs:
            if config.key_id == key_id:
                return config
        raise KeyConfigMismatchError(
            "no key configuration has this key id",
            field="key_id",
            expected=[c.key_id for c in self.configs],
            actual=key_id,
        )

    def to_bytes(self) -> bytes:
        """The ``application/ohttp-keys`` encoding (supported configurations only)."""
        return serialize_key_config_list(self.configs)


def parse_key_config_list(data: bytes) -> KeyConfigList:
    """Parse an ``application/ohttp-keys`` body (RFC 9458 §3.2); any encoding error rejects it.

    Raises:
        MalformedMessageError: empty, truncated, too large, repeated key ids, a bad entry.
    """
    data = bytes(data)
    if len(data) > MAX_LIST_BYTES:
        raise MalformedMessageError(
            "key configuration list is too large",
            field="ohttp_keys",
            expected=f"at most {MAX_LIST_BYTES} bytes",
            actual=f"{len(data)} bytes",
        )
    cursor = Cursor(data, "key configuration list")
    configs: list[KeyConfig] = []
    unsupported: list[bytes] = []
    seen: set[int] = set()
    while cursor.remaining:
        index = len(configs) + len(unsupported)
        if index >= MAX_KEY_CONFIGS:
            raise MalformedMessageError(
                "key configuration list has too many entries",
                field="ohttp_keys",
                expected=f"at most {MAX_KEY_CONFIGS}",
            )
        length = cursor.uint(2, f"ohttp_keys[{index}].length")
        entry = cursor.take(length, f"ohttp_keys[{index}]")
        if len(entry) < 3:
            raise MalformedMessageError(
                "key configuration entry is too short", field=f"ohttp_keys[{index}]"
            )
        if entry[0] in seen:
            raise MalformedMessageError(
                "key configuration list repeats a key id",
                field=f"ohttp_keys[{index}].key_id",
                actual=entry[0],
            )
        seen.add(entry[0])
        kem_id = int.from_bytes(entry[1:3], "big")
        if kem_id not in KemId._value2member_map_:
            unsupported.append(entry)
            continue
        configs.append(parse_key_config(entry, field=f"ohttp_keys[{index}]"))
    if not configs and not unsupported:
        raise MalformedMessageError("key configuration list is empty", field="ohttp_keys")
    return KeyConfigList(configs=tuple(configs), unsupported=tuple(unsupported))


def serialize_key_config_list(configs: Sequence[KeyConfig]) -> bytes:
    """Encode configurations as ``application/ohttp-keys`` (2-byte length before each)."""
    if not configs:
        raise ValueError("a key configuration list needs at least one configuration")
    out = bytearray()
    for config in configs:
        encoded = config.to_bytes()
        out += len(encoded).to_bytes(2, "big") + encoded
    return bytes(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """The configuration and suite a client will encrypt to."""

    config: KeyConfig
    suite: Suite

    def __post_init__(self) -> None:
        if not self.config.offers(self.suite):
            raise ValueError("the selected suite is not offered by the configuration")


def select_suite(
    configs: KeyConfigList | Iterable[KeyConfig],
    *,
    preferences: Sequence[Suite] = DEFAULT_PREFERENCES,
) -> Selection:
    """The most preferred suite any configuration offers (ties: first configuration).

    ``preferences`` is ordered best first; pass a shorter list to require, for example,
    the post-quantum KEM only.

    Raises:
        UnsupportedSuiteError: no configuration offers any preferred suite.
    """
    candidates = tuple(configs.configs if isinstance(configs, KeyConfigList) else configs)
    for suite in preferences:
        for config in candidates:
            if config.offers(suite):
                return Selection(config=config, suite=suite)
    offered = sorted({str(s) for c in candidates for s in c.suites()})
    raise UnsupportedSuiteError(
        "no offered HPKE suite is acceptable",
        field="suite",
        expected=[str(s) for s in preferences],
        actual=offered,
    )
