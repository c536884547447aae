"""Fetch planned collateral requests: required ones must succeed, optional ones may not."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from teeclient.collateral.items import CollateralItem, CollateralRequest
from teeclient.collateral.validity import item_is_well_formed
from teeclient.errors import CollateralError, CollateralInvalidError, CollateralMissingError

if TYPE_CHECKING:
    from teeclient.collateral.fetch import AsyncFetcher, Fetcher

__all__ = ["MAX_CONCURRENT_FETCHES", "GatherEvent", "Gathered", "gather", "gather_async"]

#: At most this many collateral requests are in flight at once (``gather_async``): an
#: 8-GPU PPCIE node plans dozens of RIM and OCSP requests; the services are not flooded.
MAX_CONCURRENT_FETCHES = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class GatherEvent:
    """Progress of one request: ``start``, then ``done`` (with the item) or ``failed``."""

    index: int
    total: int
    request: CollateralRequest
    status: str
    item: CollateralItem | None = None
    error: CollateralError | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Gathered:
    """The items obtained, and the optional requests that could not be satisfied."""

    items: tuple[CollateralItem, ...]
    unavailable: tuple[tuple[CollateralRequest, CollateralError], ...]


Progress = Callable[[GatherEvent], None]


def _fatal(request: CollateralRequest, error: CollateralError) -> bool:
    """True if failing to obtain ``request`` must stop verification."""
    if not request.required:
        return False
    return not (request.absent_ok and isinstance(error, CollateralMissingError))


def _checked(request: CollateralRequest, item: CollateralItem) -> CollateralItem:
    """Refuse fetched content that does not parse as what it is (e.g. an OCSP ``tryLater``
    answer served with HTTP 200); cached items were checked by the cache already."""
    if item.origin == "network" and not item_is_well_formed(item):
        raise CollateralInvalidError(
            f"{request.purpose}: the service returned content that does not parse",
            field=request.purpose,
            expected=request.media_type or "collateral",
            actual=f"{len(item.data)} bytes",
        )
    return item


def gather(
    requests: Sequence[CollateralRequest], fetcher: Fetcher, *, progress: Progress | None = None
) -> Gathered:
    """Fetch each request in order.

    Raises:
        CollateralError: a required request failed (the first such failure; see
            ``CollateralRequest.absent_ok``).
    """
    items: list[CollateralItem] = []
    unavailable: list[tuple[CollateralRequest, CollateralError]] = []
    total = len(requests)
    for index, request in enumerate(requests):
        if progress:
            progress(GatherEvent(index=index, total=total, request=request, status="start"))
        try:
            item = _checked(request, fetcher.fetch(request))
        except CollateralError as exc:
            if progress:
                progress(
                    GatherEvent(
                        index=index, total=total, request=request, status="failed", error=exc
                    )
                )
            if _fatal(request, exc):
                raise
            unavailable.append((request, exc))
            continue
        items.append(item)
        if progress:
            progress(
                GatherEvent(index=index, total=total, request=request, status="done", item=item)
            )
    return Gathered(items=tuple(items), unavailable=tuple(unavailable))


async def gather_async(
    requests: Sequence[CollateralRequest],
    fetcher: AsyncFetcher,
    *,
    max_concurrency: int = MAX_CONCURRENT_FETCHES,
) -> Gathered:
    """Fetch every request concurrently, at most ``max_concurrency`` at a time.

    Raises:
        CollateralError: a required request failed.
    """
    import asyncio

    if max_concurrency < 1:
        raise ValueError("max_concurrency must be at least 1")
    slots = asyncio.Semaphore(max_concurrency)

    async def one(request: CollateralRequest) -> CollateralItem | CollateralError:
        async with slots:
            try:
                return _checked(request, await fetcher.fetch(request))
            except CollateralError as exc:
                return exc

    results = await asyncio.gather(*(one(r) for r in requests))
    items: list[CollateralItem] = []
    unavailable: list[tuple[CollateralRequest, CollateralError]] = []
    for request, result in zip(requests, results, strict=True):
        if isinstance(result, CollateralError):
            if _fatal(request, result):
                raise result
            unavailable.append((request, result))
        else:
            items.append(result)
    return Gathered(items=tuple(items), unavailable=tuple(unavailable))
