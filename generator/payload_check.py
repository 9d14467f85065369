"""Check one payload against its generated type and find every violation, not only the first.

msgspec stops at the first violation. To report them all, each one found is repaired in an
untyped copy of the payload and the decode is tried again (at most ``MAX_ISSUES`` times), the
way the runtime's lenient profile (``runtime/lenient.py``) repairs what it tolerates:

- what lenient mode tolerates (extra_field, unknown_enum_value, string_too_long,
  timestamp_without_offset, and the RFC 3339 spellings of ``runtime/wire.py``, datetime_syntax)
  is repaired as lenient mode repairs it, and the issue says so (``lenient``);
- a value the runtime's frame log redacted (``"***"`` where ``routing.REDACTION`` blanks a
  secret) is recognised: counted, never an issue;
- any other violation is an issue; the value is replaced by a made-up valid one (or a missing
  required field added) so the rest of the payload is checked too. When no valid value can be
  made up (a string ``pattern``), checking that payload stops there.

The decoders are the generated ones, strict (``PayloadCodec.decode``, which applies the
draft-06 integer rule); paths are msgspec's (``$.field[0].sub``, wire names).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import msgspec
from msgspec import inspect as mi

from .generated.runtime import wire
from .generated.runtime.lenient import parse_path
from .generated.runtime.payload import OpenObject, PayloadCodec
from .generated.runtime.security import REDACTED, Redaction

__all__ = ["MAX_ISSUES", "PayloadIssue", "PayloadResult", "check_payload"]

MAX_ISSUES = 64
_MISSING = re.compile(r"Object missing required field `(.*)`", re.S)
_UNKNOWN = re.compile(r"Object contains unknown field `(.*)`", re.S)
_TOO_LONG = re.compile(r"Expected `str` of length <= \d+")
_WITHIN = re.compile(r" \(at `([^`]*)` within\)$")
_SENTINEL = "\x00ocppgen-validate\x00"


@dataclass(frozen=True)
class PayloadIssue:
    """One violation of a payload: JSON path, what is wrong, and the lenient repair that would
    accept it (None: lenient mode rejects it too)."""

    path: str
    detail: str
    lenient: str | None = None


@dataclass
class PayloadResult:
    """Every issue of one payload, how many redacted values it holds, and whether the
    check stopped early (``incomplete``: a violation it could not step over)."""

    issues: list[PayloadIssue] = field(default_factory=list)
    redacted: int = 0
    incomplete: bool = False


class _Unmakeable(Exception):
    """No valid value of this type can be made up."""


def check_payload(
    codec: PayloadCodec[object], data: bytes, *, redaction: Redaction | None, action: str | None
) -> PayloadResult:
    """Check ``data`` (a JSON payload) against ``codec``'s type. ``redaction`` and ``action``
    say which values the runtime's frame log blanks (``action`` None for a CALLRESULT, as the
    runtime redacts results without knowing their action)."""
    result = PayloadResult()
    if b'"***"' in data and redaction is not None:
        result.redacted = _count_redacted(data, redaction, action)
    try:
        codec.decode(data)
    except msgspec.ValidationError as exc:
        error: msgspec.ValidationError | None = exc
    except (msgspec.DecodeError, RecursionError) as exc:
        result.issues.append(PayloadIssue("$", f"not a readable JSON payload: {exc}"))
        result.incomplete = True
        return result
    else:
        error = None
    if error is not None:
        try:
            tree = msgspec.json.decode(data)
        except (msgspec.DecodeError, RecursionError):
            result.issues.append(PayloadIssue("$", str(error)))
            result.incomplete = True
            return result
        for _ in range(MAX_ISSUES):
            if not _step(codec, tree, str(error), result, redaction, action):
                result.incomplete = True
                return result
            if len(result.issues) > 1 and result.issues[-1] == result.issues[-2]:
                del result.issues[-1]  # the repair did not take: report it once, check no further
                result.incomplete = True
                return result
            try:
                codec.decode(msgspec.json.encode(tree))
            except msgspec.ValidationError as exc:
                error = exc
                continue
            except (msgspec.DecodeError, RecursionError):
                result.incomplete = True
                return result
            break
        else:
            result.incomplete = True
            return result
        data = msgspec.json.encode(tree)
    # RFC 3339 spellings msgspec accepts and `format: date-time` does not (runtime/wire.py)
    payload_type: Any = codec.type  # a generated Struct class (hashable), for the cached scan
    if wire.has_kind(payload_type, mi.DateTimeType) and wire.suspect(data):
        reported = {issue.path for issue in result.issues}
        for path, value in wire.datetime_violations(payload_type, data):
            if path in reported:
                continue  # already reported (a date-time without offset, repaired with a "Z")
            result.issues.append(PayloadIssue(path, f"{value!r} is not an RFC 3339 date-time", "datetime_syntax"))
    return result


def _step(
    codec: PayloadCodec[object], tree: object, message: str, result: PayloadResult, redaction: Redaction | None,
    action: str | None,
) -> bool:
    """Record the violation ``message`` describes and repair it in ``tree``; False when it
    cannot be stepped over."""
    head, sep, where = message.rpartition(" - at `")
    if sep:
        where = where.rstrip("`")
    else:
        head, where = message, "$"
    path = parse_path(where)
    payload_type: Any = codec.type
    info = _type_info(payload_type)
    inner = _WITHIN.search(head)
    if inner is not None:  # a violation inside an open object (customData): report its own path
        head, where = head[: inner.start()], f"{where}.{inner.group(1)}"
    if path is None:
        result.issues.append(PayloadIssue(where, head))
        return False
    try:
        target = _get(tree, path)
    except (KeyError, IndexError, TypeError):
        result.issues.append(PayloadIssue(where, head))
        return False
    if target == REDACTED and path and _redactable(tree, path, redaction, action):
        return _make_at(tree, path, info)  # counted by _count_redacted
    missing = _MISSING.fullmatch(head)
    unknown = _UNKNOWN.fullmatch(head)
    if unknown and isinstance(target, dict) and unknown.group(1) in target:
        value = target.pop(unknown.group(1))
        shown = msgspec.json.encode(value).decode()[:80]
        result.issues.append(PayloadIssue(f"{where}.{unknown.group(1)}", f"undeclared property (value {shown})", "extra_field"))
        return True
    if head.startswith("Invalid enum value") and isinstance(target, str) and isinstance(_type_at(info, path), mi.EnumType):
        result.issues.append(PayloadIssue(where, head, "unknown_enum_value"))
        return _make_at(tree, path, info)
    if _TOO_LONG.fullmatch(head) and isinstance(target, str):
        limit = getattr(_type_at(info, path), "max_length", None)
        if isinstance(limit, int):
            result.issues.append(PayloadIssue(where, f"{head}, got {len(target)} characters", "string_too_long"))
            _replace(tree, path, target[:limit])
            return True
    if head == "Expected `datetime` with a timezone component" and isinstance(target, str):
        result.issues.append(PayloadIssue(where, f"{target!r} has no UTC offset", "timestamp_without_offset"))
        _replace(tree, path, target + "Z")
        return True
    if missing and isinstance(target, dict):
        name = missing.group(1)
        result.issues.append(PayloadIssue(where, head))
        owner = _type_at(info, path)
        found = _field_type(owner, name) if owner is not None else None
        if found is None:
            return False
        try:
            target[name] = _make(found, 0)
        except _Unmakeable:
            return False
        return True
    result.issues.append(PayloadIssue(where, head))
    if not path:
        return False  # the payload itself is of the wrong kind: nothing left to check
    return _make_at(tree, path, info)


def _count_redacted(data: bytes, redaction: Redaction, action: str | None) -> int:
    """How many values of the payload are the runtime's redaction placeholder where it blanks."""
    try:
        tree = msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return 0
    found: list[list[str | int]] = []
    _placeholders(tree, [], found, 0)
    return sum(1 for path in found if _redactable(tree, path, redaction, action))


