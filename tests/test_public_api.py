"""The public API is small, pinned, and cheap to import."""

from __future__ import annotations

import json
import subprocess
import sys

import teeclient
from teeclient import errors

PINNED = [
    "Appraisal",
    "AsyncClient",
    "AttestationRejected",
    "Client",
    "CollateralError",
    "ConfigError",
    "EnclaveIdentity",
    "EvidenceError",
    "Policy",
    "TeeclientError",
    "TransportError",
    "TrustStore",
    "UsageError",
    "__version__",
    "load_policy",
    "verify",
    "verify_claims",
]


def test_all_is_pinned() -> None:
    assert teeclient.__all__ == PINNED
    assert teeclient.__all__ == sorted(teeclient.__all__)


def test_every_name_resolves() -> None:
    for name in teeclient.__all__:
        assert getattr(teeclient, name) is not None, name
    assert teeclient.TeeclientError is errors.TeeclientError
    assert teeclient.UsageError is errors.UsageError
    assert callable(teeclient.verify)
    assert isinstance(teeclient.__version__, str)
    assert set(teeclient.__all__) <= set(dir(teeclient))


def test_unknown_attribute() -> None:
    try:
        teeclient.does_not_exist  # noqa: B018
    except AttributeError:
        pass
    else:
        raise AssertionError("expected AttributeError")


def test_import_loads_no_heavy_dependencies() -> None:
    code = (
        "import json, sys\n"
        "import teeclient\n"
        "heavy = ('httpx', 'typer', 'rich', 'click')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(proc.stdout) == []


def test_verify_api_loads_no_cli_dependencies() -> None:
    code = (
        "import json, sys\n"
        "import teeclient\n"
        "teeclient.verify, teeclient.load_policy, teeclient.TrustStore\n"
        "print(json.dumps(sorted(m for m in sys.modules\n"
        "                        if m.split('.')[0] in ('httpx', 'typer', 'rich', 'click'))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(proc.stdout) == []


def test_client_loads_no_openai_until_asked() -> None:
    code = (
        "import json, sys\n"
        "import teeclient\n"
        "teeclient.Client('https://enclave.example'), teeclient.AsyncClient\n"
        "print(json.dumps(sorted(m for m in sys.modules\n"
        "                        if m.split('.')[0] in ('openai', 'typer'))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(proc.stdout) == []
