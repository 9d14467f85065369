"""Build problems as values: collected, then printed once by the CLI."""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["BuildError", "Diagnostic"]


class Diagnostic(msgspec.Struct, frozen=True, kw_only=True):
    """One problem, with where it is: a file and, inside JSON files, a JSON pointer."""

    level: Literal["error", "warning"]
    message: str
    file: str | None = None
    pointer: str | None = None

    def __str__(self) -> str:
        where = self.file or ""
        if self.pointer is not None:
            where += f"#{self.pointer}"
        return f"{self.level}: {where}: {self.message}" if where else f"{self.level}: {self.message}"


class BuildError(Exception):
    """A stage found errors; ``diagnostics`` lists every one of them."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n".join(str(d) for d in diagnostics))
