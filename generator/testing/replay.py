"""Record frame logs and replay them against your side as regression tests.

The runtime logs every frame on the logger ``ocppgen.frames`` when ``Options.log_frames`` is
on, one line per frame: ``<identity> <direction> <frame>`` (``<`` received, ``>`` sent, from the
logging side's point of view; secrets redacted to ``"***"``). A ``Pair`` writes the same lines
(``Pair.save``). ``replay`` plays such a log against your side in a pair: the frames your side
received are sent to it again, the frames it sent are expected from it, compared as JSON.

    with record_frames("boot.log"):             # or: pair.save("boot.log")
        ...                                     # production-like traffic with log_frames=True
    async with csms_pair(v201.csms.BINDING, MyCsms()) as pair:
        await replay(pair, "boot.log")          # raises ReplayMismatch on the first difference
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from .memory import Frame

__all__ = ["FrameRecorder", "ReplayMismatch", "parse_frame_log", "record_frames", "replay"]

FRAME_LOGGER = "ocppgen.frames"
_LINE = re.compile(r"(?P<identity>\S(?:.*?\S)?) (?P<direction>[<>]) (?P<frame>\[.*\])\s*$")
_REDACTED = "***"


class ReplayMismatch(AssertionError):
    """Your side did not send what the log recorded."""


class FrameRecorder(logging.Handler):
    """Collects the runtime's frame log lines (``lines``), optionally appending them to a file."""

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.path = Path(path) if path is not None else None

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        self.lines.append(line)
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line + "\n")


@contextlib.contextmanager
def record_frames(path: str | Path | None = None) -> Iterator[FrameRecorder]:
    """Record the frame log (of every connection whose options have ``log_frames=True``)
    while the block runs."""
    logger = logging.getLogger(FRAME_LOGGER)
    recorder = FrameRecorder(path)
    level = logger.level
    logger.addHandler(recorder)
    if logger.getEffectiveLevel() > logging.DEBUG:
        logger.setLevel(logging.DEBUG)
    try:
        yield recorder
    finally:
        logger.removeHandler(recorder)
        logger.setLevel(level)


def parse_frame_log(source: str | Path | Iterable[str], identity: str | None = None) -> list[tuple[str, str, str]]:
    """(identity, direction, frame) of every frame line of ``source`` (a path, or lines);
    other lines are skipped. With ``identity``, only that station's frames, found anywhere in
    the line (so a formatter's prefix does not matter)."""
    if isinstance(source, (str, Path)):
        source = Path(source).read_text(encoding="utf-8").splitlines()
    found = []
    for line in source:
        if identity is not None:
            for direction in "<>":
                marker = f"{identity} {direction} ["
                at = line.find(marker)
                if at >= 0:
                    found.append((identity, direction, line[at + len(marker) - 1:].rstrip()))
                    break
            continue
        match = _LINE.search(line)
        if match is not None:
            found.append((match["identity"], match["direction"], match["frame"]))
    return found


async def replay(
    pair: Any,
    source: str | Path | Iterable[str],
    *,
    identity: str | None = None,
    ignore: Iterable[str] = (),
    own_calls: Literal["expect", "skip"] = "expect",
    timeout: float | None = None,
) -> int:
    """Replay a frame log against your side of ``pair`` (whose point of view the log has):
    every ``<`` frame is sent to your side, every ``>`` frame must be what your side sends
    next. Returns the number of frames compared.

    Compared: the message type; a CALL's or SEND's action and payload; a reply's message id
    and payload, or a CALLERROR's error code. Message ids of CALLs your side sends are new in
    every run: the log's ids are mapped to the live ones, and the replies in the log are sent
    with the live ids. Property names in ``ignore`` are skipped anywhere in a payload; two
    RFC 3339 date-times always match (clocks move), and so does a redacted ``"***"``.
    ``own_calls="skip"`` leaves out the CALLs your side sends on its own (application code,
    not handlers: a station's BootNotification), in the log and live, and the replies to
    them; live ones stay unanswered."""
    identity = identity or pair.identity
    frames = parse_frame_log(source, identity if identity is not None else None)
    if not frames:
        raise ValueError("no frames of that station in the log")
    skipped = set(ignore)
    ids: dict[str, str] = {}
    dropped: set[str] = set()
    compared = 0
    was = pair.intercept
    pair.intercept = True
    try:
        for number, (_, direction, text) in enumerate(frames, 1):
            recorded = json.loads(text)
            kind = recorded[0] if isinstance(recorded, list) and recorded else None
            if direction == "<":
                if kind in (3, 4, 5) and isinstance(recorded[1], str):
                    if recorded[1] in dropped:
                        continue
                    recorded[1] = ids.get(recorded[1], recorded[1])
                await pair.send_frame(recorded)
                continue
            if own_calls == "skip" and kind in (2, 6):
                dropped.add(recorded[1])
                continue
            live = await pair.next_frame(timeout=timeout)
            while own_calls == "skip" and live.type in (2, 6):  # left unanswered, as in the log
                live = await pair.next_frame(timeout=timeout)
            _compare(number, recorded, live, ids, skipped)
            compared += 1
    finally:
        pair.intercept = was
    return compared


def _compare(number: int, recorded: Any, live: Frame, ids: dict[str, str], ignore: set[str]) -> None:
    got = live.message
    where = f"frame {number} of the log"
    if not isinstance(got, list) or not got or got[0] != recorded[0]:
        raise ReplayMismatch(f"{where}: expected {json.dumps(recorded)}, your side sent {live.text}")
    kind = recorded[0]
    if kind in (2, 6):
        if got[2] != recorded[2]:
            raise ReplayMismatch(f"{where}: expected a {recorded[2]} {'CALL' if kind == 2 else 'SEND'}, got {live.text}")
        ids[recorded[1]] = got[1]
        _same(where, recorded[3], got[3], ignore, "$")
    elif kind == 3:
        _same_id(where, recorded, got, live)
        _same(where, recorded[2], got[2], ignore, "$")
    elif kind in (4, 5):
        _same_id(where, recorded, got, live)
        if got[2] != recorded[2]:
            raise ReplayMismatch(f"{where}: expected error code {recorded[2]}, your side answered {live.text}")


def _same_id(where: str, recorded: Any, got: Any, live: Frame) -> None:
    if got[1] != recorded[1]:
        raise ReplayMismatch(f"{where}: expected an answer to {recorded[1]!r}, your side sent {live.text}")


def _same(where: str, want: Any, got: Any, ignore: set[str], path: str) -> None:
    if want == _REDACTED or want == got:
        return
    if isinstance(want, dict) and isinstance(got, dict):
        for key in (want.keys() | got.keys()) - ignore:
            if key not in want or key not in got:
                raise ReplayMismatch(f"{where}: {path}.{key} {'missing' if key in want else 'not expected'}")
            _same(where, want[key], got[key], ignore, f"{path}.{key}")
        return
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        for i, (w, g) in enumerate(zip(want, got)):
            _same(where, w, g, ignore, f"{path}[{i}]")
        return
    if isinstance(want, str) and isinstance(got, str) and _is_datetime(want) and _is_datetime(got):
        return
    raise ReplayMismatch(f"{where}: {path} is {json.dumps(got)}, the log has {json.dumps(want)}")


def _is_datetime(text: str) -> bool:
    if len(text) < 20 or text[4] != "-" or text[10] not in "Tt":
        return False
    try:
        datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
