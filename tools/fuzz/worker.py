"""One libFuzzer process for one target: ``python -m tools.fuzz.worker TARGET [libFuzzer args]``.

Only teeclient's own modules are instrumented (coverage feedback); a ``TeeclientError`` from
any entry point is the expected outcome, anything else escapes and atheris reports a crash.
"""

from __future__ import annotations

import sys
import warnings

import atheris


def main() -> None:
    """Set up atheris for the target named in argv[1] and fuzz until libFuzzer stops."""
    name = sys.argv[1]
    warnings.simplefilter("ignore")  # cryptography warns on odd names; not a finding
    with atheris.instrument_imports(include=["teeclient"]):
        from teeclient.errors import TeeclientError
        from tools.fuzz.targets import target

    entries = target(name).entries

    def one_input(data: bytes) -> None:
        for entry in entries:
            try:  # noqa: SIM105 - cheaper than contextlib.suppress per execution
                entry(data)
            except TeeclientError:
                pass

    atheris.Setup([sys.argv[0], *sys.argv[2:]], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
