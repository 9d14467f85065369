"""Read a captured OCPP-J exchange: raw frames, JSON Lines records, or the runtime's frame logs.

Three input formats, told apart per file (``detect``) or named (``--input``):

``frames``  one frame per line, as sent on the WebSocket (``[2,"19223201","Heartbeat",{}]``);
            blank lines and lines starting with ``#`` are skipped. Who sent a frame is not known
            (it is worked out from the action where only one side may send it, and for replies
            from the CALL they answer).
``jsonl``   one JSON object per line: ``{"frame": ..., "direction": ..., "station": ...}``.
            ``frame`` is the frame's text (a JSON string) or the frame itself (an array).
            ``direction`` (optional) says who sent it, either absolutely -- ``"station"``
            (aliases ``charging_station``, ``charge_point``, ``cp``) or ``"csms"`` (aliases
            ``central_system``, ``server``) -- or relative to the side that captured it:
            ``"in"`` (``received``, ``"<"``) or ``"out"`` (``sent``, ``">"``), as in a frame log.
            ``station`` (optional; also ``station_id``, ``identity``) is the station's identity.
``log``     the runtime's frame log (logger ``ocppgen.frames``, ``Options.log_frames``): lines
            ``<station id> <'<'|'>'> <frame>``, ``<`` received and ``>`` sent by the side that
            wrote the log, with secrets redacted to ``"***"``. Any prefix a logging formatter
            adds (time, level, logger name) is skipped: the station id is the last whitespace-
            free word before the direction. A JSON log line whose ``message`` (or ``msg``) is
            such a line is read too. Other lines are skipped. On a line that names the logger
            ``ocppgen.frames``, the frame may be any text (what a broken peer sent); elsewhere
            it must start with ``[``. The frame log of the ``ocpp`` Python package (logger
            ``ocpp``: ``<id>: receive message <frame>``, ``<id>: send <frame>``) is read too.

Relative directions (log lines, ``in``/``out`` records) become senders once the side that wrote
the capture is known: given (``--logged-by``), or inferred from the CALLs whose action only one
side may send (a received BootNotification means the CSMS wrote it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Capture", "CaptureError", "InputFormat", "Record", "Sender", "detect", "other", "read_capture"]

InputFormat = Literal["frames", "jsonl", "log"]
Sender = Literal["station", "csms"]
Relative = Literal["in", "out"]

_LOG_LINE = re.compile(r"(?:^|\s)(?P<station>[^\s\[\]]+) (?P<direction>[<>]) (?P<frame>\[.*?)\s*$")
# on a line that names the frame logger, the frame may be anything the peer sent (not JSON)
_FRAMES_LOGGER = "ocppgen.frames"
# the frame log of the incumbent Python library (logger "ocpp"): "<id>: receive message <frame>",
# "<id>: send <frame>"
_INCUMBENT_LINE = re.compile(r"(?:^|\s)(?P<station>[^\s\[\]]+): (?P<direction>receive message|send) (?P<frame>\[.*?)\s*$")
_ANY_FRAME = re.compile(r"(?:^|\s)(?P<station>[^\s\[\]]+) (?P<direction>[<>]) (?P<frame>\S.*?)\s*$")
_SENDERS: dict[str, Sender] = {
    "station": "station", "chargingstation": "station", "chargepoint": "station", "cp": "station",
    "csms": "csms", "centralsystem": "csms", "server": "csms",
}
_RELATIVE: dict[str, Relative] = {"in": "in", "received": "in", "<": "in", "out": "out", "sent": "out", ">": "out"}
_STATION_KEYS = ("station", "station_id", "identity")


class CaptureError(Exception):
    """The capture cannot be read at all (exit 2): not text, no frames, unknown format."""


@dataclass
class Record:
    """One frame of the capture: where it is (1-based line), its text, the station it belongs
    to (None: not named), and who sent it (``sender``), or only which way it went relative to
    the capturing side (``relative``) until that side is known."""

    line: int
    text: str
    station: str | None = None
    sender: Sender | None = None
    relative: Relative | None = None


@dataclass
class Capture:
    """The frames of one capture, its format, the side that wrote it (when known), and notes
    about lines that were skipped (jsonl records that could not be read)."""

    records: list[Record]
    input_format: InputFormat
    logged_by: Sender | None
    skipped: list[tuple[int, str]]


def other(sender: Sender) -> Sender:
    """The other side of the link."""
    return "csms" if sender == "station" else "station"


def _text(data: bytes) -> str:
    if b"\x00" in data:
        raise CaptureError("not a text file (it contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaptureError(f"not UTF-8 text (byte {exc.start}): OCPP-J frames are UTF-8 JSON (Part 4 section 4.1.2)") from None
    if not text.strip():
        raise CaptureError("the capture is empty")
    return text


def _log_match(line: str) -> tuple[str, str, str] | None:
    """(station, direction, frame) of a frame-log line, else None."""
    if line.lstrip().startswith("{"):
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            return None
        message = obj.get("message", obj.get("msg")) if isinstance(obj, dict) else None
        if not isinstance(message, str):
            return None
        line = message
    m = _LOG_LINE.search(line)
    if m is None and _FRAMES_LOGGER in line:
        m = _ANY_FRAME.search(line, line.index(_FRAMES_LOGGER) + len(_FRAMES_LOGGER))
    if m is None:
        m = _INCUMBENT_LINE.search(line)
        if m is None:
            return None
        return m["station"], "<" if m["direction"] == "receive message" else ">", m["frame"]
    return m["station"], m["direction"], m["frame"]


def _jsonl_object(line: str) -> dict[str, object] | None:
    if not line.lstrip().startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) and "frame" in obj else None


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def detect(lines: Sequence[str]) -> InputFormat | None:
    """The format most lines of the capture are in (None: none of them)."""
    counts: dict[InputFormat, int] = {"jsonl": 0, "frames": 0, "log": 0}
    for line in lines[:20000]:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if _jsonl_object(stripped) is not None:
            counts["jsonl"] += 1
        elif stripped.startswith("[") and (_is_json(stripped) or _log_match(stripped) is None):
            counts["frames"] += 1  # a frame (or what is left of one); "[time] ... CP1 < [...]" is a log line
        elif _log_match(stripped) is not None:
            counts["log"] += 1
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else None


def _direction(value: object) -> Sender | Relative | None | Literal[False]:
    """A record's direction: a sender, a relative direction, None (absent), False (unreadable)."""
    if value is None:
        return None
    if not isinstance(value, str):
        return False
    key = re.sub(r"[\s_\-]", "", value.strip().lower())
    if key in _SENDERS:
        return _SENDERS[key]
    return _RELATIVE.get(value.strip().lower(), False)


