"""The mock enclave: a WSGI application serving attestation, fake vendors and a small model.

Routes:

* ``GET /.well-known/teeclient/attestation?nonce=<64 hex>`` — a fresh
  ``teeclient.attestation/v1`` document per nonce from the mock hardware;
* ``GET /.well-known/tinfoil-attestation[?nonce=<64 hex>]`` — Tinfoil v3 (with a nonce) or v2
  (without; built once) for SEV-SNP and TDX machines;
* ``/vendors/<service>/…`` — the fake vendors' collateral services (``testing.vendors``);
* ``/v1/…`` — the deterministic OpenAI-compatible model (``testing.model``), wrapped by the
  ``gateway`` layer when one is given: ``gateway(model_app, keys) -> app``. With
  ``gateway=teeclient.testing.gateway.ohttp_gateway`` the model is reachable only encrypted,
  through ``/.well-known/ohttp-gateway`` (chunked OHTTP; plaintext ``/v1/…`` gets 404); with
  ``ehbp_gateway`` through EHBP (``/.well-known/hpke-keys``). Without one, ``/v1/…`` is plaintext.

``MockEnclave.handler`` adapts the application to ``httpx.MockTransport``; ``serve`` runs it on
a loopback port with werkzeug's threaded server (``RunningEnclave``). werkzeug is chosen over
``http.server``/``wsgiref`` because it speaks HTTP/1.1 properly in both directions: chunked
request bodies (streamed OHTTP requests in issue 8) and chunked streaming responses (SSE),
which ``wsgiref`` (HTTP/1.0, no chunked requests) does not; it is installed with the ``mock``
extra (``pip install teeclient[mock]``) and already present with the test tools.
"""

from __future__ import annotations

import collections
import hashlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from teeclient._time import Clock, utc_now
from teeclient.binding import BoundKeys
from teeclient.collateral.settings import CollateralSettings
from teeclient.document import WELL_KNOWN_PATH
from teeclient.policy.model import Policy
from teeclient.protocol.hpke import AeadId, KdfId, KemId, PrivateKey, Suite
from teeclient.protocol.keyconfig import KeyConfig, serialize_key_config_list
from teeclient.testing._wsgi import (
    StartResponse,
    WSGIApplication,
    WSGIEnvironment,
    call_wsgi,
    json_response,
    respond,
)
from teeclient.testing.hardware import MockHardware
from teeclient.testing.model import MockModel
from teeclient.testing.vendors import VENDOR_PREFIXES, VENDOR_URLS, VendorServices
from teeclient.tinfoil import WELL_KNOWN_PATH as TINFOIL_PATH
from teeclient.trust import TrustStore

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer

__all__ = ["EnclaveKeys", "Gateway", "MockEnclave", "RunningEnclave"]

_NONCE = re.compile(r"[0-9a-f]{64}")
_GATEWAY_PATHS = frozenset({"/.well-known/ohttp-gateway", "/.well-known/hpke-keys"})

#: wraps the model application: ``gateway(model_app, keys) -> application`` (issue 8: OHTTP)
Gateway = Callable[[WSGIApplication, "EnclaveKeys"], WSGIApplication]


@dataclass(frozen=True, slots=True, kw_only=True)
class EnclaveKeys:
    """The enclave's HPKE keys (RFC 9458 key configurations) and its TLS key's SPKI hash."""

    configs: tuple[KeyConfig, ...]
    private_keys: tuple[PrivateKey, ...]
    tls_spki_sha256: bytes | None = None

    @classmethod
    def generate(
        cls, *, post_quantum: bool = False, tls: bool = False, seed: bytes | None = None
    ) -> EnclaveKeys:
        """Fresh keys: key id 0 is DHKEM(X25519) with AES-128-GCM, AES-256-GCM and
        ChaCha20-Poly1305; with ``post_quantum``, key id 1 is MLKEM768-X25519 too. ``seed``
        derives them deterministically (tests)."""
        kems = [KemId.DHKEM_X25519_HKDF_SHA256]
        if post_quantum:
            kems.append(KemId.MLKEM768_X25519)
        configs, keys = [], []
        for key_id, kem in enumerate(kems):
            key = (
                PrivateKey.derive(kem, hashlib.sha256(seed + bytes([key_id])).digest())
                if seed is not None
                else PrivateKey.generate(kem)
            )
            suites = [
                Suite(kem=kem, kdf=KdfId.HKDF_SHA256, aead=aead)
                for aead in (AeadId.AES_128_GCM, AeadId.AES_256_GCM, AeadId.CHACHA20_POLY1305)
            ]
            configs.append(KeyConfig.create(key_id, key.public_key(), suites))
            keys.append(key)
        spki = None
        if tls:
            tls_key = ec.generate_private_key(ec.SECP256R1())
            der = tls_key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
            spki = hashlib.sha256(der).digest()
        return cls(configs=tuple(configs), private_keys=tuple(keys), tls_spki_sha256=spki)

    @property
    def ohttp_keys(self) -> bytes:
        """The ``application/ohttp-keys`` list (RFC 9458 §3.2)."""
        return serialize_key_config_list(self.configs)

    @property
    def hpke_public_key(self) -> bytes:
        """The raw X25519 public key (what Tinfoil documents bind)."""
        return self.configs[0].public_key.raw

    def bound(self) -> BoundKeys:
        """The key section of teeclient documents."""
        return BoundKeys(ohttp_keys=self.ohttp_keys, tls_spki_sha256=self.tls_spki_sha256)


