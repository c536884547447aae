"""A disk cache of raw collateral responses, and fetchers that use it.

Each entry is two files named by the request key (SHA-256 of method, URL and body):
``<key>.bin`` (the body exactly as fetched) and ``<key>.json`` (URL, headers, fetch time,
body SHA-256, validity). Writes are atomic (temporary file + ``os.replace``) with private
modes (directory 0700, files 0600). An entry is used until the content's own validity
(certificate notAfter, CRL / TCB-info / OCSP nextUpdate; a default TTL otherwise). A body
whose hash does not match, or that no longer parses, is discarded and refetched. Signatures
are not trusted from the cache: every verification re-checks them.

``CachingFetcher`` makes one request per key at a time (a per-key lock in the process and a
file lock across processes), and serves a stale entry within ``stale_grace`` when the
service fails, marking it ``origin="cache-stale"`` so the appraisal can warn.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from teeclient._time import iso, utc_now
from teeclient.collateral.items import MAX_ITEM_BYTES, CollateralItem, CollateralRequest
from teeclient.collateral.validity import content_valid_until, item_is_well_formed
from teeclient.errors import CollateralError, CollateralInvalidError, CollateralMissingError

_HAS_FLOCK = sys.platform != "win32"  # POSIX advisory locks; in-process locks everywhere

if TYPE_CHECKING:
    from teeclient.collateral.fetch import AsyncFetcher, Fetcher

__all__ = ["AsyncCachingFetcher", "CacheEntry", "CachingFetcher", "DiskCache"]


def _warn(message: str, *args: object) -> None:
    """Log a warning on this module's logger (``logging`` is imported only when needed)."""
    import logging

    logging.getLogger(__name__).warning(message, *args)


_MAX_META_BYTES = 256 * 1024
_META_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheEntry:
    """A cached response and how long its content says it is usable."""

    key: str
    item: CollateralItem
    valid_until: datetime
    stored_at: datetime
    purpose: str

    def fresh(self, now: datetime) -> bool:
        """True while ``now`` is before the content's own validity end."""
        return now <= self.valid_until


