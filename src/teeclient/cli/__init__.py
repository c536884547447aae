"""The `teeclient` command line (typer). Commands import library code inside their bodies."""

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["app", "main"]

app = typer.Typer(
    name="teeclient",
    help="Verify TEE attestation evidence against your policy "
    "(AMD SEV-SNP, Intel TDX, AWS Nitro, NVIDIA GPUs).",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
policy_app = typer.Typer(help="Check, explain and describe policy files.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
cache_app = typer.Typer(help="Inspect, clear and fill the collateral cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")
token_app = typer.Typer(help="Check EAR attestation-result tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
log_app = typer.Typer(help="The local trust log of accepted identities.", no_args_is_help=True)
app.add_typer(log_app, name="log")


# Options shared by the commands that fetch collateral.
CacheDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Collateral cache directory (default: the user cache dir; env TEECLIENT_CACHE_DIR).",
    ),
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Do not read or write the cache.")]
KdsOpt = Annotated[str | None, typer.Option("--kds-url", help="AMD KDS base URL (or a mirror).")]
PcsOpt = Annotated[str | None, typer.Option("--pcs-url", help="Intel PCS or PCCS base URL.")]
RimOpt = Annotated[str | None, typer.Option("--rim-url", help="NVIDIA RIM service base URL.")]
OcspOpt = Annotated[str | None, typer.Option("--ocsp-url", help="NVIDIA OCSP base URL.")]


@app.command()
def verify(
    evidence: Annotated[
        Path,
        typer.Argument(
            help="Evidence file: SEV-SNP report (raw, extended or Azure HCL), TDX quote (v4/v5), "
            "AWS Nitro attestation document (COSE_Sign1), NVIDIA GPU/NVSwitch evidence (SPDM "
            "report, nvattest/NRAS JSON, detached EAT), a teeclient or Tinfoil (v2/v3) "
            "attestation document, or a bundle."
        ),
    ],
    collateral: Annotated[
        list[Path] | None,
        typer.Option(
            "--collateral",
            "-c",
            help="Certificate, chain or CRL (PEM or DER); Intel TCB Info, QE Identity, saved PCS "
            "response or dcap-qvl collateral.json; NVIDIA RIM, OCSP response or JWKS; extra "
            "device evidence. Recognised by content. Repeatable.",
        ),
    ] = None,
    product: Annotated[
        str | None,
        typer.Option(help="SEV-SNP product (milan|genoa|turin); required for v2 reports."),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            help="Verification time, RFC 3339 (e.g. 2026-01-01T00:00:00Z). "
            "Default: now, or the bundle's capture time."
        ),
    ] = None,
    policy: Annotated[
        Path | None, typer.Option(help="Policy file (TOML). Default: the built-in baseline.")
    ] = None,
    nonce: Annotated[
        str | None,
        typer.Option(
            help="The challenge sent with the request, hex; the evidence must echo it "
            "(AWS Nitro: the document's nonce; NVIDIA: the 32-byte SPDM nonce; teeclient and "
            "Tinfoil v3 attestation documents: the 32-byte nonce they answer)."
        ),
    ] = None,
    trust: Annotated[
        list[Path] | None,
        typer.Option(
            "--trust",
            help="Trust file (teeclient.trust/v1, TOML or JSON) whose roots are added to the "
            "shipped vendor roots, e.g. the one `teeclient mock-enclave` prints. Repeatable. "
            "Nothing else adds roots.",
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print teeclient.verify/v1 JSON.")
    ] = False,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Never use the network: collateral comes from the "
            "bundle, --collateral files and the cache only.",
        ),
    ] = False,
    save_bundle: Annotated[
        Path | None,
        typer.Option(
            "--save-bundle",
            help="Write the evidence and every collateral item used to this bundle file.",
        ),
    ] = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    kds_url: KdsOpt = None,
    pcs_url: PcsOpt = None,
    rim_url: RimOpt = None,
    ocsp_url: OcspOpt = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="For every failed or warned check: expected, found, likely cause and remedy "
            "(JSON: an `explanation` member on those checks).",
        ),
    ] = False,
    ear: Annotated[
        Path | None,
        typer.Option(
            "--ear",
            help="Sign an EAR attestation-result token (JWT) with this PEM private key "
            "(EC P-256/P-384, Ed25519 or RSA).",
        ),
    ] = None,
    ear_out: Annotated[
        Path | None,
        typer.Option(
            "--ear-out", help="Write the EAR token here (default: in the output; JSON: `ear`)."
        ),
    ] = None,
    log: Annotated[
        bool | None,
        typer.Option(
            "--log/--no-log",
            help="Record an accepted verification in the trust log and warn when an identity "
            "changed (default on; env TEECLIENT_NO_TRUST_LOG=1 turns it off, "
            "TEECLIENT_TRUST_LOG=FILE moves it).",
        ),
    ] = None,
) -> None:
    """Verify evidence and appraise it. Exit 0 accepted, 1 rejected, 2 usage,
    3 invalid evidence, 4 collateral unavailable."""
    from teeclient.cli.verify import VerifyArgs, run

    raise typer.Exit(
        run(
            VerifyArgs(
                evidence=evidence,
                collateral=collateral or [],
                product=product,
                at=at,
                policy=policy,
                json_output=json_output,
                offline=offline,
                save_bundle=save_bundle,
                cache_dir=cache_dir,
                no_cache=no_cache,
                kds_url=kds_url,
                pcs_url=pcs_url,
                rim_url=rim_url,
                ocsp_url=ocsp_url,
                nonce=nonce,
                trust=trust,
                explain=explain,
                ear_key=ear,
                ear_out=ear_out,
                log=log,
            )
        )
    )