class MockEnclave:
    """A mock enclave for one ``MockHardware``; see the module docstring for its routes."""

    def __init__(
        self,
        hardware: MockHardware,
        *,
        keys: EnclaveKeys | None = None,
        model: MockModel | None = None,
        gateway: Gateway | None = None,
        clock: Clock = utc_now,
        tinfoil_tls_spki_sha256: bytes | None = None,
    ) -> None:
        self.hardware = hardware
        self.keys = keys if keys is not None else EnclaveKeys.generate()
        self.model = model if model is not None else MockModel()
        self.clock = clock
        self.vendors = VendorServices(hardware, clock)
        self.inference: WSGIApplication = (
            gateway(self.model, self.keys) if gateway is not None else self.model
        )
        self.requests: collections.deque[tuple[str, str]] = collections.deque(maxlen=1024)
        self._tinfoil_tls = tinfoil_tls_spki_sha256 or self.keys.tls_spki_sha256 or bytes(32)
        self._v2: bytes | None = None
        self._lock = threading.Lock()

    # -- the application ------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        """The WSGI application."""
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        self.requests.append((method, path))
        if path == WELL_KNOWN_PATH:
            return self._attestation(environ, start_response)
        if path == TINFOIL_PATH:
            return self._tinfoil(environ, start_response)
        if path.startswith("/vendors/"):
            return self.vendors(environ, start_response)
        if path.startswith("/v1/") or path in _GATEWAY_PATHS:
            return self.inference(environ, start_response)
        if path == "/healthz":
            return respond(start_response, 200, b"ok\n", "text/plain")
        return respond(start_response, 404, b"not found\n", "text/plain")

    def _nonce(self, environ: WSGIEnvironment) -> bytes | str | None:
        values = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).get("nonce")
        if values is None:
            return None
        if len(values) != 1 or not _NONCE.fullmatch(values[0]):
            return "invalid"
        return bytes.fromhex(values[0])

    def _attestation(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        if environ["REQUEST_METHOD"] != "GET":
            return json_response(start_response, 405, {"error": "GET only"})
        nonce = self._nonce(environ)
        if not isinstance(nonce, bytes):
            return json_response(
                start_response, 400, {"error": "nonce must be 64 lowercase hex digits"}
            )
        document = self.hardware.document(nonce, self.keys.bound(), at=self.clock())
        return respond(start_response, 200, document, "application/json")

    def _tinfoil(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        if self.hardware.platform == "nitro":
            return json_response(start_response, 404, {"error": "no Tinfoil documents on Nitro"})
        nonce = self._nonce(environ)
        if nonce == "invalid":
            return json_response(
                start_response, 400, {"error": "nonce must be 64 lowercase hex digits"}
            )
        if isinstance(nonce, bytes):
            document = self.hardware.tinfoil_v3(
                nonce,
                hpke_public_key=self.keys.hpke_public_key,
                tls_spki_sha256=self._tinfoil_tls,
                at=self.clock(),
            )
        else:
            with self._lock:
                if self._v2 is None:
                    self._v2 = self.hardware.tinfoil_v2(
                        hpke_public_key=self.keys.hpke_public_key,
                        tls_spki_sha256=self._tinfoil_tls,
                        at=self.clock(),
                    )
                document = self._v2
        return respond(start_response, 200, document, "application/json")

    # -- clients' view ------------------------------------------------------------------------

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (use with ``httpx.MockTransport(enclave.handler)``)."""
        return call_wsgi(self, request)

    def transport(self) -> httpx.MockTransport:
        """An httpx transport that answers every request from this enclave, in process."""
        return httpx.MockTransport(self.handler)

    def collateral_settings(
        self, base_url: str, settings: CollateralSettings | None = None
    ) -> CollateralSettings:
        """``settings`` with every collateral service pointed at this enclave's fake vendors."""
        out = settings if settings is not None else CollateralSettings(use_cache=False)
        for service, prefix in {**VENDOR_PREFIXES, **VENDOR_URLS}.items():
            out = out.with_base_url(service, base_url.rstrip("/") + prefix)
        return out

    def trust_store(self, base: TrustStore | None = None) -> TrustStore:
        """The generated roots (on ``base`` if given); pass it explicitly to trust them."""
        return self.hardware.trust_store(base)

    def policy(self) -> Policy:
        """A policy that accepts this enclave while it has no fault."""
        return self.hardware.policy()

    def serve(self, *, host: str = "127.0.0.1", port: int = 0) -> RunningEnclave:
        """Serve on ``host:port`` (0: any free port) in a background thread.

        Raises:
            ImportError: werkzeug is not installed (``pip install teeclient[mock]``).
        """
        from werkzeug.serving import WSGIRequestHandler, make_server

        class _Quiet(WSGIRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                return

        server = make_server(host, port, self, threaded=True, request_handler=_Quiet)
        return RunningEnclave(self, server)


class RunningEnclave:
    """A mock enclave listening on loopback; a context manager that stops it on exit."""

    def __init__(self, enclave: MockEnclave, server: BaseWSGIServer) -> None:
        self.enclave = enclave
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="teeclient-mock-enclave",
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        host = str(self._server.server_address[0])
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self._server.server_port}"

    def collateral_settings(self, settings: CollateralSettings | None = None) -> CollateralSettings:
        """Collateral settings pointing every vendor service at this server."""
        return self.enclave.collateral_settings(self.url, settings)

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningEnclave:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def when(self) -> datetime:
        """The enclave's current time (its clock)."""
        return self.enclave.clock()
