"""Read data files shipped inside teeclient's packages (trust roots, built-in policies)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["package_data"]


def package_data(package: str, module_file: str, *parts: str) -> bytes:
    """The bytes of ``parts`` under ``package`` (whose module file is ``module_file``).

    A normal install has the files next to the module, read directly; other loaders (zip
    imports) go through ``importlib.resources``, imported only then (it pulls in ``zipfile``,
    a measurable share of the CLI's start-up).
    """
    path = Path(module_file).parent.joinpath(*parts)
    if path.is_file():
        return path.read_bytes()
    from importlib import resources

    return resources.files(package).joinpath(*parts).read_bytes()
