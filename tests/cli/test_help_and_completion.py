"""`--help` reads well: every command has a runnable example; shell completion works."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from teeclient.cli import app
from teeclient.cli.examples import EXAMPLES, command_paths

runner = CliRunner()


def _commands() -> list[str]:
    return [path for path, _ in command_paths(app)]


def test_every_command_has_an_example() -> None:
    missing = [path for path in _commands() if path not in EXAMPLES]
    assert not missing, f"add examples to src/teeclient/cli/examples.py for: {missing}"
    stale = sorted(set(EXAMPLES) - set(_commands()))
    assert not stale, f"examples for unknown commands: {stale}"
    for path, examples in EXAMPLES.items():
        for example in examples:
            assert example.line.startswith(f"teeclient {path}"), example.line


@pytest.mark.parametrize("path", sorted(EXAMPLES))
def test_help_shows_the_example(path: str) -> None:
    result = runner.invoke(app, [*path.split(), "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "Example" in text
    first = " ".join(EXAMPLES[path][0].line.split())
    assert first in text


def test_root_help_lists_commands_in_one_line_each() -> None:
    result = runner.invoke(app, ["--help"], terminal_width=120)
    assert result.exit_code == 0
    for name in ("verify", "policy", "token", "log", "completion"):
        assert name in result.stdout
    assert "--install-completion" in result.stdout
    assert "--show-completion" in result.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "powershell"])
def test_completion_scripts(shell: str) -> None:
    result = runner.invoke(app, ["completion", shell])
    assert result.exit_code == 0
    assert "_TEECLIENT_COMPLETE" in result.stdout


def test_completion_unknown_shell() -> None:
    assert runner.invoke(app, ["completion", "tcsh"]).exit_code == 2


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("teeclient pol", "1", {"policy"}),
        ("teeclient policy t", "2", {"test"}),
        ("teeclient token ", "2", {"verify"}),
    ],
)
def test_bash_completion_completes_commands(words: str, cword: str, expected: set[str]) -> None:
    result = runner.invoke(
        app,
        [],
        prog_name="teeclient",
        env={"_TEECLIENT_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": cword},
    )
    assert result.exit_code == 0
    assert set(result.stdout.split()) == expected
