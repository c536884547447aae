"""`teeclient mock-enclave`: run a mock enclave on loopback and print what a client needs."""

from __future__ import annotations

import json
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from teeclient.cli.exit_codes import ACCEPTED, USAGE
from teeclient.errors import UsageError

if TYPE_CHECKING:
    from teeclient.testing.enclave import Gateway
    from teeclient.testing.hardware import MockHardware

__all__ = ["MockArgs", "run"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MockArgs:
    """Parsed `mock-enclave` arguments."""

    platform: str
    product: str
    signing_key: str
    gpus: int
    arch: str
    switches: int
    host: str
    port: int
    faults: list[str]
    output_dir: Path | None
    json_output: bool
    gateway: str = "ohttp"


def _hardware(args: MockArgs) -> MockHardware:
    from teeclient.testing.hardware import HardwareSpec, MockHardware, parse_fault

    try:
        faults = frozenset(parse_fault(f) for f in args.faults)
        spec = HardwareSpec(
            platform=args.platform,
            product=args.product,
            signing_key=args.signing_key,
            gpus=args.gpus,
            gpu_arch=args.arch,
            switches=args.switches,
            faults=faults,
        )
    except ValueError as exc:
        raise UsageError(str(exc), field="mock-enclave") from exc
    return MockHardware(spec)


_MODEL_ACCESS = {
    "ohttp": "encrypted only (chunked OHTTP at /.well-known/ohttp-gateway; teeclient chat URL)",
    "ehbp": "EHBP (Tinfoil profile; keys at /.well-known/hpke-keys)",
    "none": "plaintext at /v1/ (no gateway)",
}


def _gateway(name: str) -> Gateway | None:
    from teeclient.testing.gateway import ehbp_gateway, ohttp_gateway

    choices: dict[str, Gateway | None] = {
        "ohttp": ohttp_gateway,
        "ehbp": ehbp_gateway,
        "none": None,
    }
    if name not in choices:
        raise UsageError(
            "unknown gateway", field="--gateway", expected="ohttp, ehbp or none", actual=name
        )
    return choices[name]


def run(args: MockArgs, *, stop: threading.Event | None = None) -> int:
    """Start the enclave, print its URL and the trust and policy files, serve until stopped."""
    from teeclient.testing.enclave import EnclaveKeys, MockEnclave

    try:
        hardware = _hardware(args)
        enclave = MockEnclave(
            hardware,
            keys=EnclaveKeys.generate(post_quantum=True),
            gateway=_gateway(args.gateway),
        )
        try:
            running = enclave.serve(host=args.host, port=args.port)
        except ImportError as exc:
            raise UsageError(
                "the mock enclave server needs werkzeug: pip install 'teeclient[mock]'",
                field="werkzeug",
            ) from exc
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {args.host}:{args.port}: {exc.strerror}", field="--port"
            ) from exc
    except UsageError as exc:
        sys.stderr.write(f"teeclient: {exc}\n")
        return USAGE
    folder = args.output_dir or Path(tempfile.mkdtemp(prefix="teeclient-mock-"))
    folder.mkdir(parents=True, exist_ok=True)
    trust_file = folder / "trust.toml"
    policy_file = folder / "policy.toml"
    trust_file.write_text(hardware.trust_file())
    policy_file.write_text(hardware.policy_toml())
    settings = running.collateral_settings()
    info = {
        "url": running.url,
        "trust_file": str(trust_file),
        "policy_file": str(policy_file),
        "hardware": hardware.spec.describe(),
        "gateway": args.gateway,
        "collateral_base_urls": dict(settings.base_urls),
    }
    if args.json_output:
        sys.stdout.write(json.dumps(info) + "\n")
    else:
        sys.stdout.write(
            f"mock enclave: {info['hardware']}\n"
            f"url:         {info['url']}\n"
            f"trust file:  {trust_file}   (test roots: pass it explicitly, e.g. --trust)\n"
            f"policy file: {policy_file}\n"
            "collateral:  "
            + " ".join(
                f"--{flag}-url {settings.base_url(service)}"
                for flag, service in (
                    ("kds", "amd_kds"),
                    ("pcs", "intel_pcs"),
                    ("rim", "nvidia_rim"),
                    ("ocsp", "nvidia_ocsp"),
                )
            )
            + f"\n             TEECLIENT_INTEL_ROOT_CRL_URL={settings.base_url('intel_root_crl')}"
            + f"\nmodel:       {_MODEL_ACCESS[args.gateway]}"
            + "\nserving until interrupted (Ctrl-C)\n"
        )
    sys.stdout.flush()
    event = stop or threading.Event()
    if stop is None and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: event.set())
    try:
        event.wait()
    finally:
        running.close()
    return ACCEPTED
