"""Formatting: rendered modules -> the text black makes of them, computed with less black work.

black is most of a cold build (decision 0019). Its cost is per token, and it formats twice
whenever its first pass changes the text (a second pass for stability); text already in its
layout costs one pass. So the renderer emits black's layout where black's choice is certain
(render.py: ``wrap_call``, ``FieldView.line``, ``ActionView.route``...; black still runs on it,
so a wrong guess costs time, never a byte), and these keep black's work down further without
changing a byte of its output:

1. **Pieces.** A module is cut before each top-level ``class``/``def``/decorator that follows
   at least one blank line (and no comment line). black formats such a piece alone exactly as
   it formats it inside the module: its blank-line rule puts exactly two empty lines before a
   top-level class or def that follows a statement (however many the input has, one or more),
   and nothing else in black's state crosses that point (the tracked definitions are popped
   at depth 0; the target versions are fixed by ``BLACK_MODE``, not detected from the file).
   So the module is its formatted pieces joined by two empty lines. Where that argument might
   not hold the module is one piece: ``# fmt:``/``# yapf:`` directives, form feeds, carriage
   returns. A cut that is not between statements (a line inside a string or brackets that
   looks like ``class``) leaves an unterminated string or bracket in the piece before it,
   which black refuses; the module is then formatted whole. tests/test_formatting.py compares
   whole-module black with the joined pieces.
2. **Each distinct piece once per build.** Some pieces repeat (within a version and between
   2.0.1 and 2.1: about 12% of them, 3% of the text); formatted pieces are kept in memory by
   their text. A piece is one pass when black leaves it unchanged, so a piece that is already
   black's text does not pay for the rest of its module (whole modules were two passes as soon
   as one line changed).
3. **Settled pieces.** The device-model and configuration tables are reviewed data of the
   generator, laid out as black lays them out (render_tables.layout); apart from their first
   piece (banner and imports, which name the package) they are the same text in every build,
   so their black-stability is proven once, by a test, and black does not see them.
4. **Kept across builds.** A module's formatted text is kept on disk by the hash of its input
   (``OCPPGEN_CACHE_DIR``), as before.

The pieces of all modules of a build are spread over worker processes (forked, so black is
already imported) while the caller goes on building the next version's IR.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import black

__all__ = ["BLACK_MODE", "Formatter", "format_all", "format_module", "pieces"]

BLACK_MODE = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=100)

# The last non-blank line before one or more blank lines and a top-level class/def/decorator.
_CUT = re.compile(r"^([^\n]*)\n(?:[ \t]*\n)+(?=class |def |async def |@)", re.MULTILINE)
# Text that makes black's output depend on more than one piece: formatting directives (black
# also honours yapf's), form feeds (kept as section breaks), other line endings.
_WHOLE = re.compile(r"fmt:|yapf:|[\f\r]")
# How much source one task carries to a worker: big enough that sending it costs little,
# small enough that two workers finish together.
_TASK_CHARS = 24_000


def pieces(source: str) -> list[str]:
    """``source`` cut where black formats each part alone as it does in place (see above);
    ``"\\n\\n".join`` of the formatted parts is the formatted module. The blank lines at a cut
    belong to no part: black would drop them at the end of a part, and a part black leaves
    unchanged is one pass (black formats a second time only when its first pass changed the
    text)."""
    if _WHOLE.search(source):
        return [source]
    out, start = [], 0
    for m in _CUT.finditer(source):
        last = m.group(1)
        if not last.strip() or last.lstrip().startswith("#"):
            continue  # nothing before it, or a comment black would keep with what follows
        out.append(source[start : m.end(1) + 1])  # without the blank lines: black drops them
        start = m.end()
    out.append(source[start:])
    return out


def _black(source: str) -> str | None:
    """black's text of ``source``, None if black cannot parse it."""
    try:
        formatted: str = black.format_str(source, mode=BLACK_MODE)
    except black.InvalidInput:
        return None
    return formatted


def _black_all(sources: list[str]) -> list[str | None]:
    return [_black(s) for s in sources]


def format_module(path: str, source: str) -> str:
    """``source`` as black formats it, whole (no pieces, no cache)."""
    try:
        formatted: str = black.format_str(source, mode=BLACK_MODE)
    except black.InvalidInput as exc:  # a template bug, never a user error
        raise RuntimeError(f"generated {path} is not valid Python: {exc}") from exc
    return formatted