class DiskCache:
    """Raw responses on disk under ``directory`` (created lazily, never in the constructor)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _ensure_dir(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):
            os.chmod(self.directory, 0o700)

    def _paths(self, key: str) -> tuple[Path, Path]:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError(f"invalid cache key {key!r}")
        return self.directory / f"{key}.json", self.directory / f"{key}.bin"

    def _write_atomic(self, path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=path.suffix)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """An exclusive advisory lock for ``key`` across processes (POSIX)."""
        self._ensure_dir()
        if not _HAS_FLOCK:  # pragma: no cover - Windows
            yield
            return
        import fcntl

        path = self.directory / f"{key}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def put(self, request: CollateralRequest, item: CollateralItem, valid_until: datetime) -> None:
        """Store ``item`` (body first, then metadata, each atomically)."""
        self._ensure_dir()
        meta_path, body_path = self._paths(request.key)
        self._write_atomic(body_path, item.data)
        meta = {
            "version": _META_VERSION,
            "key": request.key,
            "url": item.source,
            "method": item.method,
            "request_body": base64.b64encode(item.request_body).decode()
            if item.request_body is not None
            else None,
            "purpose": request.purpose,
            "media_type": item.media_type,
            "headers": dict(item.headers),
            "fetched_at": iso(item.fetched_at) if item.fetched_at else None,
            "stored_at": iso(utc_now()),
            "valid_until": iso(valid_until),
            "sha256": hashlib.sha256(item.data).hexdigest(),
            "size": len(item.data),
        }
        self._write_atomic(meta_path, json.dumps(meta, indent=1).encode())

    def get(self, key: str) -> CacheEntry | None:
        """The entry for ``key``, or None; a corrupt entry is deleted and reported as absent."""
        meta_path, body_path = self._paths(key)
        try:
            if meta_path.stat().st_size > _MAX_META_BYTES:
                raise ValueError("metadata too large")
            meta: dict[str, Any] = json.loads(meta_path.read_bytes())
            if body_path.stat().st_size > MAX_ITEM_BYTES:
                raise ValueError("body larger than any collateral item")
            body = body_path.read_bytes()
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            _warn("discarding unreadable cache entry %s: %s", key, exc)
            self.delete(key)
            return None
        try:
            if meta.get("version") != _META_VERSION or meta.get("key") != key:
                raise ValueError("metadata does not describe this key")
            if hashlib.sha256(body).hexdigest() != meta["sha256"] or len(body) != meta["size"]:
                raise ValueError("body does not match its recorded SHA-256")
            request_body = (
                base64.b64decode(meta["request_body"]) if meta.get("request_body") else None
            )
            item = CollateralItem(
                data=body,
                source=str(meta["url"]),
                media_type=meta.get("media_type"),
                headers=MappingProxyType({str(k): str(v) for k, v in meta["headers"].items()}),
                fetched_at=datetime.fromisoformat(meta["fetched_at"])
                if meta.get("fetched_at")
                else None,
                method=str(meta.get("method", "GET")),
                request_body=request_body,
                origin="cache",
            )
            entry = CacheEntry(
                key=key,
                item=item,
                valid_until=datetime.fromisoformat(meta["valid_until"]),
                stored_at=datetime.fromisoformat(meta["stored_at"]),
                purpose=str(meta.get("purpose", "")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            _warn("discarding corrupt cache entry %s: %s", key, exc)
            self.delete(key)
            return None
        return entry

    def delete(self, key: str) -> None:
        """Remove an entry (both files); missing files are fine."""
        for path in self._paths(key):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def keys(self) -> list[str]:
        """Every key with a metadata file."""
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.json") if len(p.stem) == 64)

    def entries(self) -> list[CacheEntry]:
        """Every readable entry (corrupt ones are discarded on the way)."""
        return [e for k in self.keys() if (e := self.get(k)) is not None]

    def clear(self) -> int:
        """Delete every entry and lock file; return how many entries were removed."""
        keys = self.keys()
        for key in keys:
            self.delete(key)
        if self.directory.is_dir():
            for lock in self.directory.glob("*.lock"):
                with contextlib.suppress(OSError):
                    lock.unlink()
        return len(keys)


def _valid_until(item: CollateralItem, now: datetime, default_ttl: timedelta) -> datetime:
    own = content_valid_until(item)
    return own if own is not None else now + default_ttl


class _KeyLocks:
    """One lock per cache key, created on demand (in-process single flight)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def get(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


class CachingFetcher:
    """Serve from the disk cache while fresh; otherwise fetch through ``inner`` and store."""

    def __init__(
        self,
        inner: Fetcher,
        cache: DiskCache,
        *,
        clock: Callable[[], datetime] = utc_now,
        default_ttl: timedelta = timedelta(hours=1),
        stale_grace: timedelta = timedelta(0),
        validator: Callable[[CollateralItem], bool] = item_is_well_formed,
    ) -> None:
        self.inner = inner
        self.cache = cache
        self.clock = clock
        self.default_ttl = default_ttl
        self.stale_grace = stale_grace
        self.validator = validator
        self._locks = _KeyLocks()

    def _usable(self, entry: CacheEntry | None, now: datetime) -> CacheEntry | None:
        if entry is None:
            return None
        if not self.validator(entry.item):
            _warn("discarding cached %s: content no longer parses", entry.item.source)
            self.cache.delete(entry.key)
            return None
        return entry

    def fetch(self, request: CollateralRequest) -> CollateralItem:
        """The cached item while fresh; else a fetched one (stored); else stale within grace."""
        with self._locks.get(request.key), self.cache.lock(request.key):
            now = self.clock()
            entry = self._usable(self.cache.get(request.key), now)
            if entry is not None and entry.fresh(now):
                return entry.item
            if not request.allow_network:
                raise CollateralMissingError(
                    f"{request.purpose}: not cached, and not fetched for this request",
                    field=request.purpose,
                    expected=request.url,
                    actual="not in cache",
                )
            try:
                item = self.inner.fetch(request)
            except CollateralError:
                if entry is not None and now <= entry.valid_until + self.stale_grace:
                    _warn("using stale cached %s (service unavailable)", request.url)
                    return replace(entry.item, origin="cache-stale")
                raise
            if not self.validator(item):
                raise CollateralInvalidError(
                    f"{request.purpose}: the service returned content that does not parse",
                    field=request.purpose,
                    expected=request.media_type or "collateral",
                    actual=f"{len(item.data)} bytes",
                )
            self.cache.put(request, item, _valid_until(item, now, self.default_ttl))
            return item


class AsyncCachingFetcher:
    """Async twin of CachingFetcher: one in-flight request per key (asyncio locks)."""

    def __init__(
        self,
        inner: AsyncFetcher,
        cache: DiskCache,
        *,
        clock: Callable[[], datetime] = utc_now,
        default_ttl: timedelta = timedelta(hours=1),
        stale_grace: timedelta = timedelta(0),
        validator: Callable[[CollateralItem], bool] = item_is_well_formed,
    ) -> None:
        self.inner = inner
        self.cache = cache
        self.clock = clock
        self.default_ttl = default_ttl
        self.stale_grace = stale_grace
        self.validator = validator
        self._locks: dict[str, Any] = {}

    async def fetch(self, request: CollateralRequest) -> CollateralItem:
        """See CachingFetcher.fetch."""
        import asyncio

        lock: asyncio.Lock = self._locks.setdefault(request.key, asyncio.Lock())
        async with lock:
            now = self.clock()
            entry = self.cache.get(request.key)
            if entry is not None and not self.validator(entry.item):
                self.cache.delete(entry.key)
                entry = None
            if entry is not None and entry.fresh(now):
                return entry.item
            if not request.allow_network:
                raise CollateralMissingError(
                    f"{request.purpose}: not cached, and not fetched for this request",
                    field=request.purpose,
                    expected=request.url,
                    actual="not in cache",
                )
            try:
                item = await self.inner.fetch(request)
            except CollateralError:
                if entry is not None and now <= entry.valid_until + self.stale_grace:
                    return replace(entry.item, origin="cache-stale")
                raise
            if not self.validator(item):
                raise CollateralInvalidError(
                    f"{request.purpose}: the service returned content that does not parse",
                    field=request.purpose,
                    expected=request.media_type or "collateral",
                    actual=f"{len(item.data)} bytes",
                )
            self.cache.put(request, item, _valid_until(item, now, self.default_ttl))
            return item
