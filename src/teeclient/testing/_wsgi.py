"""Small WSGI helpers for the mock enclave: responses, request bodies, and an httpx bridge.

``call_wsgi`` runs a WSGI application for an ``httpx.Request`` and returns a streaming
``httpx.Response`` (so a handler built on it works with ``httpx.MockTransport``); the
loopback server serves the same application with werkzeug.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import httpx

__all__ = [
    "MAX_BODY",
    "StartResponse",
    "WSGIApplication",
    "WSGIEnvironment",
    "call_wsgi",
    "json_response",
    "read_body",
    "respond",
]

MAX_BODY = 16 * 1024 * 1024

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def respond(
    start_response: StartResponse,
    status: int,
    body: bytes,
    content_type: str,
    headers: Iterable[tuple[str, str]] = (),
) -> list[bytes]:
    """Start a complete (non-streaming) response and return its body."""
    start_response(
        f"{status} {_REASONS.get(status, 'Status')}",
        [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers],
    )
    return [body]


def json_response(start_response: StartResponse, status: int, obj: Any) -> list[bytes]:
    """A JSON response."""
    return respond(start_response, status, json.dumps(obj).encode(), "application/json")


def read_body(environ: WSGIEnvironment, limit: int = MAX_BODY) -> bytes:
    """The request body (Content-Length or a server-terminated stream), at most ``limit``.

    Raises:
        ValueError: larger than ``limit``.
    """
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH") or ""
    if length.isdigit():
        size = int(length)
        if size > limit:
            raise ValueError("request body too large")
        return bytes(stream.read(size))
    if environ.get("wsgi.input_terminated"):
        data = stream.read(limit + 1)
        if len(data) > limit:
            raise ValueError("request body too large")
        return bytes(data)
    return b""


def _environ(request: httpx.Request, body: bytes) -> WSGIEnvironment:
    url = urlsplit(str(request.url))
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(url.path) or "/",
        "QUERY_STRING": url.query,
        "SERVER_NAME": url.hostname or "localhost",
        "SERVER_PORT": str(url.port or (443 if url.scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": url.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key != "CONTENT_LENGTH":
            environ[f"HTTP_{key}"] = value
    return environ


def call_wsgi(app: WSGIApplication, request: httpx.Request) -> httpx.Response:
    """Run ``app`` for ``request``; the response body streams from the application."""
    body = request.read()
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"] = int(status.split(" ", 1)[0])
        captured["headers"] = headers
        return lambda data: None

    result = app(_environ(request, body), start_response)

    def stream() -> Iterator[bytes]:
        try:
            yield from result
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    iterator = stream()
    first = next(iterator, b"")  # runs the application up to start_response

    def chained() -> Iterator[bytes]:
        if first:
            yield first
        yield from iterator

    headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
    return httpx.Response(captured["status"], headers=headers, content=chained(), request=request)
