"""Encrypted client benchmarks over loopback HTTP (issue 8 targets).

    python -m benchmarks.bench_client

1. Added latency per request: the same small POST through ``AttestedTransport`` (chunked
   OHTTP, identity already pinned) and through plain httpx, to the same loopback server
   (``teeclient.testing.loopback``), interleaved; the difference of the medians (target
   <= 0.3 ms). It includes the gateway's work, which runs on the same machine.
2. Streaming 10,000 SSE events (one chunk each), encrypted vs plaintext: throughput ratio
   (target >= 0.9).
3. Our EHBP profile vs tinfoil-ehbp's ``EHBPTransport`` on the same payloads against the same
   EHBP gateway: a 1 KiB request and a 10,000-event stream (target ratio <= 1.0).

The server (the loopback server with the gateways and the app) runs in a child process, so
the client measured here competes with it for the machine's two cores but not for one GIL;
the gateway's own work is still inside every encrypted number. Results name the suite; the
machine load is printed with them (shared machines vary).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks._harness import Result
from teeclient.identity import EnclaveIdentity
from teeclient.protocol.hpke import KemId
from teeclient.protocol.keyconfig import DEFAULT_PREFERENCES
from teeclient.testing.gateway import GATEWAY_PATH, EhbpGateway, OhttpGateway
from teeclient.testing.loopback import LoopbackServer
from teeclient.transport import AttestedTransport

EVENTS = 10_000
# both sides of every comparison use the same client socket settings
_NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
SMALL = {"model": "m", "messages": [{"role": "user", "content": "x" * 900}]}  # ~1 KiB
_EVENT = (
    b'data: {"id":"c","object":"chat.completion.chunk","choices":'
    b'[{"index":0,"delta":{"content":" token"}}]}\n\n'
)


def _app(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/v1/stream":
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            content=iter([_EVENT] * EVENTS + [b"data: [DONE]\n\n"]),
        )
    body = request.read()
    return httpx.Response(
        200,
        headers={"content-type": "application/json"},
        content=b'{"id":"c","object":"chat.completion","received":%d}' % len(body),
    )


def _identity(
    keys: bytes | None, endpoint: str, *, hpke_public_key: bytes | None = None
) -> EnclaveIdentity:
    now = datetime.now(UTC)
    return EnclaveIdentity(
        endpoint=endpoint,
        layout="bench",
        platform="bench",
        measurements={},
        devices=(),
        verified_at=now,
        expires_at=now + timedelta(days=1),
        document_sha256="00" * 32,
        ohttp_keys=keys,
        hpke_public_key=hpke_public_key,
    )


def _router(
    ohttp_gateway: OhttpGateway, ehbp_gateway: EhbpGateway
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == GATEWAY_PATH:
            return ohttp_gateway(request)
        if request.headers.get("ehbp-encapsulated-key"):
            return ehbp_gateway(request)
        return _app(request)

    return handler


def _interleaved(
    name_a: str, fn_a: Callable[[], object], name_b: str, fn_b: Callable[[], object], n: int
) -> tuple[Result, Result]:
    for _ in range(max(5, n // 10)):
        fn_a()
        fn_b()
    a: list[float] = []
    b: list[float] = []
    for _ in range(n):
        start = time.perf_counter_ns()
        fn_a()
        a.append((time.perf_counter_ns() - start) / 1000)
        start = time.perf_counter_ns()
        fn_b()
        b.append((time.perf_counter_ns() - start) / 1000)
    return _result(name_a, a), _result(name_b, b)


def _result(name: str, samples: list[float], note: str = "") -> Result:
    ordered = sorted(samples)
    n = len(ordered)
    return Result(
        name=name,
        median_us=statistics.median(ordered),
        p10_us=ordered[max(0, int(n * 0.1) - 1)],
        p90_us=ordered[min(n - 1, int(n * 0.9))],
        samples=n,
        note=note,
    )


def _drain(client: httpx.Client, method: str, path: str, **kw: object) -> int:
    with client.stream(method, path, **kw) as response:  # type: ignore[arg-type]
        return sum(len(piece) for piece in response.iter_bytes())


class _Server:
    """The loopback server in a child process: app, chunked-OHTTP gateway, EHBP gateway."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bench_client", "--serve"],
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parent.parent,
            text=True,
        )
        assert self.proc.stdout is not None
        info = json.loads(self.proc.stdout.readline())
        self.url: str = info["url"]
        self.ohttp_keys = bytes.fromhex(info["ohttp_keys"])
        self.ehbp_config = bytes.fromhex(info["ehbp_config"])
        self.ehbp_key = bytes.fromhex(info["ehbp_key"])

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _serve() -> int:
    ohttp_gateway = OhttpGateway.generate(_app)
    ehbp_gateway = EhbpGateway(_app)
    with LoopbackServer(_router(ohttp_gateway, ehbp_gateway)) as server:
        print(
            json.dumps(
                {
                    "url": server.url,
                    "ohttp_keys": ohttp_gateway.key_configs.hex(),
                    "ehbp_config": ehbp_gateway.key_config.hex(),
                    "ehbp_key": ehbp_gateway.server.config.public_key.raw.hex(),
                }
            ),
            flush=True,
        )
        sys.stdin.read()  # until the parent goes away
        time.sleep(3600)
    return 0


