"""The console entry point dispatches top-level commands to a one-command app (fast start-up);
it must behave exactly like the full app: same help, same errors, same results."""

from __future__ import annotations

import pytest

from teeclient import cli

_BUNDLE = "examples/ci/bundles/sev-snp-genoa.bundle.json"


def _leaf_names() -> list[str]:
    names = []
    for info in cli.app.registered_commands:
        assert info.callback is not None
        names.append(info.name or info.callback.__name__.replace("_", "-"))
    return names


def _run(entry: str, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    import sys

    old = sys.argv
    sys.argv = ["teeclient", *argv]
    code = 0
    try:
        if entry == "main":
            cli.main()
        else:
            cli.app(prog_name="teeclient")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = old
    out, err = capsys.readouterr()
    return code, out, err


def test_every_top_level_command_takes_the_fast_path() -> None:
    names = _leaf_names()
    assert {"verify", "fetch", "inspect", "version"} <= set(names)
    for name in names:
        assert cli._leaf_command(name) is not None
    assert cli._leaf_command("policy") is None  # groups use the full app
    assert cli._leaf_command("no-such-command") is None


@pytest.mark.parametrize("name", _leaf_names())
def test_help_is_identical(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("main", [name, "--help"], capsys) == _run("app", [name, "--help"], capsys)


@pytest.mark.parametrize(
    "argv",
    [
        ["verify"],
        ["verify", "--no-such-option", _BUNDLE],
        ["verify", _BUNDLE, "--offline"],
        ["verify", _BUNDLE, "--offline", "--json"],
        ["verify", "does-not-exist.bin", "--offline"],
        ["inspect", "fixtures/real/sev-snp/genoa-v5-oak/report.bin"],
        ["version"],
    ],
)
def test_results_are_identical(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    fast = _run("main", argv, capsys)
    full = _run("app", argv, capsys)
    assert fast == full
    if argv == ["verify", _BUNDLE, "--offline"]:
        assert fast[0] == 0 and "ACCEPTED" in fast[1]


def test_groups_and_unknown_commands_use_the_full_app(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("main", ["policy", "--help"], capsys) == _run("app", ["policy", "--help"], capsys)
    code, _, err = _run("main", ["frobnicate"], capsys)
    assert code == 2 and "No such command" in err
