"""`teeclient completion SHELL`: print typer's completion script for an explicit shell."""

from __future__ import annotations

import sys

from teeclient.cli.exit_codes import ACCEPTED, USAGE

__all__ = ["SHELLS", "script"]

SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")


def script(shell: str) -> int:
    """Write the completion script for ``shell`` (the same one --show-completion prints)."""
    from typer._completion_shared import get_completion_script

    if shell not in SHELLS:
        sys.stderr.write(f"teeclient: unknown shell {shell!r} (known: {', '.join(SHELLS)})\n")
        return USAGE
    text = get_completion_script(
        prog_name="teeclient", complete_var="_TEECLIENT_COMPLETE", shell=shell
    )
    sys.stdout.write(text.rstrip("\n") + "\n")
    return ACCEPTED
