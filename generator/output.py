"""Writing and drift checking: the only stage besides loading that touches the filesystem."""

from __future__ import annotations

from pathlib import Path

from .diagnostics import BuildError, Diagnostic

__all__ = ["check", "write"]

# Folders of the output that ocppgen owns entirely (besides the version folders built).
OWNED = ("runtime",)


def _owned_files(out: Path, folders: list[str]) -> set[str]:
    found = set()
    for folder in [*folders, *OWNED]:
        root = out / folder
        if root.is_dir():
            for p in root.rglob("*"):
                if p.is_file() and "__pycache__" not in p.parts:
                    found.add(p.relative_to(out).as_posix())
    return found


def check(out: Path, files: dict[str, str], folders: list[str]) -> list[str]:
    """What differs between ``out`` and the expected files: one line per problem, none if clean."""
    problems = []
    for rel, content in files.items():
        path = out / rel
        if not path.is_file():
            problems.append(f"missing: {rel}")
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            problems.append(f"unreadable: {rel} ({exc.strerror})")
            continue
        if data != content.encode("utf-8"):
            problems.append(f"stale: {rel}")
    for rel in sorted(_owned_files(out, folders) - set(files)):
        problems.append(f"unexpected: {rel}")
    return problems


def write(out: Path, files: dict[str, str], folders: list[str]) -> list[str]:
    """Write what changed (LF endings, UTF-8), remove files ocppgen no longer generates.

    A filesystem error stops the writer with a BuildError naming the path and the reason (and
    how many files it had changed before).
    """
    changed: list[str] = []
    path = out
    try:
        out.mkdir(parents=True, exist_ok=True)
        for rel, content in files.items():
            path = out / rel
            data = content.encode("utf-8")
            if path.is_file() and path.read_bytes() == data:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            changed.append(rel)
        for rel in sorted(_owned_files(out, folders) - set(files)):
            path = out / rel
            path.unlink()
            changed.append(f"removed {rel}")
    except OSError as exc:
        where = exc.filename if exc.filename is not None else path
        done = f" ({len(changed)} file(s) changed before)" if changed else " (nothing written)"
        raise BuildError([Diagnostic(level="error", file=str(where), message=f"cannot write: {exc.strerror}{done}")]) from None
    return changed
