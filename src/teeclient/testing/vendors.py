"""The fake vendors' collateral services for one mock machine, at their real paths (WSGI).

Mounted by the mock enclave under ``/vendors/<service>``, so ``CollateralSettings`` can point
each service's base URL there (``VENDOR_PREFIXES``):

* ``amd-kds``: ``GET /vcek/v1/<Product>/<hwid>?blSPL=…`` (DER VCEK, only for this chip and
  TCB), ``GET /{vcek,vlek}/v1/<Product>/crl`` (DER CRL), ``…/cert_chain`` (PEM ASK/ASVK + ARK);
* ``intel-pcs``: ``GET /tdx/certification/v4/tcb?fmspc=…``, ``/tdx/certification/v4/qe/identity``
  and ``/sgx/certification/v4/pckcrl?ca=platform&encoding=der`` with their issuer-chain headers,
  and ``/IntelSGXRootCA.der`` (the root CA CRL's path on certificates.trustedservices.intel.com;
  ``VENDOR_URLS`` points the ``intel_root_crl`` setting, a full URL, there);
* ``nvidia-rim``: ``GET /v1/rim/<id>`` (the service's JSON), ``GET /v1/rim/ids``;
* ``nvidia-ocsp``: ``POST /`` with an ``application/ocsp-request`` (answers signed by the
  delegated responder, echoing the request nonce).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from teeclient.platforms.sev_snp.abi import Product
from teeclient.testing._wsgi import (
    StartResponse,
    WSGIEnvironment,
    json_response,
    read_body,
    respond,
)
from teeclient.testing.hardware import MockHardware

__all__ = ["VENDOR_PREFIXES", "VENDOR_URLS", "VendorServices"]

#: collateral service (``CollateralSettings`` name) → path prefix on the mock enclave
VENDOR_PREFIXES = {
    "amd_kds": "/vendors/amd-kds",
    "intel_pcs": "/vendors/intel-pcs",
    "nvidia_rim": "/vendors/nvidia-rim",
    "nvidia_ocsp": "/vendors/nvidia-ocsp",
}


#: collateral settings that are full URLs rather than bases → their path on the mock enclave
VENDOR_URLS = {"intel_root_crl": "/vendors/intel-pcs/IntelSGXRootCA.der"}


def _not_found(start_response: StartResponse, what: str) -> list[bytes]:
    return respond(start_response, 404, f"not found: {what}\n".encode(), "text/plain")


class VendorServices:
    """WSGI application answering the fake vendors' endpoints for ``hardware`` at ``clock()``."""

    def __init__(self, hardware: MockHardware, clock: Callable[[], datetime]) -> None:
        self.hardware = hardware
        self.clock = clock

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        """Dispatch by prefix."""
        path = environ.get("PATH_INFO", "")
        for service, prefix in VENDOR_PREFIXES.items():
            if path == prefix or path.startswith(prefix + "/"):
                handler = getattr(self, f"_{service}")
                result: list[bytes] = handler(
                    environ, start_response, path.removeprefix(prefix) or "/"
                )
                return result
        return _not_found(start_response, path)

    # -- AMD KDS ------------------------------------------------------------------------------

    def _amd_kds(
        self, environ: WSGIEnvironment, start_response: StartResponse, path: str
    ) -> list[bytes]:
        hw = self.hardware
        parts = path.strip("/").split("/")
        if hw.platform != "sev-snp" or len(parts) != 4 or parts[1] != "v1":
            return _not_found(start_response, path)
        kind, _, product_name, leaf = parts
        product = Product(hw.spec.product)
        if product_name != product.kds_name or kind not in ("vcek", "vlek"):
            return _not_found(start_response, path)
        amd = hw.pkis.amd(product)
        if leaf == "crl":
            if kind != hw.spec.signing_key:
                return _not_found(start_response, path)
            return respond(start_response, 200, hw.amd_crl(self.clock()), "application/pkix-crl")
        if leaf == "cert_chain":
            chain = amd.chain_pem(vlek=kind == "vlek")
            return respond(start_response, 200, chain, "application/x-pem-file")
        url = hw.vcek_url()
        query = environ.get("QUERY_STRING", "")
        vek = hw.vek()
        if (
            kind == "vcek"
            and url is not None
            and vek is not None
            and url.endswith(f"/{leaf}?{query}")
        ):
            return respond(
                start_response, 200, vek.cert.public_bytes(Encoding.DER), "application/pkix-cert"
            )
        return _not_found(start_response, f"{path}?{query}")

    # -- Intel PCS ----------------------------------------------------------------------------

    def _intel_pcs(
        self, environ: WSGIEnvironment, start_response: StartResponse, path: str
    ) -> list[bytes]:
        hw = self.hardware
        if hw.platform != "tdx":
            return _not_found(start_response, path)
        query = parse_qs(environ.get("QUERY_STRING", ""))
        routes = {
            "/tdx/certification/v4/tcb": ("tcb", "application/json"),
            "/tdx/certification/v4/qe/identity": ("qe", "application/json"),
            "/sgx/certification/v4/pckcrl": ("pckcrl", "application/pkix-crl"),
            "/IntelSGXRootCA.der": ("rootcrl", "application/pkix-crl"),
        }
        route = routes.get(path)
        if route is None:
            return _not_found(start_response, path)
        if route[0] == "tcb" and query.get("fmspc", [""])[0].lower() != "90c06f000000":
            return _not_found(start_response, "TCB Info for this FMSPC")
        if route[0] == "pckcrl" and query.get("ca", [""])[0] != "platform":
            return _not_found(start_response, "PCK CRL of this CA")
        body, headers = hw.intel_collateral(self.clock())[route[0]]
        return respond(start_response, 200, body, route[1], headers.items())

    # -- NVIDIA RIM service -------------------------------------------------------------------

    def _nvidia_rim(
        self, environ: WSGIEnvironment, start_response: StartResponse, path: str
    ) -> list[bytes]:
        rims = self.hardware.rims()
        if path == "/v1/rim/ids":
            return json_response(start_response, 200, {"ids": sorted(rims)})
        rim_id = path.removeprefix("/v1/rim/")
        if not path.startswith("/v1/rim/") or rim_id not in rims:
            return json_response(start_response, 404, {"error": f"no RIM {rim_id}"})
        return respond(start_response, 200, rims[rim_id], "application/json")

    # -- NVIDIA OCSP --------------------------------------------------------------------------

    def _nvidia_ocsp(
        self, environ: WSGIEnvironment, start_response: StartResponse, path: str
    ) -> list[bytes]:
        if environ["REQUEST_METHOD"] != "POST" or path != "/":
            return _not_found(start_response, path)
        try:
            request = ocsp.load_der_ocsp_request(read_body(environ, 64 * 1024))
        except ValueError:
            malformed = ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST
            )
            return respond(
                start_response,
                200,
                malformed.public_bytes(Encoding.DER),
                "application/ocsp-response",
            )
        nonce = None
        for ext in request.extensions:
            if isinstance(ext.value, x509.OCSPNonce):
                nonce = ext.value.nonce
        for cert, _pki in self.hardware.ocsp_certificates():
            if cert.serial_number == request.serial_number:
                answer = self.hardware.ocsp_answer(
                    cert, at=self.clock(), nonce=nonce, algorithm=request.hash_algorithm
                )
                return respond(start_response, 200, answer, "application/ocsp-response")
        unauthorized = ocsp.OCSPResponseBuilder.build_unsuccessful(
            ocsp.OCSPResponseStatus.UNAUTHORIZED
        )
        return respond(
            start_response,
            200,
            unauthorized.public_bytes(Encoding.DER),
            "application/ocsp-response",
        )