def _read_jsonl(lines: Iterable[tuple[int, str]], skipped: list[tuple[int, str]]) -> list[Record]:
    records = []
    for number, line in lines:
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:
            skipped.append((number, f"not a JSON object: {exc}"))
            continue
        if not isinstance(obj, dict) or "frame" not in obj:
            skipped.append((number, 'not a record: a JSON object with a "frame" is expected'))
            continue
        frame = obj["frame"]
        text = frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False)
        station = next((obj[k] for k in _STATION_KEYS if isinstance(obj.get(k), str)), None)
        record = Record(number, text, station if isinstance(station, str) else None)
        direction = _direction(obj.get("direction"))
        if direction is False:
            skipped.append((number, f"direction {obj.get('direction')!r} is not one of station, csms, in, out: sender unknown"))
        elif direction in ("station", "csms"):
            record.sender = direction
        elif direction in ("in", "out"):
            record.relative = direction
        records.append(record)
    return records


def read_capture(data: bytes, input_format: InputFormat | None = None) -> Capture:
    """Read a capture (bytes of the whole file). Raises CaptureError when it cannot be read."""
    text = _text(data)
    lines = text.splitlines()
    chosen = input_format or detect(lines)
    if chosen is None:
        raise CaptureError(
            "no line is a frame, a JSON Lines record with a \"frame\" or a frame-log line "
            "(give --input frames|jsonl|log to say which it is)"
        )
    numbered = [(i, line.strip()) for i, line in enumerate(lines, 1)]
    content = [(i, line) for i, line in numbered if line and not line.startswith("#")]
    skipped: list[tuple[int, str]] = []
    if chosen == "frames":
        records = [Record(i, line) for i, line in content]
    elif chosen == "jsonl":
        records = _read_jsonl(content, skipped)
    else:
        records = []
        for i, line in content:
            found = _log_match(line)
            if found is not None:
                station, arrow, frame = found
                records.append(Record(i, frame, station, relative="in" if arrow == "<" else "out"))
    if not records:
        raise CaptureError(f"no frames found (read as {chosen})")
    return Capture(records, chosen, None, skipped)
