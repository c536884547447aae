"""`teeclient inspect`: decode a file without verifying it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from teeclient.cli.exit_codes import ACCEPTED, exit_code_for
from teeclient.cli.render import INSPECT_SCHEMA, emit_json
from teeclient.errors import InputError, TeeclientError

__all__ = ["run"]


def run(path: Path, product: str | None, json_output: bool) -> int:
    """Run the inspect command; returns the exit code."""
    from teeclient.inspection import describe

    try:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read file: {exc.strerror}", field=str(path)) from exc
        result = describe(data, source=str(path), product=product)
    except TeeclientError as exc:
        if json_output:
            emit_json({"schema": INSPECT_SCHEMA, "file": str(path), "error": exc.to_dict()})
        else:
            sys.stderr.write(f"teeclient: {exc}\n")
        return exit_code_for(exc)
    document = {"schema": INSPECT_SCHEMA, "file": str(path), **result, "error": None}
    if json_output:
        emit_json(document)
    else:
        sys.stdout.write(f"{path}: {result['kind']} (sha256 {result['sha256']})\n")
        sys.stdout.write(json.dumps(result["content"], indent=2) + "\n")
    return ACCEPTED
