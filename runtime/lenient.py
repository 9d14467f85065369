"""The lenient inbound profile: accept what real-world chargers get wrong, and say so.

Strict decoding is always tried first. Only when it fails does the lenient profile parse the
payload untyped and repair it, one validation error at a time, for these kinds only:

    extra_field               a property the schema does not declare: removed (value in the event)
    unknown_enum_value        a value outside the enum (e.g. the 1.6 unit "Hertz"): kept, as a
                              plain ``str`` in the enum-typed field, so no data is lost
    string_too_long           a string over maxLength: kept whole
    timestamp_without_offset  a date-time without offset: read as UTC

Every repair is reported as one :class:`Tolerated` value. Any other violation (a missing
required field, a wrong JSON type, ...) is not tolerated: the message is rejected as in strict
mode. Validation is never skipped: the repaired payload passes the strict decoder.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from msgspec import inspect as mi

from .payload import PayloadCodec

__all__ = ["Tolerated", "decode_lenient", "parse_path"]

MAX_REPAIRS = 64


class Tolerated(msgspec.Struct, frozen=True):
    """One violation the lenient profile accepted: its ``kind`` (``extra_field``, ...), the
    JSON ``path`` where it was (``$.meterValue[0].sampledValue[0].unit``) and ``detail``, what
    it was."""

    kind: str
    path: str
    detail: str


_PATH_TOKEN = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[\"((?:[^\"\\]|\\.)*)\"\]")


def parse_path(path: str) -> list[str | int] | None:
    """The keys of a msgspec error path: ``$.a[0].b`` -> ["a", 0, "b"] (None when it is not one).

    Args:
        path: The path as msgspec's ValidationError spells it.
    """
    if not path.startswith("$"):
        return None
    out: list[str | int] = []
    pos = 1
    while pos < len(path):
        m = _PATH_TOKEN.match(path, pos)
        if m is None:
            return None
        out.append(m.group(1) if m.group(1) is not None else int(m.group(2)) if m.group(2) is not None else m.group(3))
        pos = m.end()
    return out


def _split(message: str) -> tuple[str, str]:
    head, sep, path = message.rpartition(" - at `")
    return (head, path.rstrip("`")) if sep else (message, "$")


def _get(obj: Any, path: list[str | int]) -> Any:
    for key in path:
        obj = obj[key]
    return obj


def _type_at(t: mi.Type, path: list[str | int]) -> mi.Type | None:
    for key in path:
        while isinstance(t, mi.UnionType):
            t = next((m for m in t.types if not isinstance(m, mi.NoneType)), t.types[0])
        if isinstance(t, mi.StructType) and isinstance(key, str):
            found = next((f.type for f in t.fields if f.encode_name == key), None)
            if found is None:
                return None
            t = found
        elif isinstance(t, (mi.ListType, mi.VarTupleType)) and isinstance(key, int):
            t = t.item_type
        else:
            return None
    return t


def _set_on_object(obj: Any, path: list[str | int], value: Any) -> None:
    """Put ``value`` at a wire path of a decoded struct (no validation, by design)."""
    for key in path[:-1]:
        obj = obj[key] if isinstance(key, int) else getattr(obj, _attr(obj, key))
    last = path[-1]
    if isinstance(last, int):
        obj[last] = value
    else:
        setattr(obj, _attr(obj, last), value)


def _attr(struct: Any, wire: str) -> str:
    for f in msgspec.structs.fields(struct):
        if f.encode_name == wire:
            return f.name
    raise KeyError(wire)


def decode_lenient(codec: PayloadCodec[Any], data: bytes | str, first_error: msgspec.ValidationError) -> tuple[Any, list[Tolerated]]:
    """Repair and decode ``data`` with ``codec`` after the strict decode raised ``first_error``.

    Returns the typed payload and one Tolerated per repair; re-raises the validation error of a
    violation the profile does not tolerate.
    """
    obj = msgspec.json.decode(data)
    info = mi.type_info(codec.type)
    tolerated: list[Tolerated] = []
    restore: list[tuple[list[str | int], Any]] = []
    error = first_error
    for _ in range(MAX_REPAIRS):
        head, where = _split(str(error))
        path = parse_path(where)
        if path is None:
            raise error
        try:
            target = _get(obj, path)
        except (KeyError, IndexError, TypeError):
            raise error from None
        m = re.fullmatch(r"Object contains unknown field `(.*)`", head, re.S)
        if m and isinstance(target, dict) and m.group(1) in target:
            value = target.pop(m.group(1))
            tolerated.append(Tolerated("extra_field", f"{where}.{m.group(1)}", msgspec.json.encode(value).decode()[:200]))
        elif head.startswith("Invalid enum value") and isinstance(target, str):
            t = _type_at(info, path)
            if not isinstance(t, mi.EnumType):
                raise error
            restore.append((path, target))
            _replace(obj, path, next(iter(t.cls)).value)
            tolerated.append(Tolerated("unknown_enum_value", where, target))
        elif re.match(r"Expected `str` of length <= \d+$", head) and isinstance(target, str):
            t = _type_at(info, path)
            limit = getattr(t, "max_length", None)
            if limit is None:
                raise error
            restore.append((path, target))
            _replace(obj, path, target[:limit])
            tolerated.append(Tolerated("string_too_long", where, f"{len(target)} characters, limit {limit}"))
        elif head == "Expected `datetime` with a timezone component" and isinstance(target, str):
            _replace(obj, path, target + "Z")
            tolerated.append(Tolerated("timestamp_without_offset", where, f"{target!r} read as UTC"))
        else:
            raise error
        try:
            result = codec.decode(msgspec.json.encode(obj))
        except msgspec.ValidationError as exc:
            error = exc
            continue
        for where_path, original in restore:
            _set_on_object(result, where_path, original)
        return result, tolerated
    raise error


def _replace(obj: Any, path: list[str | int], value: Any) -> None:
    parent = _get(obj, path[:-1])
    parent[path[-1]] = value