def _cache_dir() -> Path | None:
    """Where formatted modules are kept, keyed by their unformatted text (None: no cache).
    ``OCPPGEN_CACHE_DIR`` names the folder; ``OCPPGEN_CACHE_DIR=`` (empty) turns it off."""
    configured = os.environ.get("OCPPGEN_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ocppgen" / "black"


def _key(source: str) -> str:
    return hashlib.sha256(f"{black.__version__}\0{BLACK_MODE!r}\0{source}".encode()).hexdigest()


def _cached(folder: Path | None, source: str) -> str | None:
    if folder is None:
        return None
    try:
        return (folder / f"{_key(source)}.py").read_text(encoding="utf-8")
    except OSError:
        return None


def _keep(folder: Path | None, source: str, formatted: str) -> None:
    if folder is None:
        return
    key = _key(source)
    cached = folder / f"{key}.py"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{key}.{os.getpid()}.tmp")
        partial.write_text(formatted, encoding="utf-8")
        partial.replace(cached)  # atomic: a reader never sees half a file
    except OSError:
        pass  # a read-only home: no cache, same output


def format_all(sources: dict[str, str]) -> dict[str, str]:
    """Every module of ``sources`` (path -> text) as black formats it."""
    with Formatter() as formatter:
        return formatter.submit(sources)()


class Formatter:
    """Formats modules (path -> text) as black does, in worker processes while the caller goes
    on when the machine has more than one core. The output is the same either way.
    ``OCPPGEN_JOBS`` caps the workers (1: format in this process)."""

    def __init__(self) -> None:
        self.jobs = int(os.environ.get("OCPPGEN_JOBS") or os.cpu_count() or 1)
        self._pool: Any = None
        self._folder = _cache_dir()
        # piece text -> its formatted text (str), None (black refused it) or a pending task
        self._done: dict[str, str | None] = {}
        self._running: dict[str, tuple[Any, int]] = {}

    def __enter__(self) -> Formatter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()

    def submit(self, sources: dict[str, str], settled: Collection[str] = ()) -> Callable[[], dict[str, str]]:
        """Start formatting ``sources``; the returned function waits for the formatted modules.

        ``settled``: paths of modules whose pieces after the first are already black's text
        whatever the build's inputs (the device-model tables: reviewed data laid out as black
        does, the package name only in their first piece; tests/test_formatting.py proves
        both for every version), so black is not run on them."""
        ready: dict[str, str] = {}
        plans: dict[str, list[str]] = {}
        for path, source in sources.items():
            hit = _cached(self._folder, source)
            if hit is not None:
                ready[path] = hit
                continue
            plans[path] = pieces(source)
            if path in settled:
                for piece in plans[path][1:]:
                    self._done.setdefault(piece, piece.rstrip("\n") + "\n")
        todo = list(dict.fromkeys(p for parts in plans.values() for p in parts if p not in self._done and p not in self._running))
        self._start(todo)

        def wait() -> dict[str, str]:
            out = {}
            for path, source in sources.items():
                if path in ready:
                    out[path] = ready[path]
                    continue
                parts = [self._result(p) for p in plans[path]]
                if any(p is None for p in parts):
                    formatted = format_module(path, source)  # a cut black refused: whole
                else:
                    formatted = "\n\n".join(parts)  # type: ignore[arg-type]
                _keep(self._folder, source, formatted)
                out[path] = formatted
            return out

        return wait

    def _start(self, todo: list[str]) -> None:
        if self.jobs < 2 or len(todo) < 2 or "fork" not in multiprocessing.get_all_start_methods():
            for piece in todo:
                self._done[piece] = _black(piece)
            return
        if self._pool is None:  # started when first needed; fork: black is already imported
            self._pool = multiprocessing.get_context("fork").Pool(self.jobs)
        # biggest first, so the last tasks to finish are small ones
        batch: list[str] = []
        size = 0
        for piece in sorted(todo, key=len, reverse=True):
            batch.append(piece)
            size += len(piece)
            if size >= _TASK_CHARS:
                self._send(batch)
                batch, size = [], 0
        if batch:
            self._send(batch)

    def _send(self, batch: list[str]) -> None:
        task = self._pool.apply_async(_black_all, (batch,))
        for i, piece in enumerate(batch):
            self._running[piece] = (task, i)

    def _result(self, piece: str) -> str | None:
        if piece not in self._done:
            task, i = self._running.pop(piece)
            self._done[piece] = task.get()[i]
        return self._done[piece]
