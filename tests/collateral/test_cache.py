"""DiskCache and CachingFetcher: freshness from content, corruption, stale-if-error, modes."""

from __future__ import annotations

import json
import stat
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from teeclient.collateral.cache import CachingFetcher, DiskCache
from teeclient.collateral.items import CollateralItem, CollateralRequest
from teeclient.collateral.settings import CollateralSettings, default_cache_dir
from teeclient.collateral.validity import content_valid_until
from teeclient.errors import (
    CollateralFetchError,
    CollateralInvalidError,
    CollateralMissingError,
    ConfigError,
)
from teeclient.testing.pki.amd import AmdPki

from .conftest import GENOA, Clock

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class ScriptedFetcher:
    """Returns scripted items or errors and counts calls."""

    def __init__(self, *answers: CollateralItem | Exception) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.lock = threading.Lock()

    def fetch(self, request: CollateralRequest) -> CollateralItem:
        with self.lock:
            self.calls += 1
            answer = self.answers[min(self.calls, len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


def _crl_item(pki: AmdPki, this: datetime, next_: datetime, url: str) -> CollateralItem:
    return CollateralItem(
        data=pki.crl(this_update=this, next_update=next_),
        source=url,
        fetched_at=this,
        origin="network",
    )


@pytest.fixture(scope="module")
def pki() -> AmdPki:
    return AmdPki.generate("genoa")


REQ = CollateralRequest(url="https://kds.test/vcek/v1/Genoa/crl", purpose="crl")


def test_fresh_entry_served_from_cache(tmp_path: Path, pki: AmdPki, clock: Clock) -> None:
    item = _crl_item(pki, NOW, NOW + timedelta(days=1), REQ.url)
    inner = ScriptedFetcher(item)
    fetcher = CachingFetcher(inner, DiskCache(tmp_path), clock=clock)
    first = fetcher.fetch(REQ)
    second = fetcher.fetch(REQ)
    assert inner.calls == 1
    assert first.origin == "network" and second.origin == "cache"
    assert second.data == item.data
    assert content_valid_until(second) == NOW + timedelta(days=1)


def test_refetch_after_next_update(tmp_path: Path, pki: AmdPki, clock: Clock) -> None:
    old = _crl_item(pki, NOW, NOW + timedelta(days=1), REQ.url)
    new = _crl_item(pki, NOW + timedelta(days=2), NOW + timedelta(days=3), REQ.url)
    inner = ScriptedFetcher(old, new)
    fetcher = CachingFetcher(inner, DiskCache(tmp_path), clock=clock)
    fetcher.fetch(REQ)
    clock.advance(timedelta(days=1, seconds=1))
    assert fetcher.fetch(REQ).data == new.data
    assert inner.calls == 2
    assert fetcher.fetch(REQ).origin == "cache"
    assert inner.calls == 2


def test_corrupted_body_is_discarded_and_refetched(tmp_path: Path, pki: AmdPki) -> None:
    item = _crl_item(pki, NOW, NOW + timedelta(days=1), REQ.url)
    inner = ScriptedFetcher(item)
    cache = DiskCache(tmp_path)
    fetcher = CachingFetcher(inner, cache, clock=lambda: NOW)
    fetcher.fetch(REQ)
    body = tmp_path / f"{REQ.key}.bin"
    data = bytearray(body.read_bytes())
    data[10] ^= 0xFF
    body.write_bytes(bytes(data))
    assert fetcher.fetch(REQ).origin == "network"
    assert inner.calls == 2


def test_consistent_but_unparseable_entry_is_discarded(tmp_path: Path, pki: AmdPki) -> None:
    import hashlib

    item = _crl_item(pki, NOW, NOW + timedelta(days=1), REQ.url)
    inner = ScriptedFetcher(item)
    cache = DiskCache(tmp_path)
    fetcher = CachingFetcher(inner, cache, clock=lambda: NOW)
    fetcher.fetch(REQ)
    garbage = b"\x30\x03\x02\x01\x00"  # DER, but neither certificate nor CRL
    (tmp_path / f"{REQ.key}.bin").write_bytes(garbage)
    meta_path = tmp_path / f"{REQ.key}.json"
    meta = json.loads(meta_path.read_text())
    meta.update(sha256=hashlib.sha256(garbage).hexdigest(), size=len(garbage))
    meta_path.write_text(json.dumps(meta))
    assert fetcher.fetch(REQ).origin == "network"
    assert inner.calls == 2


def test_corrupt_metadata_is_discarded(tmp_path: Path, pki: AmdPki) -> None:
    item = _crl_item(pki, NOW, NOW + timedelta(days=1), REQ.url)
    inner = ScriptedFetcher(item)
    fetcher = CachingFetcher(inner, DiskCache(tmp_path), clock=lambda: NOW)
    fetcher.fetch(REQ)
    (tmp_path / f"{REQ.key}.json").write_text("{not json")
    assert fetcher.fetch(REQ).origin == "network"
    assert inner.calls == 2


def test_stale_if_error_within_grace(tmp_path: Path, pki: AmdPki, clock: Clock) -> None:
    item = _crl_item(pki, NOW, NOW + timedelta(days=1), REQ.url)
    down = CollateralFetchError("service down", field="crl")
    inner = ScriptedFetcher(item, down)
    fetcher = CachingFetcher(inner, DiskCache(tmp_path), clock=clock, stale_grace=timedelta(days=2))
    fetcher.fetch(REQ)
    clock.advance(timedelta(days=2))
    stale = fetcher.fetch(REQ)
    assert stale.origin == "cache-stale"
    assert stale.data == item.data
    clock.advance(timedelta(days=2))
    with pytest.raises(CollateralFetchError):
        fetcher.fetch(REQ)


def test_no_grace_means_no_stale_use(tmp_path: Path, pki: AmdPki, clock: Clock) -> None:
    item = _crl_item(pki, NOW, NOW + timedelta(days=1), REQ.url)
    inner = ScriptedFetcher(item, CollateralFetchError("down", field="crl"))
    fetcher = CachingFetcher(inner, DiskCache(tmp_path), clock=clock)
    fetcher.fetch(REQ)
    clock.advance(timedelta(days=1, hours=1))
    with pytest.raises(CollateralFetchError):
        fetcher.fetch(REQ)


def test_unparseable_network_answer_is_refused(tmp_path: Path) -> None:
    inner = ScriptedFetcher(CollateralItem(data=b"\x30\x00junk", source=REQ.url))
    fetcher = CachingFetcher(inner, DiskCache(tmp_path), clock=lambda: NOW)
    with pytest.raises(CollateralInvalidError):
        fetcher.fetch(REQ)
    assert DiskCache(tmp_path).keys() == []


def test_cache_only_request_never_reaches_inner(tmp_path: Path) -> None:
    inner = ScriptedFetcher(CollateralItem(data=b"x", source=REQ.url))
    fetcher = CachingFetcher(inner, DiskCache(tmp_path), clock=lambda: NOW)
    offline_req = CollateralRequest(url=REQ.url, purpose="crl", allow_network=False)
    with pytest.raises(CollateralMissingError):
        fetcher.fetch(offline_req)
    assert inner.calls == 0


def test_item_without_content_validity_uses_default_ttl(tmp_path: Path, clock: Clock) -> None:
    item = CollateralItem(data=b'{"hello": 1}', source=REQ.url)
    inner = ScriptedFetcher(item, item)
    fetcher = CachingFetcher(
        inner, DiskCache(tmp_path), clock=clock, default_ttl=timedelta(minutes=10)
    )
    fetcher.fetch(REQ)
    clock.advance(timedelta(minutes=5))
    fetcher.fetch(REQ)
    assert inner.calls == 1
    clock.advance(timedelta(minutes=6))
    fetcher.fetch(REQ)
    assert inner.calls == 2


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_private_modes_and_atomic_files(tmp_path: Path, pki: AmdPki) -> None:
    directory = tmp_path / "cache"
    fetcher = CachingFetcher(
        ScriptedFetcher(_crl_item(pki, NOW, NOW + timedelta(days=1), REQ.url)),
        DiskCache(directory),
        clock=lambda: NOW,
    )
    fetcher.fetch(REQ)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.iterdir():
        if path.suffix in (".json", ".bin"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert not [p for p in directory.iterdir() if p.name.startswith(".tmp-")]


def test_single_flight_across_threads_and_instances(tmp_path: Path, pki: AmdPki) -> None:
    item = _crl_item(pki, NOW, NOW + timedelta(days=1), REQ.url)

    class SlowFetcher(ScriptedFetcher):
        def fetch(self, request: CollateralRequest) -> CollateralItem:
            import time

            time.sleep(0.05)
            return super().fetch(request)

    inner = SlowFetcher(item)
    shared = CachingFetcher(inner, DiskCache(tmp_path), clock=lambda: NOW)
    others = [CachingFetcher(inner, DiskCache(tmp_path), clock=lambda: NOW) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(
            pool.map(lambda i: (shared if i % 5 == 0 else others[i % 4]).fetch(REQ), range(50))
        )
    assert inner.calls == 1
    assert all(r.data == item.data for r in results)


def test_status_entries_and_clear(tmp_path: Path, pki: AmdPki) -> None:
    cache = DiskCache(tmp_path)
    CachingFetcher(
        ScriptedFetcher(_crl_item(pki, NOW, NOW + timedelta(days=1), REQ.url)),
        cache,
        clock=lambda: NOW,
    ).fetch(REQ)
    entries = cache.entries()
    assert [e.item.source for e in entries] == [REQ.url]
    assert entries[0].valid_until == NOW + timedelta(days=1)
    assert cache.clear() == 1
    assert cache.entries() == []


def test_real_vcek_validity_is_its_not_after() -> None:
    item = CollateralItem(data=(GENOA / "vcek.der").read_bytes(), source="vcek")
    assert content_valid_until(item) == datetime(2032, 8, 7, 17, 21, 41, tzinfo=UTC)


def test_default_cache_dir_per_platform() -> None:
    env = {"HOME": "/home/u"}
    assert default_cache_dir(platform="linux", environ=env) == Path("/home/u/.cache/teeclient")
    assert default_cache_dir(platform="linux", environ={**env, "XDG_CACHE_HOME": "/x"}) == Path(
        "/x/teeclient"
    )
    assert default_cache_dir(platform="darwin", environ=env) == Path(
        "/home/u/Library/Caches/teeclient"
    )
    assert default_cache_dir(platform="win32", environ={**env, "LOCALAPPDATA": "C:/L"}) == Path(
        "C:/L/teeclient/Cache"
    )


def test_settings_from_env_and_validation(tmp_path: Path) -> None:
    settings = CollateralSettings.from_env(
        {
            "TEECLIENT_AMD_KDS_URL": "http://127.0.0.1:9/",
            "TEECLIENT_CACHE_DIR": str(tmp_path),
            "TEECLIENT_NO_CACHE": "1",
            "TEECLIENT_HTTP_TIMEOUT": "2.5",
            "TEECLIENT_HTTP_ATTEMPTS": "5",
        }
    )
    assert settings.base_url("amd_kds") == "http://127.0.0.1:9"
    assert settings.base_url("intel_pcs") == "https://api.trustedservices.intel.com"
    assert settings.cache_dir == tmp_path and not settings.use_cache
    assert settings.read_timeout == 2.5 and settings.attempts == 5
    with pytest.raises(ConfigError):
        CollateralSettings.from_env({"TEECLIENT_AMD_KDS_URL": "ftp://x"})
    with pytest.raises(ConfigError):
        CollateralSettings.from_env({"TEECLIENT_HTTP_ATTEMPTS": "zero"})
    with pytest.raises(ConfigError):
        CollateralSettings().with_base_url("nope", "https://x")
