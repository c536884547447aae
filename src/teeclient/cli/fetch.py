"""`teeclient fetch`: evidence + whatever collateral it needs → a re-verifiable bundle."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from teeclient.cli.exit_codes import ACCEPTED, exit_code_for
from teeclient.errors import TeeclientError

__all__ = ["run"]


def run(
    evidence_path: Path,
    output: Path,
    collateral: list[Path],
    product: str | None,
    json_output: bool,
    settings_args: dict[str, object],
    *,
    nonce: str | None = None,
) -> int:
    """Fetch every collateral item the evidence needs (CRLs and OCSP answers too) and write
    a bundle (recording the challenge ``nonce``, hex, if given)."""
    from teeclient._time import iso, utc_now
    from teeclient.cli.common import Progress, collateral_settings
    from teeclient.cli.verify import parse_nonce
    from teeclient.collateral.items import CollateralSet
    from teeclient.verification import (
        build_fetcher,
        collect_collateral,
        load_evidence,
        make_bundle,
    )

    try:
        challenge = parse_nonce(nonce)
        evidence = load_evidence(evidence_path)
        supplied = CollateralSet.from_files(collateral)
        settings = collateral_settings(**settings_args)  # type: ignore[arg-type]
        fetcher = build_fetcher(settings)
        gathered = collect_collateral(
            evidence,
            supplied=supplied,
            fetcher=fetcher,
            revocation="fetch-optional",
            product=product,
            settings=settings,
            progress=Progress(enabled=not json_output),
        )
        now = utc_now()
        bundle = make_bundle(
            evidence,
            supplied=supplied,
            gathered=gathered.items,
            captured_at=now,
            product=product,
            nonce=challenge,
        )
        output.write_bytes(bundle.to_json())
    except TeeclientError as exc:
        if json_output:
            sys.stdout.write(
                json.dumps({"schema": "teeclient.fetch/v1", "error": exc.to_dict()}) + "\n"
            )
        else:
            sys.stderr.write(f"teeclient: {exc}\n")
        return exit_code_for(exc)
    summary = {
        "schema": "teeclient.fetch/v1",
        "bundle": str(output),
        "captured_at": iso(now),
        "evidence": {"source": evidence.source, "platform": evidence.platform},
        "collateral": [
            {"url": i.source, "origin": i.origin, "size": len(i.data)} for i in bundle.collateral
        ],
        "unavailable": [
            {"url": r.url, "purpose": r.purpose, "code": e.code} for r, e in gathered.unavailable
        ],
        "error": None,
    }
    if json_output:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    else:
        sys.stdout.write(
            f"wrote {output}: {evidence.platform} evidence + {len(bundle.collateral)} collateral "
            f"item(s), captured {iso(now)}\n"
        )
        for request, error in gathered.unavailable:
            sys.stdout.write(f"  not obtained (optional): {request.purpose} ({error.code})\n")
    return ACCEPTED
