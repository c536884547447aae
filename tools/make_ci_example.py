"""Rebuild examples/ci/: recorded bundles from fixtures/real, their cases, and the policy.

Run `python tools/make_ci_example.py` after a fixture or the bundle format changes. It writes
examples/ci/bundles/*.bundle.json (evidence plus every collateral item it needs, so
`teeclient policy test` runs with no network), examples/ci/policy.toml (the `policy init`
output of each accepted bundle, merged) and examples/ci/cases/*/case.toml.
`--check` only reports whether the committed files are current.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from teeclient._time import parse_time
from teeclient.collateral.items import CollateralSet
from teeclient.policy.init import initial_policy
from teeclient.verification import load_evidence, make_bundle, verify_claims

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "fixtures" / "real"
OUT = ROOT / "examples" / "ci"

_NV = REAL / "nvidia" / "hopper_e2e"
_TDX_GTG = REAL / "tdx" / "collateral-2023-06-gtg"


def _tdx_gtg_collateral() -> list[Path]:
    names = (
        "tcb_info_50806f000000.json",
        "tcb_info_issuer_chain.pem",
        "qe_identity.json",
        "qe_identity_issuer_chain.pem",
        "pck_crl_platform.der",
        "pck_crl_issuer_chain.pem",
        "root_ca_crl.der",
    )
    return [_TDX_GTG / n for n in names]


# name -> (evidence, collateral, capture time, product, nonce, accepted by the policy?)
BUNDLES: dict[str, tuple[Path, list[Path], str, str | None, str | None, bool]] = {
    "sev-snp-genoa": (
        REAL / "sev-snp/genoa-v5-oak/report.bin",
        [REAL / "sev-snp/genoa-v5-oak/vcek.der"],
        "2026-01-01T00:00:00Z",
        None,
        None,
        True,
    ),
    "sev-snp-milan-debug": (
        REAL / "sev-snp/milan-v2-gsg-debug/report.bin",
        [REAL / "sev-snp/milan-v2-gsg-debug/vcek.der"],
        "2025-01-01T00:00:00Z",
        "milan",
        None,
        False,
    ),
    "tdx": (
        REAL / "tdx/v4-b0c06f-dcap/quote.dat",
        [REAL / "tdx/v4-b0c06f-dcap/collateral.json"],
        "2025-07-01T00:00:00Z",
        None,
        None,
        True,
    ),
    "tdx-debug-td": (
        REAL / "tdx/v4-50806f-debugtd-trustee/quote.dat",
        _tdx_gtg_collateral(),
        "2023-07-01T01:00:00Z",
        None,
        None,
        False,
    ),
    "nitro": (
        REAL / "nitro/docs/evervault-2022-10-13-prod.cbor",
        [],
        "2022-10-13T08:59:02Z",
        None,
        None,
        True,
    ),
    "nitro-debug": (
        REAL / "nitro/docs/evervault-2022-10-12-debug.cbor",
        [],
        "2022-10-12T13:51:06Z",
        None,
        None,
        False,
    ),
    "nvidia-h100": (
        _NV / "hopperAttestationReport.txt",
        [
            _NV / "hopperCertChain.txt",
            *sorted(_NV.glob("*.xml")),
            *sorted((_NV / "ocsp").glob("test_gpu_certificate_*")),
        ],
        "2025-08-21T12:00:00Z",
        None,
        "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb",
        True,
    ),
}


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def build() -> dict[Path, bytes]:
    """Every file of examples/ci/ that this script owns, by path."""
    files: dict[Path, bytes] = {}
    sections: list[str] = []
    for name, (evidence_path, collateral, when, product, nonce, accepted) in BUNDLES.items():
        evidence = load_evidence(evidence_path, source=_relative(evidence_path))
        supplied = CollateralSet.from_files(collateral)
        captured: datetime = parse_time(when)
        bundle = make_bundle(
            evidence, supplied=supplied, gathered=(), captured_at=captured, product=product
        )
        # Collateral sources as repository paths, so bundles do not name a build machine.
        items = tuple(
            replace(item, source=_relative(Path(item.source)))
            if Path(item.source).is_absolute()
            else item
            for item in bundle.collateral
        )
        bundle = replace(bundle, collateral=items, nonce=nonce)
        files[OUT / "bundles" / f"{name}.bundle.json"] = bundle.to_json()
        if accepted:
            claims = verify_claims(
                evidence,
                collateral=supplied,
                at=captured,
                product=product,
                nonce=bytes.fromhex(nonce) if nonce else None,
            )
            text, _ = initial_policy(
                [claims], name=name, source=f"bundles/{name}.bundle.json", at=captured
            )
            body = text.split("\nname = ", 1)[1].split("\n", 2)[2]
            sections.append(body.strip())
    header = (
        "# The policy the CI example tests: every platform on main, each pinned to one recorded\n"
        "# deployment. Written by tools/make_ci_example.py from `teeclient policy init` of the\n"
        "# accepted bundles (then merged); examples/ci/cases/ says what it must accept or reject.\n"
        "\n"
        "version = 1\n"
        'name = "ci-example"\n'
        'description = "Recorded SEV-SNP, TDX, Nitro and NVIDIA deployments, pinned"\n'
    )
    merged: list[str] = []
    revocation: dict[str, str] = {}
    for body in sections:
        lines = body.splitlines()
        out: list[str] = []
        in_revocation = False
        for line in lines:
            if line.startswith("# Revocation as the evidence was checked"):
                continue
            if line.startswith("[revocation]"):
                in_revocation = True
                continue
            if in_revocation:
                if line.startswith("[") or (line.startswith("#") and "component" in line):
                    in_revocation = False
                elif "=" in line and not line.startswith("#"):
                    key = line.split("=", 1)[0].strip()
                    revocation.setdefault(key, line)
                    continue
                elif not line.strip() or line.startswith("#"):
                    continue
            out.append(line)
        merged.append("\n".join(out).strip())
    revocation_block = "\n[revocation]\n" + "\n".join(revocation.values()) + "\n"
    files[OUT / "policy.toml"] = (
        header + revocation_block + "\n" + "\n\n".join(merged) + "\n"
    ).encode()
    return files


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for path, data in build().items():
        if check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(_relative(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {_relative(path)}")
    if stale:
        print("out of date (run python tools/make_ci_example.py): " + ", ".join(stale))
        return 1
    print(json.dumps({"bundles": len(BUNDLES)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
