"""One runnable example per command, shown in ``--help`` and docs/cli-reference.md.

Every example runs from the repository root with the files it ships (recorded bundles in
``examples/ci/``, real vectors in ``fixtures/``); ``tests/docs`` executes them all, except the
ones marked as needing the network, which are reported as skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import typer

__all__ = ["EXAMPLES", "Example", "attach_examples", "command_paths"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Example:
    """A command line, what it shows, its expected exit code, and what it needs."""

    line: str
    what: str
    exit_code: int = 0
    needs: str | None = None  # "network" or "server": not run by the doc tests


_SNP = "examples/ci/bundles/sev-snp-genoa.bundle.json"
_TDX = "examples/ci/bundles/tdx.bundle.json"
_TINFOIL = "fixtures/real/tinfoil/sev-snp"

EXAMPLES: dict[str, tuple[Example, ...]] = {
    "verify": (
        Example(line=f"teeclient verify {_SNP} --offline", what="re-verify a recorded bundle"),
        Example(
            line=f"teeclient verify {_TDX} --offline --policy examples/ci/policy.toml "
            "--explain --json",
            what="JSON with an explanation for every failed or warned check",
        ),
        Example(
            line=f"teeclient verify {_SNP} --offline --ear examples/ear/example-signing-key.pem "
            "--ear-out result.jwt",
            what="also write a signed EAR attestation-result token",
        ),
        Example(
            line=f"teeclient verify {_TINFOIL}/tinfoil_genoa_v2_attestation_doc.json "
            f"-c {_TINFOIL}/genoa_vcek_chip1af1aa6c_tcb0a00000000001754.der "
            "--policy policies/examples/tinfoil-v2.toml --at 2026-06-01T00:00:00Z --offline",
            what="verify a Tinfoil v2 attestation document (static evidence, keys pinned)",
        ),
    ),
    "fetch": (
        Example(
            line="teeclient fetch fixtures/real/sev-snp/genoa-v5-oak/report.bin -o genoa.json",
            what="fetch the VCEK and CRL from AMD KDS into a bundle",
            needs="network",
        ),
    ),
    "inspect": (
        Example(
            line="teeclient inspect fixtures/real/sev-snp/genoa-v5-oak/report.bin",
            what="decode a report without verifying it",
        ),
    ),
    "policy lint": (
        Example(
            line="teeclient policy lint policies/examples/genoa-production.toml",
            what="check a policy file",
        ),
    ),
    "policy schema": (Example(line="teeclient policy schema", what="the policy JSON Schema"),),
    "policy show": (Example(line="teeclient policy show baseline", what="the built-in policy"),),
    "policy test": (
        Example(
            line="teeclient policy test examples/ci/policy.toml examples/ci/cases "
            "--junit policy-test.xml",
            what="run the recorded cases; JUnit XML for CI",
        ),
    ),
    "policy init": (
        Example(
            line=f"teeclient policy init {_TDX} -o my-policy.toml",
            what="a commented policy pinning what the bundle shows",
        ),
    ),
    "policy diff": (
        Example(
            line="teeclient policy diff policies/baseline.toml examples/ci/policy.toml",
            what="what changed, in words (exit 1: the policies differ)",
            exit_code=1,
        ),
    ),
    "token verify": (
        Example(
            line="teeclient token verify examples/ear/example-result.jwt "
            "--key examples/ear/example-signing-key.pub.pem --at 2026-01-01T00:30:00Z",
            what="check an EAR token's signature, algorithm, expiry and profile",
        ),
    ),
    "log show": (Example(line="teeclient log show", what="accepted identities, newest last"),),
    "cache status": (Example(line="teeclient cache status", what="cached collateral"),),
    "cache clear": (Example(line="teeclient cache clear", what="empty the cache"),),
    "cache prefetch": (
        Example(
            line="teeclient cache prefetch fixtures/real/sev-snp/genoa-v5-oak/report.bin",
            what="fill the cache for later offline use",
            needs="network",
        ),
    ),
    "completion": (
        Example(line="teeclient completion bash", what="print the bash completion script"),
    ),
    "chat": (
        Example(
            line='teeclient chat https://enclave.example "Hello" --stream --policy prod.toml',
            what="attest the endpoint, then stream an answer encrypted to the attested key",
            needs="network",
        ),
    ),
    "demo": (
        Example(
            line="teeclient demo --no-color",
            what="mock enclave on loopback: attest, encrypted chat, what was protected",
        ),
    ),
    "mock-enclave": (
        Example(
            line="teeclient mock-enclave --platform tdx --gpus 1 --output-dir mock",
            what="serve a mock TDX enclave with one GPU; prints its URL, trust and policy files",
            needs="server",
        ),
        Example(
            line="teeclient mock-enclave --platform sev-snp --gpus 8 --switches 4 "
            "--fault replayed_nonce",
            what="a PPCIE node whose evidence binds an old nonce (clients must refuse it)",
            needs="server",
        ),
    ),
    "version": (Example(line="teeclient version", what="print the version"),),
}


#: One-line summaries for the command lists (the docstrings say more under --help).
SHORT: dict[str, str] = {
    "verify": "Verify evidence or a bundle and appraise it against a policy.",
    "fetch": "Fetch the collateral evidence needs and write a re-verifiable bundle.",
    "inspect": "Decode evidence, certificates or CRLs without verifying them.",
    "policy test": "Run recorded bundles against a policy offline (CI).",
    "policy init": "Write a policy that pins what a bundle shows.",
    "policy diff": "Explain what changed between two policies.",
    "policy lint": "Validate a policy file.",
    "token verify": "Check an EAR attestation-result token.",
    "log show": "List the accepted identities in the trust log.",
    "chat": "Attest an endpoint, then chat with it, encrypted to the attested key.",
    "demo": "Run a mock enclave locally: attestation, encrypted chat, what was protected.",
    "mock-enclave": "Serve a mock enclave (test hardware, fake vendors, a small model).",
}


def _epilog(examples: tuple[Example, ...], rich: bool) -> str:
    lines = ["Examples:" if len(examples) > 1 else "Example:"]
    for ex in examples:
        text = f"$ {ex.line}"
        note = ex.what + (f" (needs {ex.needs})" if ex.needs else "")
        if rich:
            text = text.replace("[", "\\[")
        lines.append(f"{text}\n  # {note}" if not rich else f"{text}    # {note}")
    return "\n\n".join(lines)


def command_paths(app: typer.Typer, prefix: str = "") -> list[tuple[str, object]]:
    """(``"policy test"``, CommandInfo) for every command registered on ``app``."""
    out: list[tuple[str, object]] = []
    for info in app.registered_commands:
        name = info.name or (info.callback.__name__.replace("_", "-") if info.callback else "")
        out.append((f"{prefix}{name}", info))
    for group in app.registered_groups:
        sub = group.typer_instance
        if sub is not None and group.name:
            out.extend(command_paths(sub, f"{prefix}{group.name} "))
    return out


def attach_examples(app: typer.Typer) -> None:
    """Set each registered command's epilog to its examples (commands without any keep theirs)."""
    rich = app.rich_markup_mode is not None
    for path, info in command_paths(app):
        examples = EXAMPLES.get(path)
        if examples and getattr(info, "epilog", None) is None:
            info.epilog = _epilog(examples, rich)  # type: ignore[attr-defined]
        short = SHORT.get(path)
        if short and getattr(info, "short_help", None) is None:
            info.short_help = short  # type: ignore[attr-defined]