def _placeholders(node: object, path: list[str | int], found: list[list[str | int]], depth: int) -> None:
    if depth > 64:
        return
    if node == REDACTED:
        found.append(path)
    elif isinstance(node, dict):
        for key, value in node.items():
            _placeholders(value, [*path, key], found, depth + 1)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _placeholders(value, [*path, i], found, depth + 1)


@lru_cache(maxsize=None)
def _type_info(type_: Any) -> mi.Type:
    return mi.type_info(type_)


def _redactable(tree: object, path: list[str | int], redaction: Redaction | None, action: str | None) -> bool:
    """Whether the runtime's redaction blanks the value at ``path`` (asked of the runtime
    itself: a copy with a marker there is redacted, and the marker must be gone)."""
    if redaction is None:
        return False
    probe = copy.deepcopy(tree)
    _replace(probe, path, _SENTINEL)
    redaction.payload(probe, action)
    try:
        return bool(_get(probe, path) == REDACTED)
    except (KeyError, IndexError, TypeError):
        return False


def _make_at(tree: object, path: list[str | int], info: mi.Type) -> bool:
    t = _type_at(info, path)
    if t is None:
        return False
    try:
        _replace(tree, path, _make(t, 0))
    except _Unmakeable:
        return False
    return True


def _make(t: mi.Type, depth: int) -> object:
    """A JSON value valid for ``t`` (a stand-in, only to let the check go on)."""
    if depth > 32:
        raise _Unmakeable
    if isinstance(t, mi.UnionType):
        for member in t.types:
            if not isinstance(member, mi.NoneType):
                try:
                    return _make(member, depth + 1)
                except _Unmakeable:
                    continue
        raise _Unmakeable
    if isinstance(t, mi.StrType):
        if t.pattern is not None:
            raise _Unmakeable
        return "x" * max(t.min_length or 0, 1 if (t.max_length is None or t.max_length >= 1) else 0)
    if isinstance(t, mi.BoolType):
        return False
    if isinstance(t, (mi.IntType, mi.FloatType)):
        return _number(t)
    if isinstance(t, mi.DateTimeType):
        return "2000-01-01T00:00:00Z"
    if isinstance(t, mi.EnumType):
        return next(iter(t.cls)).value
    if isinstance(t, mi.LiteralType):
        return t.values[0]
    if isinstance(t, (mi.ListType, mi.VarTupleType, mi.SetType, mi.FrozenSetType)):
        return [_make(t.item_type, depth + 1) for _ in range(t.min_length or 0)]
    if isinstance(t, mi.DictType):
        return {}
    if isinstance(t, mi.StructType):
        return {f.encode_name: _make(f.type, depth + 1) for f in t.fields if f.required}
    if isinstance(t, mi.CustomType) and isinstance(t.cls, type) and issubclass(t.cls, OpenObject):
        return _make(_type_info(t.cls.__ocpp_fields__), depth + 1)
    if isinstance(t, mi.AnyType):
        return {}
    raise _Unmakeable


