"""The protocol package's import rules (STYLE.md §2): errors, cryptography and stdlib only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import teeclient.protocol

PACKAGE = Path(teeclient.protocol.__file__).parent
ALLOWED_STDLIB = {
    "__future__",
    "collections",
    "dataclasses",
    "enum",
    "hmac",
    "json",
    "os",
    "re",
    "typing",
}


def test_protocol_imports_only_errors_cryptography_and_stdlib() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path.name}: use absolute imports"
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                allowed = (
                    module == "teeclient.errors"
                    or module.startswith("teeclient.protocol")
                    or top == "cryptography"
                    or top in ALLOWED_STDLIB
                )
                assert allowed, f"{path.name} imports {module}"


def test_importing_the_protocol_loads_no_http_stack() -> None:
    code = (
        "import sys, teeclient.protocol.ohttp, teeclient.protocol.ehbp, teeclient.protocol.bhttp;"
        "heavy = ('httpx', 'httpcore', 'typer', 'pyhpke', 'ehbp');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"