@app.command()
def fetch(
    evidence: Annotated[Path, typer.Argument(help="Evidence file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Bundle file to write.")],
    collateral: Annotated[
        list[Path] | None, typer.Option("--collateral", "-c", help="Collateral you already have.")
    ] = None,
    product: Annotated[str | None, typer.Option(help="SEV-SNP product for v2 reports.")] = None,
    nonce: Annotated[
        str | None,
        typer.Option(
            help="The challenge sent with the request, hex; recorded in the bundle and checked "
            "when it is re-verified (NVIDIA, AWS Nitro)."
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    kds_url: KdsOpt = None,
    pcs_url: PcsOpt = None,
    rim_url: RimOpt = None,
    ocsp_url: OcspOpt = None,
) -> None:
    """Fetch the collateral the evidence needs and write a teeclient.bundle/v1 file that
    re-verifies offline (`teeclient verify BUNDLE --offline`)."""
    from teeclient.cli.fetch import run

    settings_args: dict[str, object] = {
        "cache_dir": cache_dir,
        "no_cache": no_cache,
        "kds_url": kds_url,
        "pcs_url": pcs_url,
        "rim_url": rim_url,
        "ocsp_url": ocsp_url,
    }
    raise typer.Exit(
        run(evidence, output, collateral or [], product, json_output, settings_args, nonce=nonce)
    )


@cache_app.command("status")
def cache_status(
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    cache_dir: CacheDirOpt = None,
) -> None:
    """List cached collateral and its validity."""
    from teeclient.cli.cache import status

    raise typer.Exit(status(_cache_args(cache_dir), json_output))


@cache_app.command("clear")
def cache_clear(cache_dir: CacheDirOpt = None) -> None:
    """Delete every cached collateral item."""
    from teeclient.cli.cache import clear

    raise typer.Exit(clear(_cache_args(cache_dir)))


@cache_app.command("prefetch")
def cache_prefetch(
    evidence: Annotated[list[Path], typer.Argument(help="Evidence files.")],
    product: Annotated[str | None, typer.Option(help="SEV-SNP product for v2 reports.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    cache_dir: CacheDirOpt = None,
    kds_url: KdsOpt = None,
    pcs_url: PcsOpt = None,
    rim_url: RimOpt = None,
    ocsp_url: OcspOpt = None,
) -> None:
    """Fetch into the cache all collateral the evidence files need (for later offline use)."""
    from teeclient.cli.cache import prefetch

    args: dict[str, object] = {
        "cache_dir": cache_dir,
        "no_cache": False,
        "kds_url": kds_url,
        "pcs_url": pcs_url,
        "rim_url": rim_url,
        "ocsp_url": ocsp_url,
    }
    raise typer.Exit(prefetch(evidence, product, args, json_output))


def _cache_args(cache_dir: Path | None) -> dict[str, object]:
    return {
        "cache_dir": cache_dir,
        "no_cache": False,
        "kds_url": None,
        "pcs_url": None,
        "rim_url": None,
        "ocsp_url": None,
    }


@app.command()
def inspect(
    file: Annotated[
        Path, typer.Argument(help="Evidence, certificate, CRL, TCB Info or QE Identity file.")
    ],
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


@app.command("mock-enclave")
def mock_enclave(
    platform: Annotated[str, typer.Option(help="CPU platform: sev-snp, tdx or nitro.")] = "sev-snp",
    product: Annotated[str, typer.Option(help="SEV-SNP product: milan, genoa, turin.")] = "genoa",
    signing_key: Annotated[
        str, typer.Option("--signing-key", help="SEV-SNP endorsement key: vcek or vlek.")
    ] = "vcek",
    gpus: Annotated[int, typer.Option(help="Number of NVIDIA GPUs (0..8).")] = 0,
    arch: Annotated[str, typer.Option(help="GPU architecture: hopper or blackwell.")] = "hopper",
    switches: Annotated[
        int, typer.Option(help="NVSwitches: 0, or 4 with 8 Hopper GPUs (PPCIE).")
    ] = 0,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free port).")] = 0,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            help="Switch on a fault (repeatable): wrong_measurement, unbound_key, "
            "stale_evidence, replayed_nonce, debug, revoked (revoked_vcek), missing_gpu, "
            "extra_gpu.",
        ),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", help="Where to write trust.toml and policy.toml."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
    gateway: Annotated[
        str,
        typer.Option(
            help="In front of the model: ohttp (chunked OHTTP, what teeclient chat speaks), "
            "ehbp (Tinfoil's profile) or none (plaintext /v1/)."
        ),
    ] = "ohttp",
) -> None:
    """Run a mock enclave (test hardware, fake vendors, a small model) and print its URL,
    the trust file and the matching policy a client needs. For tests and demos only."""
    from teeclient.cli.mock import MockArgs, run

    raise typer.Exit(
        run(
            MockArgs(
                platform=platform,
                product=product,
                signing_key=signing_key,
                gpus=gpus,
                arch=arch,
                switches=switches,
                host=host,
                port=port,
                faults=fault or [],
                output_dir=output_dir,
                json_output=json_output,
                gateway=gateway,
            )
        )
    )


@policy_app.command("test")
def policy_test(
    policy: Annotated[Path, typer.Argument(help="Policy file under test (TOML).")],
    cases: Annotated[
        Path,
        typer.Argument(help="Directory of cases: case.toml (or NAME.case.toml) next to bundles."),
    ],
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write JUnit XML here (for CI).")
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print teeclient.policy-test/v1 JSON.")
    ] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Explain the failed checks of rejected cases.")
    ] = False,
) -> None:
    """Appraise recorded bundles against a policy, offline; exit 1 on any surprise (a case
    whose outcome or failing check ids differ from what it expects), 2 on bad input."""
    from teeclient.cli.policy_tools import test

    raise typer.Exit(test(policy, cases, junit, json_output, explain))


@policy_app.command("init")
def policy_init(
    bundle: Annotated[Path, typer.Argument(help="A teeclient bundle (teeclient fetch).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the policy here (default stdout).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Policy name.")] = None,
    at: Annotated[
        str | None, typer.Option(help="Verify at this RFC 3339 time (default: capture time).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --output.")] = False,
) -> None:
    """Write a commented policy pinning what a bundle shows (measurements, TCB minimums,
    firmware and GPU versions): a starting point to review, never to trust blindly."""
    from teeclient.cli.policy_tools import init

    raise typer.Exit(init(bundle, output, name, at, force))


@policy_app.command("diff")
def policy_diff(
    old: Annotated[Path, typer.Argument(help="The policy before.")],
    new: Annotated[Path, typer.Argument(help="The policy after.")],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print teeclient.policy-diff/v1 JSON.")
    ] = False,
) -> None:
    """Explain what changed between two policies, per alternative. Exit 0 identical,
    1 different, 2 invalid policy."""
    from teeclient.cli.policy_tools import diff

    raise typer.Exit(diff(old, new, json_output))