def _encrypted(server: _Server, **kwargs: object) -> httpx.Client:
    transport = AttestedTransport(
        httpx.HTTPTransport(socket_options=_NODELAY),
        endpoint=server.url,
        identity=_identity(server.ohttp_keys, server.url),
        **kwargs,  # type: ignore[arg-type]
    )
    return httpx.Client(transport=transport, base_url=server.url)


def _plain(server: _Server) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(socket_options=_NODELAY), base_url=server.url)


def _latency(results: list[Result], server: _Server, kem: KemId, label: str, n: int) -> None:
    preferences = [p for p in DEFAULT_PREFERENCES if p.kem is kem]
    with _plain(server) as plain, _encrypted(server, preferences=preferences) as encrypted:
        r_plain, r_enc = _interleaved(
            f"request 1 KiB: plaintext httpx ({label} run)",
            lambda: plain.post("/v1/chat", json=SMALL).content,
            f"request 1 KiB: chunked OHTTP {label}",
            lambda: encrypted.post("/v1/chat", json=SMALL).content,
            n,
        )
        results += _cpu_split(server, label, plain, encrypted)
    results += [
        r_plain,
        r_enc,
        Result(
            f"added latency per request, {label}",
            r_enc.median_us - r_plain.median_us,
            r_enc.p10_us - r_plain.p10_us,
            r_enc.p90_us - r_plain.p90_us,
            n,
            "difference of medians (target <= 0.3 ms)",
        ),
    ]


def _server_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_split(
    server: _Server, label: str, plain: httpx.Client, encrypted: httpx.Client, n: int = 500
) -> list[Result]:
    """CPU per request on each side (client: this process; gateway: the server process),
    plaintext and encrypted: where the added latency is spent. Means over ``n`` requests."""
    out: list[Result] = []
    for kind, client in (("plaintext", plain), (f"chunked OHTTP {label}", encrypted)):
        before_server = _server_cpu_s(server.proc.pid)
        before = time.process_time()
        for _ in range(n):
            client.post("/v1/chat", json=SMALL).read()
        client_us = (time.process_time() - before) / n * 1e6
        after_server = _server_cpu_s(server.proc.pid)
        out.append(
            Result(
                f"client CPU per request, {kind}",
                client_us,
                client_us,
                client_us,
                n,
                "mean of process CPU time",
            )
        )
        if before_server is not None and after_server is not None:
            server_us = (after_server - before_server) / n * 1e6
            out.append(
                Result(
                    f"server CPU per request, {kind}",
                    server_us,
                    server_us,
                    server_us,
                    n,
                    "mean, /proc CPU time of the server process",
                )
            )
    return out


def _streaming(results: list[Result], server: _Server, n: int) -> None:
    with _plain(server) as plain, _encrypted(server) as encrypted:
        r_plain, r_enc = _interleaved(
            f"stream {EVENTS} SSE events: plaintext httpx",
            lambda: _drain(plain, "GET", "/v1/stream"),
            f"stream {EVENTS} SSE events: chunked OHTTP (MLKEM768-X25519)",
            lambda: _drain(encrypted, "GET", "/v1/stream"),
            n,
        )
    results += [
        _noted(r_plain, _events_per_s(r_plain)),
        _noted(
            r_enc,
            f"{_events_per_s(r_enc)}; throughput ratio "
            f"{r_plain.median_us / r_enc.median_us:.3f} (target >= 0.9)",
        ),
    ]


