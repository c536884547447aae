"""The `teeclient` command line (typer). Commands import library code inside their bodies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["app", "main"]

app = typer.Typer(
    name="teeclient",
    help="Verify TEE attestation evidence against your policy (AMD SEV-SNP, AWS Nitro Enclaves).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
policy_app = typer.Typer(help="Check, explain and describe policy files.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


@app.command()
def verify(
    evidence: Annotated[
        Path,
        typer.Argument(
            help="Evidence file (SEV-SNP report: raw, extended or Azure HCL; AWS Nitro "
            "attestation document: COSE_Sign1 CBOR)."
        ),
    ],
    collateral: Annotated[
        list[Path] | None,
        typer.Option(
            "--collateral",
            "-c",
            help="Certificate, chain or CRL (PEM or DER, recognised by content). Repeatable.",
        ),
    ] = None,
    product: Annotated[
        str | None,
        typer.Option(help="SEV-SNP product (milan|genoa|turin); required for v2 reports."),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(help="Verification time, RFC 3339 (e.g. 2026-01-01T00:00:00Z). Default: now."),
    ] = None,
    policy: Annotated[
        Path | None, typer.Option(help="Policy file (TOML). Default: the built-in baseline.")
    ] = None,
    nonce: Annotated[
        str | None,
        typer.Option(
            help="The challenge sent with the request, hex; the evidence must echo it "
            "(AWS Nitro: the document's nonce)."
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print teeclient.verify/v1 JSON.")
    ] = False,
) -> None:
    """Verify evidence offline and appraise it. Exit 0 accepted, 1 rejected, 2 usage,
    3 invalid evidence, 4 collateral unavailable."""
    from teeclient.cli.verify import run

    raise typer.Exit(run(evidence, collateral or [], product, at, policy, json_output, nonce))


@app.command()
def inspect(
    file: Annotated[Path, typer.Argument(help="Evidence, certificate or CRL file.")],
    product: Annotated[
        str | None, typer.Option(help="Decode SEV-SNP TCBs with this product's layout.")
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print teeclient.inspect/v1 JSON.")
    ] = False,
) -> None:
    """Decode a file without verifying it (reports, certificates, CRLs)."""
    from teeclient.cli.inspect import run

    raise typer.Exit(run(file, product, json_output))


@policy_app.command("lint")
def policy_lint(
    file: Annotated[Path, typer.Argument(help="Policy file (TOML).")],
    strict: Annotated[bool, typer.Option(help="Exit 1 when there are warnings.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Validate a policy file: unknown keys, types and values are errors (exit 2)."""
    from teeclient.cli.policy import lint

    raise typer.Exit(lint(file, strict, json_output))


@policy_app.command("schema")
def policy_schema() -> None:
    """Print the JSON Schema of policy files (generated from the policy model)."""
    from teeclient.cli.policy import schema

    raise typer.Exit(schema())


@policy_app.command("show")
def policy_show(
    name: Annotated[str, typer.Argument(help="Built-in policy name.")] = "baseline",
) -> None:
    """Print a built-in policy (the baseline that applies without --policy)."""
    from teeclient.cli.policy import show

    raise typer.Exit(show(name))


@app.command()
def version() -> None:
    """Print the teeclient version."""
    from teeclient import __version__

    typer.echo(__version__)


def main() -> None:
    """Console-script entry point."""
    app()
