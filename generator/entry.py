"""The ``ocppgen`` command's entry point, importable without the generator's dependencies.

``pip install ocppgen`` installs the runtime's dependencies only (msgspec, websockets); the
generator needs ``ocppgen[generator]`` (jinja2, click, and black at the exact version whose
output is committed). Without them the command says what to install instead of a traceback.
This module uses the standard library only.
"""

from __future__ import annotations

import sys
from importlib import metadata

__all__ = ["BLACK_VERSION", "missing_generator_requirements", "main"]

# The one black release whose formatting the committed output has (pyproject.toml pins the same).
BLACK_VERSION = "26.10.1"
_NEEDED = {"jinja2": None, "click": None, "black": BLACK_VERSION}


def missing_generator_requirements() -> list[str]:
    """What this environment lacks to run the generator: one entry per distribution."""
    problems = []
    for name, pinned in _NEEDED.items():
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name}=={pinned} (not installed)" if pinned else f"{name} (not installed)")
            continue
        if pinned is not None and found != pinned:
            problems.append(f"{name}=={pinned} (found {name} {found})")
    return problems


def main() -> None:
    problems = missing_generator_requirements()
    if problems:
        sys.stderr.write(
            f"error: the ocppgen command needs the generator's dependencies; missing: {', '.join(problems)}.\n"
            "Install them with:  pip install 'ocppgen[generator]'   (in an ocppgen checkout: pip install -e '.[generator]')\n"
            "(The generated package and its runtime need only msgspec and websockets. The generator pins\n"
            "black exactly, because generated files are compared byte for byte: if your project pins\n"
            "another black, run the generator from a virtual environment of its own, e.g.\n"
            "pipx install 'ocppgen[generator]'.)\n"
        )
        sys.exit(1)
    from .cli import main as cli_main

    cli_main()
