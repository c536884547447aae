"""Every CLI example in docs/ runs: each `teeclient …` line of a ```sh block is executed.

Rules a docs author follows (docs/index.md repeats them):

- Lines of a ```sh block that start with ``teeclient`` (or ``$ teeclient``) are run from a
  scratch directory that links the repository's ``examples/``, ``fixtures/``, ``policies/``
  and ``docs/``; lines ending in ``\\`` continue; ``# …`` comments are ignored.
- ``NAME=value`` lines set variables that later lines use as ``$NAME`` (nothing else of the
  shell is supported).
- ``# doc-example: exit N`` says the next command exits with N (default 0).
- ``# doc-example: needs network`` (or ``needs server``) marks the next command as one that
  cannot run offline: it is reported as SKIPPED with its location, never silently dropped.

Examples of a page run in order and share the scratch directory, so a later example can use
a file an earlier one wrote.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teeclient.cli import app

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
_MARKER = re.compile(r"#\s*doc-example:\s*(exit\s+(\d+)|needs\s+(\w+))")
_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)$")
_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


@dataclass(frozen=True)
class DocExample:
    page: str
    line: int
    command: str
    exit_code: int
    needs: str | None

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def collect(page: Path) -> list[DocExample]:
    """The examples of one page, variables expanded."""
    out: list[DocExample] = []
    in_block = False
    variables: dict[str, str] = {}
    exit_code, needs = 0, None
    pending = ""
    start = 0
    for number, raw in enumerate(page.read_text().splitlines(), 1):
        stripped = raw.strip()
        if not in_block:
            in_block = stripped == "```sh"
            continue
        if stripped.startswith("```"):
            in_block = False
            continue
        marker = _MARKER.search(stripped)
        if marker and stripped.startswith("#"):
            if marker.group(2):
                exit_code = int(marker.group(2))
            else:
                needs = marker.group(3)
            continue
        if pending:
            pending += " " + stripped
        elif stripped.startswith(("teeclient ", "$ teeclient ")):
            pending = stripped.removeprefix("$ ")
            start = number
        else:
            assign = _ASSIGN.match(stripped)
            if assign:
                variables[assign.group(1)] = _VAR.sub(
                    lambda m: variables.get(m.group(1), m.group(0)), assign.group(2)
                )
            continue
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        command = _VAR.sub(lambda m: variables.get(m.group(1), m.group(0)), pending)
        out.append(DocExample(page.name, start, command, exit_code, needs))
        pending, exit_code, needs = "", 0, None
    return out


EXAMPLES = [ex for page in sorted(DOCS.glob("*.md")) for ex in collect(page)]


def test_the_docs_have_examples() -> None:
    assert len(EXAMPLES) >= 20
    pages = {ex.page for ex in EXAMPLES}
    assert {"quickstart.md", "ci.md", "results.md", "cli-reference.md"} <= pages


def test_collect_rules(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text(
        "text\n```sh\nV=fixtures/x\n# doc-example: exit 1\nteeclient verify $V/a \\\n"
        "  --json   # note\n# doc-example: needs network\n$ teeclient fetch b -o c\n"
        "echo ignored\n```\n```python\nteeclient not sh\n```\n"
    )
    found = collect(page)
    assert [(e.command, e.exit_code, e.needs) for e in found] == [
        ("teeclient verify fixtures/x/a --json   # note", 1, None),
        ("teeclient fetch b -o c", 0, "network"),
    ]


_SCRATCH: dict[str, Path] = {}


@pytest.fixture
def scratch(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    page = request.node.callspec.params["example"].page
    if page not in _SCRATCH:
        directory = tmp_path_factory.mktemp(f"doc-{page.removesuffix('.md')}")
        for name in ("examples", "fixtures", "policies", "docs"):
            (directory / name).symlink_to(ROOT / name)
        _SCRATCH[page] = directory
    return _SCRATCH[page]


@pytest.mark.parametrize("example", EXAMPLES, ids=[ex.id for ex in EXAMPLES])
def test_doc_example(example: DocExample, scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if example.needs is not None:
        pytest.skip(
            f"DOC EXAMPLE NOT RUN (needs {example.needs}): docs/{example.id}: {example.command}"
        )
    monkeypatch.chdir(scratch)
    monkeypatch.setenv("TEECLIENT_TRUST_LOG", str(scratch / "trust-log.jsonl"))
    args = shlex.split(example.command, comments=True)
    assert args[0] == "teeclient"
    result = CliRunner().invoke(app, args[1:], terminal_width=120)
    assert result.exit_code == example.exit_code, (
        f"docs/{example.id}: `{example.command}` exited {result.exit_code}, "
        f"expected {example.exit_code}\n{result.output[-2000:]}"
    )
