"""`teeclient cache status|clear|prefetch`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from teeclient.cli.exit_codes import ACCEPTED, exit_code_for
from teeclient.errors import TeeclientError

__all__ = ["clear", "prefetch", "status"]


def status(settings_args: dict[str, object], json_output: bool) -> int:
    """List cache entries with their validity."""
    from teeclient._time import iso, utc_now
    from teeclient.cli.common import collateral_settings
    from teeclient.collateral.cache import DiskCache

    try:
        settings = collateral_settings(**settings_args)  # type: ignore[arg-type]
    except TeeclientError as exc:
        sys.stderr.write(f"teeclient: {exc}\n")
        return exit_code_for(exc)
    cache = DiskCache(settings.resolved_cache_dir())
    now = utc_now()
    rows = [
        {
            "key": e.key,
            "purpose": e.purpose,
            "url": e.item.source,
            "size": len(e.item.data),
            "fetched_at": iso(e.item.fetched_at) if e.item.fetched_at else None,
            "valid_until": iso(e.valid_until),
            "fresh": e.fresh(now),
        }
        for e in cache.entries()
    ]
    if json_output:
        out = {"schema": "teeclient.cache/v1", "directory": str(cache.directory), "entries": rows}
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
        return ACCEPTED
    sys.stdout.write(
        f"cache {cache.directory}: {len(rows)} entr{'y' if len(rows) == 1 else 'ies'}\n"
    )
    for row in rows:
        state = "fresh" if row["fresh"] else "STALE"
        sys.stdout.write(
            f"  {state:<5} until {row['valid_until']}  {row['purpose'] or '-'}  {row['url']}\n"
        )
    return ACCEPTED


def clear(settings_args: dict[str, object]) -> int:
    """Delete every cache entry."""
    from teeclient.cli.common import collateral_settings
    from teeclient.collateral.cache import DiskCache

    try:
        settings = collateral_settings(**settings_args)  # type: ignore[arg-type]
    except TeeclientError as exc:
        sys.stderr.write(f"teeclient: {exc}\n")
        return exit_code_for(exc)
    cache = DiskCache(settings.resolved_cache_dir())
    removed = cache.clear()
    sys.stdout.write(
        f"removed {removed} entr{'y' if removed == 1 else 'ies'} from {cache.directory}\n"
    )
    return ACCEPTED


def prefetch(
    evidence: list[Path], product: str | None, settings_args: dict[str, object], json_output: bool
) -> int:
    """Fetch into the cache everything the given evidence needs (CRLs included)."""
    from teeclient.cli.common import Progress, collateral_settings
    from teeclient.collateral.items import CollateralSet
    from teeclient.verification import build_fetcher, collect_collateral, load_evidence

    results = []
    try:
        settings = collateral_settings(**settings_args)  # type: ignore[arg-type]
        if not settings.use_cache:
            from teeclient.errors import UsageError

            raise UsageError(
                "prefetch needs the cache",
                field="--no-cache",
                expected="cache enabled",
                actual="disabled",
            )
        fetcher = build_fetcher(settings)
        for path in evidence:
            ev = load_evidence(path)
            gathered = collect_collateral(
                ev,
                supplied=CollateralSet(),
                fetcher=fetcher,
                revocation="fetch-optional",
                product=product,
                settings=settings,
                progress=Progress(enabled=not json_output),
            )
            results.append(
                {
                    "evidence": str(path),
                    "cached": [{"url": i.source, "origin": i.origin} for i in gathered.items],
                    "unavailable": [
                        {"url": r.url, "code": e.code} for r, e in gathered.unavailable
                    ],
                }
            )
    except TeeclientError as exc:
        sys.stderr.write(f"teeclient: {exc}\n")
        return exit_code_for(exc)
    if json_output:
        sys.stdout.write(
            json.dumps({"schema": "teeclient.prefetch/v1", "results": results}, indent=2) + "\n"
        )
    else:
        for r in results:
            sys.stdout.write(
                f"{r['evidence']}: {len(r['cached'])} item(s) cached, "
                f"{len(r['unavailable'])} unavailable\n"
            )
    return ACCEPTED