def _number(t: mi.IntType | mi.FloatType) -> int | float:
    value: int | float = 0
    if t.ge is not None:
        value = t.ge
    elif t.gt is not None:
        value = t.gt + 1
    if t.le is not None and value > t.le:
        value = t.le
    if t.lt is not None and value >= t.lt:
        value = t.lt - 1
    if t.multiple_of is not None and value % t.multiple_of:
        value = 0
    return int(value) if isinstance(t, mi.IntType) else float(value)


def _field_type(t: mi.Type, name: str) -> mi.Type | None:
    while isinstance(t, mi.UnionType):
        t = next((m for m in t.types if not isinstance(m, mi.NoneType)), t.types[0])
    if isinstance(t, mi.CustomType) and isinstance(t.cls, type) and issubclass(t.cls, OpenObject):
        t = _type_info(t.cls.__ocpp_fields__)
    if isinstance(t, mi.StructType):
        return next((f.type for f in t.fields if f.encode_name == name), None)
    return None


def _type_at(t: mi.Type, path: list[str | int]) -> mi.Type | None:
    for key in path:
        while isinstance(t, mi.UnionType):
            t = next((m for m in t.types if not isinstance(m, mi.NoneType)), t.types[0])
        if isinstance(t, mi.CustomType) and isinstance(t.cls, type) and issubclass(t.cls, OpenObject):
            t = _type_info(t.cls.__ocpp_fields__)
        if isinstance(t, mi.StructType) and isinstance(key, str):
            found = _field_type(t, key)
            if found is None:
                return None
            t = found
        elif isinstance(t, (mi.ListType, mi.VarTupleType)) and isinstance(key, int):
            t = t.item_type
        else:
            return None
    return t


def _get(obj: Any, path: list[str | int]) -> Any:
    for key in path:
        obj = obj[key]
    return obj


def _replace(tree: Any, path: list[str | int], value: object) -> None:
    if not path:
        return
    parent = _get(tree, path[:-1])
    parent[path[-1]] = value