@token_app.command("verify")
def token_verify(
    token: Annotated[str, typer.Argument(help="Token file, '-' for stdin, or the JWT itself.")],
    key: Annotated[
        Path, typer.Option("--key", help="PEM public key (or certificate) of the signer.")
    ],
    at: Annotated[
        str | None, typer.Option(help="Check expiry at this RFC 3339 time (default: now).")
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print teeclient.token-verify/v1 JSON.")
    ] = False,
) -> None:
    """Check an EAR token: signature, algorithm (only the key's own; never none or HMAC),
    expiry and EAR profile; print its claims. Exit 0 valid, 3 invalid, 2 bad key."""
    from teeclient.cli.token import verify_token

    raise typer.Exit(verify_token(token, key, at, json_output))


@log_app.command("show")
def log_show(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print teeclient.log-show/v1 JSON.")
    ] = False,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", help="Log file (default: env TEECLIENT_TRUST_LOG or the user data dir)."
        ),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Only entries of this endpoint or evidence source.")
    ] = None,
) -> None:
    """List accepted identities (measurements, key fingerprints, policy, time); changes
    between consecutive entries of a source are marked."""
    from teeclient.cli.log import show

    raise typer.Exit(show(file, source, json_output))


@app.command()
def completion(
    shell: Annotated[str, typer.Argument(help="bash, zsh, fish or powershell.")],
) -> None:
    """Print the shell completion script (or use --install-completion)."""
    from teeclient.cli.completion import script

    raise typer.Exit(script(shell))


