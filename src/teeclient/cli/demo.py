"""`teeclient demo`: a mock enclave on loopback, attested with the shipped demo policy, then an
encrypted, streamed chat answer and an account of what was protected. Runs offline."""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass

import httpx

from teeclient.cli.exit_codes import ACCEPTED, exit_code_for
from teeclient.errors import TeeclientError

__all__ = ["DemoArgs", "run"]

DEFAULT_PROMPT = "Why should I trust a model that runs in a TEE?"


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoArgs:
    """The command's arguments."""

    prompt: str
    stream: bool
    color: bool


def _policy_text() -> str:
    import teeclient.policy
    from teeclient._data import package_data

    policy_file = teeclient.policy.__file__
    return package_data("teeclient.policy", policy_file, "data", "demo.toml").decode("utf-8")


class _Out:
    def __init__(self, color: bool) -> None:
        self.color = color

    def paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def step(self, number: int, title: str) -> None:
        sys.stdout.write("\n" + self.paint(f"{number}. {title}", "1") + "\n")

    def line(self, text: str = "") -> None:
        sys.stdout.write(text + "\n")

    def item(self, name: str, value: str) -> None:
        sys.stdout.write(f"   {name:<22} {value}\n")

    def raw(self, text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()


def run(args: DemoArgs) -> int:
    """Run the demo; the exit code."""
    out = _Out(args.color)
    try:
        return _run(args, out)
    except TeeclientError as exc:
        sys.stderr.write(f"error {exc.code}: {exc.message}\n")
        return exit_code_for(exc)


def _run(args: DemoArgs, out: _Out) -> int:
    from teeclient.cli.chat import stream_chat
    from teeclient.cli.render import VerifyOutcome, render_verify_human
    from teeclient.client import Client
    from teeclient.policy.load import parse_policy
    from teeclient.testing.enclave import EnclaveKeys, MockEnclave
    from teeclient.testing.gateway import ohttp_gateway
    from teeclient.testing.hardware import HardwareSpec, MockHardware
    from teeclient.testing.loopback import LoopbackServer
    from teeclient.transport import ExchangeInfo

    api_key = "sk-demo-" + secrets.token_hex(12)
    policy = parse_policy(_policy_text(), source="builtin:demo")
    out.line(out.paint("teeclient demo", "1") + " — everything runs on this machine (loopback).")

    out.step(1, "Mock enclave")
    hardware = MockHardware(HardwareSpec(platform="sev-snp", product="genoa"))
    enclave = MockEnclave(
        hardware, keys=EnclaveKeys.generate(post_quantum=True), gateway=ohttp_gateway
    )
    with LoopbackServer(enclave.handler, capture=True) as server:
        out.item("listening on", server.url)
        out.item("hardware", f"{hardware.spec.describe()}, generated test PKI (trusted explicitly)")
        out.item("serves", "attestation, fake AMD KDS, chunked-OHTTP gateway → model")

        infos: list[ExchangeInfo] = []

        def keep(response: httpx.Response) -> None:
            info = response.extensions.get("teeclient.exchange")
            if isinstance(info, ExchangeInfo):
                infos.append(info)

        with Client(
            server.url,
            policy=policy,
            trust=hardware.trust_store(),
            api_key=api_key,
            settings=enclave.collateral_settings(server.url),
        ) as client:
            out.step(2, "Attestation (fresh nonce, verify, bind, appraise)")
            identity = client.attest()
            appraisal = identity.appraisal
            outcome = VerifyOutcome(
                evidence_source=f"{server.url}/.well-known/teeclient/attestation",
                evidence_sha256=identity.document_sha256,
                platform=identity.platform,
                at=identity.verified_at,
                policy_name=policy.name,
                policy_source="builtin:demo",
                policy_sha256=None,
                appraisal=appraisal,
                error=None,
                exit_code=ACCEPTED,
            )
            out.raw(render_verify_human(outcome, color=out.color))

            out.step(3, "Pinned identity")
            out.item("key configurations", f"sha256:{identity.key_fingerprint}")
            out.item("TLS key", "not bound (plain HTTP on loopback; the OHTTP layer encrypts)")
            out.item("trusted roots", "the mock hardware's generated AMD roots, passed explicitly")
            out.item("valid until", identity.expires_at.isoformat())

            out.step(4, "Encrypted chat" + (" (streaming)" if args.stream else ""))
            http = client.http
            http.event_hooks["response"].append(keep)
            out.line(out.paint(f"   > {args.prompt}", "2"))
            out.raw("   ")
            stream_chat(
                http,
                model=enclave.model.model_id,
                messages=[{"role": "user", "content": args.prompt}],
                stream=args.stream,
                on_text=out.raw,
            )
            out.line()

        out.step(5, "What was protected")
        wire = b"".join(bytes(c.received) for c in server.connections)
    suites = sorted({i.suite for i in infos})
    sent_plain = sum(i.plaintext_sent for i in infos)
    sent_cipher = sum(i.ciphertext_sent for i in infos)
    got_plain = sum(i.plaintext_received for i in infos)
    got_cipher = sum(i.ciphertext_received for i in infos)
    gateway_posts = wire.count(b"POST /.well-known/ohttp-gateway ")
    out.item("HPKE suite", ", ".join(suites) or "-")
    out.item("requests", f"{len(infos)}, as POST /.well-known/ohttp-gateway (chunked OHTTP)")
    out.item(
        "request bytes",
        f"{sent_plain} B of HTTP (method, path, headers, body) → {sent_cipher} B sealed",
    )
    out.item(
        "response bytes",
        f"{got_cipher} B sealed → {got_plain} B, every chunk authenticated, final chunk checked",
    )
    checks = [
        ("API key", api_key.encode()),
        ("prompt", args.prompt.encode()),
        ("request path", b"/v1/chat/completions"),
        ("authorization header", b"authorization"),
    ]
    out.line(f"   the server received {len(wire)} B in {len(server.connections)} connection(s):")
    leaked = False
    for label, needle in checks:
        found = needle in wire
        leaked |= found
        verdict = out.paint("LEAKED", "31") if found else out.paint("never in clear", "32")
        out.item(f"  {label}", verdict)
    out.item("  gateway requests seen", str(gateway_posts))
    out.line()
    out.line(
        'Try it on a real endpoint: teeclient chat https://ENDPOINT "your prompt" --stream '
        "--policy my-policy.toml"
    )
    return 1 if leaked else ACCEPTED