def _noted(result: Result, note: str) -> Result:
    return Result(result.name, result.median_us, result.p10_us, result.p90_us, result.samples, note)


def _events_per_s(result: Result) -> str:
    return f"{EVENTS / (result.median_us / 1e6):,.0f} events/s"


def _ehbp(results: list[Result], server: _Server, n: int) -> None:
    try:
        import ehbp as tinfoil
    except ImportError:
        results.append(Result("ehbp vs tinfoil-ehbp", 0, 0, 0, 0, "skipped: tinfoil-ehbp missing"))
        return
    ours = httpx.Client(
        transport=AttestedTransport(
            httpx.HTTPTransport(socket_options=_NODELAY),
            endpoint=server.url,
            identity=_identity(None, server.url, hpke_public_key=server.ehbp_key),
            profile="ehbp",
        ),
        base_url=server.url,
    )
    identity = tinfoil.ServerIdentity.unmarshal_public_config(server.ehbp_config)
    theirs = httpx.Client(
        transport=tinfoil.EHBPTransport(
            identity, inner=httpx.HTTPTransport(socket_options=_NODELAY)
        ),
        base_url=server.url,
    )
    with ours, theirs:
        mine, ref = _interleaved(
            "EHBP 1 KiB request: teeclient profile",
            lambda: ours.post("/v1/chat", json=SMALL).content,
            "EHBP 1 KiB request: tinfoil-ehbp EHBPTransport",
            lambda: theirs.post("/v1/chat", json=SMALL).content,
            n,
        )
        results += [mine, ref]
        body = json.dumps({"stream": True}).encode()
        mine_s, ref_s = _interleaved(
            f"EHBP stream {EVENTS} events: teeclient profile",
            lambda: _drain(ours, "POST", "/v1/stream", content=body),
            f"EHBP stream {EVENTS} events: tinfoil-ehbp EHBPTransport",
            lambda: _drain(theirs, "POST", "/v1/stream", content=body),
            max(5, n // 40),
        )
        results += [mine_s, ref_s]


def run(*, quick: bool = False) -> list[Result]:
    """All client benchmarks (``quick``: fewer samples, for smoke tests)."""
    n = 40 if quick else 400
    results: list[Result] = []
    server = _Server()
    try:
        _latency(results, server, KemId.DHKEM_X25519_HKDF_SHA256, "X25519", n)
        _latency(results, server, KemId.MLKEM768_X25519, "MLKEM768-X25519", n)
        _streaming(results, server, 3 if quick else 15)
        _ehbp(results, server, n)
    finally:
        server.close()
    return results


def ratios(results: list[Result]) -> dict[str, float]:
    """Ratios for benchmarks/run.py: teeclient time / reference time (lower is better)."""
    by = {r.name: r for r in results}
    out: dict[str, float] = {}
    pairs = (
        (
            "EHBP 1 KiB request (httpx, loopback)",
            "EHBP 1 KiB request: teeclient profile",
            "EHBP 1 KiB request: tinfoil-ehbp EHBPTransport",
        ),
        (
            f"EHBP stream {EVENTS} events (httpx, loopback)",
            f"EHBP stream {EVENTS} events: teeclient profile",
            f"EHBP stream {EVENTS} events: tinfoil-ehbp EHBPTransport",
        ),
    )
    for label, mine, ref in pairs:
        if mine in by and ref in by and by[ref].median_us:
            out[f"{label}: teeclient / tinfoil-ehbp"] = by[mine].median_us / by[ref].median_us
    stream = [r for r in results if r.name.startswith(f"stream {EVENTS} SSE events")]
    if len(stream) == 2 and stream[0].median_us:
        out[f"SSE streaming {EVENTS} events: encrypted time / plaintext time"] = (
            stream[1].median_us / stream[0].median_us
        )
    return out


def main() -> int:
    """Print every result, the ratios and the machine load."""
    if "--serve" in sys.argv:
        return _serve()
    results = run(quick="--quick" in sys.argv)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    for result in results:
        print(result.line())
    for name, value in ratios(results).items():
        print(f"{name:<60} {value:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