@app.command()
def chat(
    url: Annotated[str, typer.Argument(help="Endpoint URL (https://host[:port]).")],
    prompt: Annotated[str, typer.Argument(help="The user message.")],
    stream: Annotated[
        bool, typer.Option("--stream", help="Stream the answer as it arrives.")
    ] = False,
    policy: Annotated[
        Path | None, typer.Option(help="Policy file (TOML). Default: the built-in baseline.")
    ] = None,
    trust: Annotated[
        Path | None,
        typer.Option(help="Trust file adding roots (e.g. printed by `teeclient mock-enclave`)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Model name. Default: the first the endpoint lists.")
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key", envvar="TEECLIENT_API_KEY", help="API key (sent encrypted only)."
        ),
    ] = None,
    system: Annotated[str | None, typer.Option(help="A system message.")] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Collateral from the document and cache only.")
    ] = False,
) -> None:
    """Attest URL, then send PROMPT encrypted to the attested key and print the answer.
    Exit 0 ok, 1 rejected by policy, 2 usage, 3 invalid evidence, 4 transport/collateral."""
    from teeclient.cli.chat import ChatArgs, run

    raise typer.Exit(
        run(
            ChatArgs(
                url=url,
                prompt=prompt,
                stream=stream,
                policy=policy,
                trust=trust,
                model=model,
                api_key=api_key,
                offline=offline,
                system=system,
            )
        )
    )


@app.command()
def demo(
    prompt: Annotated[str, typer.Option(help="What to ask the mock model.")] = (
        "Why should I trust a model that runs in a TEE?"
    ),
    stream: Annotated[bool, typer.Option("--stream/--no-stream", help="Stream the answer.")] = True,
    color: Annotated[
        bool | None, typer.Option("--color/--no-color", help="Colour (default: on a terminal).")
    ] = None,
) -> None:
    """Start a mock enclave on loopback, attest it with the shipped demo policy, stream an
    encrypted chat answer and show what was protected. Runs offline."""
    import sys

    from teeclient.cli.demo import DemoArgs, run

    use_color = sys.stdout.isatty() if color is None else color
    raise typer.Exit(run(DemoArgs(prompt=prompt, stream=stream, color=use_color)))


@app.command()
def version() -> None:
    """Print the teeclient version."""
    from teeclient import __version__

    typer.echo(__version__)


def _attach_examples() -> None:
    from teeclient.cli.examples import attach_examples

    attach_examples(app)


_attach_examples()


def _leaf_command(name: str) -> typer.models.CommandInfo | None:
    """The top-level command called ``name`` (not a group), or None."""
    for info in app.registered_commands:
        callback = info.callback
        if callback is None:
            continue
        if (info.name or callback.__name__.replace("_", "-")) == name:
            return info
    return None


def main() -> None:
    """Console-script entry point.

    A top-level command (``verify``, ``fetch``, ``inspect``…) is dispatched to a one-command
    app built from the same registration, so start-up does not build the click parameters of
    every other command; usage and help read the same (``teeclient verify [OPTIONS] …``).
    Completion requests and groups go through the full app.
    """
    argv = sys.argv[1:]
    if argv and not any(k.startswith("_TEECLIENT_COMPLETE") for k in os.environ):
        info = _leaf_command(argv[0])
        if info is not None:
            single = typer.Typer(
                add_completion=False,
                pretty_exceptions_enable=False,
                rich_markup_mode=app.rich_markup_mode,
            )
            single.registered_commands.append(info)
            single(args=argv[1:], prog_name=f"teeclient {argv[0]}")
            return
    app(prog_name="teeclient")
