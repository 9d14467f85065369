"""Value rules of OCPP 2.x Part 2 that the schemas do not carry (sans-I/O).

Outbound (``limit``), applied after a payload was encoded and before it is validated:

- date-time: 2.x Part 2 section 3.1, "The number of decimal places SHALL NOT exceed the
  maximum of 3". msgspec writes microseconds; a value with a fraction finer than a millisecond
  is truncated to the millisecond (never rounded up: a timestamp does not move into the future).
- decimal: 2.x Part 2, primitive datatypes, "The decimal sent towards the Charging Station
  SHALL NOT have more than six decimal places". A float with more is rounded to six (Python's
  ``round``: to nearest, ties to even), so 10.666666666666666 goes out as 10.666667.

Both only touch values of the payload's ``datetime`` and ``float`` fields (never text that
merely looks like one), and only when a cheap scan of the encoded bytes says one may be needed;
the result is validated again like any outbound payload (docs/decisions/0014-conformance.md).

Inbound (``datetime_violations``): msgspec accepts two spellings RFC 3339 section 5.6 does not,
a space instead of ``T`` and a ``+hhmm`` offset without its colon. The schemas say
``format: date-time``, so a strict link refuses them. ``suspect`` is a cheap scan of a frame
that finds every frame that might carry one; only those are checked, type-aware, so a free-text
field with such a string is never refused.
"""

from __future__ import annotations

import datetime
import re
from functools import lru_cache
from typing import Any, AnyStr

import msgspec
from msgspec import inspect as mi

from .payload import OpenObject, enc_hook

__all__ = ["cut_paths", "datetime_attrs", "datetime_violations", "encode_limited", "has_kind", "limit", "millis_plan", "needs_limit", "suspect", "top_datetimes"]

# Outbound scans. Each starts with a literal character, which the engine finds with a fast
# scan (a pattern that starts with \d is tried at every position); a false positive only costs
# the type-aware rewrite, which leaves anything that is not a date-time or float alone.
_MICROS = re.compile(rb'\.\d{6}(?:Z|[+-]\d\d:\d\d)"')
_LONG_FRACTION = re.compile(rb"\.\d{7}")
_SIX_DIGITS = SIX_DIGITS = re.compile(rb"\.\d{6}")  # (SIX_DIGITS: for the outbound plans of protocol.py)
_EXPONENT = re.compile(rb"e-(?<=\de-)")
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)\Z")
# Inbound scans (ASCII digits: msgspec reads no other digit in a date-time), each starting with
# a literal character, str and bytes alike.
_PLUS_HHMM = re.compile(r'\+[0-9]{4}"')
_MINUS_HHMM = re.compile(r'-[0-9]{4}"')
_TIME_BEFORE = re.compile(r"[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?\Z")
# "yyyy-mm-dd hh:mm", written to start with its literal space (the engine scans for it fast)
_SPACE_SEPARATOR = re.compile(r" [0-9]{2}:[0-9]{2}(?<=[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2})")
_BYTES_SCANS = tuple(re.compile(p.pattern.encode()) for p in (_PLUS_HHMM, _MINUS_HHMM, _TIME_BEFORE, _SPACE_SEPARATOR))
_STR_SCANS = (_PLUS_HHMM, _MINUS_HHMM, _TIME_BEFORE, _SPACE_SEPARATOR)
#: A quick necessary condition for an offset without its colon (``suspect`` decides), for str
#: and for bytes: the protocol core's hot path runs it inline, with "+", space and backslash tests.
minus_offset = _MINUS_HHMM.search
minus_offset_bytes = _BYTES_SCANS[1].search
_ENCODER = msgspec.json.Encoder(enc_hook=enc_hook)
_encode = _ENCODER.encode


def limit(payload: Any, data: bytes, *, millis: bool, decimals: int | None) -> bytes:
    """``data`` (the encoding of ``payload``) with the 2.x value rules applied: with
    ``millis``, date-times cut to milliseconds (Part 2 section 3.1); with ``decimals``, floats
    rounded to that many decimal places (6 towards a station)."""
    kind: Any = type(payload)  # (mypy: a class is hashable)
    plan = _PLANS.get(kind, _UNKNOWN)
    if plan is _UNKNOWN:
        plan = _PLANS[kind] = _plan(kind)
    if millis and plan is not None:
        top, opens = plan
        floats = False
        if decimals is not None:
            for name in opens:
                if getattr(getattr(payload, name, None), "extra", None):
                    floats = True
        if not floats:
            # Date-times only among the type's own fields, and no float to round (none declared,
            # no extra property in its open objects): whether a date-time needs cutting is read
            # from the values (msgspec writes six digits exactly when there are microseconds),
            # not scanned for; the same outcome as the scans, cheaper.
            for name in top:
                value = getattr(payload, name, None)
                if type(value) is datetime.datetime and value.microsecond and value.tzinfo is not None:
                    return _cut_top(payload, data, top) or limit_scanned(payload, data, millis=millis, decimals=decimals)
            return data
    return limit_scanned(payload, data, millis=millis, decimals=decimals)


_UNKNOWN: Any = object()
_PLANS: dict[Any, Any] = {}


def _plan(type_: Any) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(its top-level date-time fields, its top-level open-object fields) for a payload type
    whose date-times are all its own fields, that declares no float and has open objects
    only at its top level; None for any other type (the scans decide)."""
    top = _top_datetimes(type_)
    if top is None or has_kind(type_, mi.FloatType):
        return None
    info = mi.type_info(type_)
    assert isinstance(info, mi.StructType)
    opens = []
    for f in info.fields:
        t = f.type
        members = t.types if isinstance(t, mi.UnionType) else (t,)
        if any(isinstance(m, mi.CustomType) for m in members):
            opens.append(f.name)
        elif _has_open(t, set()):
            return None  # an open object deeper down: its extras could hold floats
    return top, tuple(opens)


def millis_plan(type_: Any) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(top-level date-time fields, top-level open-object fields) of the payload type ``type_``
    for which :func:`limit` decides the millisecond rule from the values (see ``_plan``), else None: then
    ``limit`` scans the text. Decided once per type."""
    plan = _PLANS.get(type_, _UNKNOWN)
    if plan is _UNKNOWN:
        plan = _PLANS[type_] = _plan(type_)
    return plan  # type: ignore[no-any-return]


def top_datetimes(type_: Any) -> tuple[str, ...] | None:
    """The attribute names of the date-time fields of the payload type ``type_`` when all of
    them are its own (top-level) fields, else None."""
    return _top_datetimes(type_)


def needs_limit(data: bytes, decimals: int | None) -> bool:
    """Whether :func:`limit_scanned` may change ``data``: its own first test (a six-digit
    fraction, or an exponent where floats are rounded to ``decimals`` places). False: it returns
    ``data`` unchanged."""
    return (46 in data and _SIX_DIGITS.search(data) is not None) or (decimals is not None and 45 in data and data.find(b"e-") >= 0)


def encode_limited(
    payload: Any, names: tuple[str, ...], decimals: int | None, scanned: bool, message_id: str | None = None
) -> bytes | None:
    """``limit(payload, encode(payload), millis=True, decimals=decimals)`` for the typed
    ``payload`` (``decimals``: the decimal rule's places, None without it), or None when this
    cannot show it is the same (then call that). For a payload type whose date-times are its
    top-level fields ``names`` (:func:`top_datetimes`); ``scanned``: ``limit`` scans the text
    for it (not a :func:`millis_plan` type, or one whose open objects have extras that the
    decimal rule may round). With ``message_id``: the CALLRESULT frame ``[3, message_id, that]``
    instead, or None also when the id's own text is what a check finds (the payload alone
    then decides).

    Cheaper than encoding and then cutting the text: a shallow copy of the payload holds each
    cut as ``msgspec.Raw`` (written verbatim), so the encoder writes the cut text itself. The
    cut is made in msgspec's own text of the value (``"yyyy-mm-ddThh:mm:ss.ffffff"`` then the
    offset; the fraction goes when it is under a millisecond), as ``_cut_top`` makes it, and
    ``_cut_top``'s proof still holds: the uncut text stands nowhere else in the output (say, in
    a free-text field), which is its count proof (every other occurrence lies in a token the
    copy leaves alone). Where ``limit`` scans, the cut text is what its scan of the uncut text
    decides: a six-digit fraction with an offset (the uncut value) asks for the millisecond
    cut, and only a seven-digit fraction or an exponent elsewhere (the same in both texts: the
    cut tokens hold neither) for the tree rewrite, which is left to ``limit``."""
    copy = None
    texts: list[bytes] = []
    for name in names:
        value = getattr(payload, name, None)
        if type(value) is not _DATETIME:
            continue
        micro = value.microsecond
        if micro:  # msgspec writes 6 digits
            if value.tzinfo is None:
                return None  # limit decides (and the strict decode refuses a naive date-time)
            text = _encode(value)
            if len(text) < 29 or text[20] != 46:
                return None
            if copy is None:
                copy = payload.__copy__()  # a shallow copy: the caller's value is never changed
            setattr(copy, name, _RAW(text[:20] + text[27:] if micro < 1000 else text[:24] + text[27:]))
            texts.append(text)
    if copy is None:
        data = _encode(payload if message_id is None else (3, message_id, payload))
        if scanned and needs_limit(data, decimals):
            return None if message_id is not None else limit_scanned(payload, data, millis=True, decimals=decimals)
        return data
    data = _encode(copy if message_id is None else (3, message_id, copy))
    for text in texts:
        if data.find(text) >= 0:
            return None
    if scanned and decimals is not None and (
        _LONG_FRACTION.search(data) is not None or (data.find(b"e-") >= 0 and _EXPONENT.search(data) is not None)
    ):
        return None  # a float to round: the tree rewrite
    return data


_DATETIME = datetime.datetime
_RAW = msgspec.Raw
_STRUCT = msgspec.Struct
_UNSET = msgspec.UNSET


def datetime_attrs(type_: Any) -> tuple[tuple[str | None, ...], ...] | None:
    """:func:`_datetime_paths` of a payload type with attribute names instead of wire names
    (None: each item of a list), or None when a date-time sits where a path cannot say.

    Args:
        type_: The payload type (a generated struct).
    """
    return _paths(type_, wire=False)


def cut_paths(payload: Any, data: bytes, paths: tuple[tuple[str | None, ...], ...], decimals: int | None) -> bytes | None:
    """``limit(payload, data, millis=True, decimals=decimals)`` (``data`` the encoding of
    ``payload``) for a payload type whose date-times lie at ``paths`` (:func:`datetime_attrs`,
    not all top-level: ``limit`` scans it; ``decimals``: the decimal rule's places, None
    without it), or None when this cannot show it is the same.

    ``limit`` decides by scanning ``data`` (the same tests run here), then decodes it, cuts the
    date-time strings at the type's paths and encodes the tree again. This reads the same
    date-times from the payload instead and cuts their text in ``data``, as ``_cut_top`` does
    for top-level ones: each value's msgspec text, cut to the millisecond, replaces every
    occurrence of it once a count proves that every occurrence is one of those values (else
    None). The two agree: re-encoding msgspec's own output after a decode gives the same bytes,
    and ``_cut`` cuts msgspec's text of an aware date-time as the slices here do. Anything but
    structs, lists and date-times along a path (a value msgspec would still encode): None."""
    if decimals is not None:  # (towards a station) the scans decide whether floats are rounded
        if not (46 in data and _SIX_DIGITS.search(data) is not None and _MICROS.search(data) is not None):
            return None if needs_limit(data, decimals) else data  # a float may need rounding: the tree rewrite
        if _LONG_FRACTION.search(data) is not None or (data.find(b"e-") >= 0 and _EXPONENT.search(data) is not None):
            return None  # a float to round: the tree rewrite
    # Without the decimal rule no scan is needed: a date-time at the paths with a fraction finer
    # than a millisecond is written with six digits and an offset, which limit's scans find, and
    # then it cuts the paths; without one, whatever the scans find (say, free text), the cut of
    # the paths changes nothing and limit's output is its input.
    values: list[Any] = []
    for path in paths:
        if not _collect(payload, path, 0, values):
            return None
    counts: dict[bytes, int] = {}
    cuts: dict[bytes, bytes] = {}
    for value in values:
        micro = value.microsecond
        if not micro:
            continue  # no fraction: nothing to cut, and its text has no "." to be confused with
        if value.tzinfo is None:
            return None
        text = _encode(value)
        if len(text) < 29 or text[20] != 46:
            return None
        counts[text] = counts.get(text, 0) + 1
        cuts[text] = text[:20] + text[27:] if micro < 1000 else text[:24] + text[27:]
    if not counts:
        return data
    for text, count in counts.items():
        if data.count(text) != count:
            return None
    for text, cut in cuts.items():
        data = data.replace(text, cut)
    return data


def _collect(node: Any, path: tuple[str | None, ...], i: int, out: list[Any]) -> bool:
    """Append the date-times at ``path`` below ``node`` to ``out``; False when something
    along it is not what the type says (then the caller gives way to ``limit``)."""
    if i == len(path):
        if type(node) is _DATETIME:
            out.append(node)
            return True
        return node is _UNSET
    key = path[i]
    if key is None:
        if type(node) is not list:
            return False
        for item in node:
            if not _collect(item, path, i + 1, out):
                return False
        return True
    if node is _UNSET:
        return True
    if not isinstance(node, _STRUCT):
        return False
    return _collect(getattr(node, key), path, i + 1, out)


def _has_open(t: mi.Type, seen: set[int]) -> bool:
    if isinstance(t, mi.CustomType):
        return True
    if isinstance(t, mi.StructType):
        if id(t.cls) in seen:
            return False
        seen.add(id(t.cls))
        return any(_has_open(f.type, seen) for f in t.fields)
    if isinstance(t, (mi.ListType, mi.VarTupleType)):
        return _has_open(t.item_type, seen)
    if isinstance(t, mi.UnionType):
        return any(_has_open(m, seen) for m in t.types)
    return False


def limit_scanned(payload: Any, data: bytes, *, millis: bool, decimals: int | None) -> bytes:
    """:func:`limit`, deciding what to rewrite by scanning the encoded text."""
    # one scan for both fractions (an int tests one byte: ``b"." in data`` is several times dearer)
    if 46 in data and _SIX_DIGITS.search(data) is not None:
        need_millis = millis and _MICROS.search(data) is not None
        need_decimals = decimals is not None and _LONG_FRACTION.search(data) is not None
    else:
        need_millis = need_decimals = False
    if decimals is not None and not need_decimals and data.find(b"e-") >= 0:
        need_decimals = _EXPONENT.search(data) is not None
    if not need_millis and not need_decimals:
        return data
    if not need_decimals:
        kind: Any = type(payload)  # (mypy: a class is hashable)
        top = _top_datetimes(kind)
        if top is not None:  # the common case: date-times only at the top, cut in the text
            cut = _cut_top(payload, data, top)
            if cut is not None:
                return cut
        paths = _datetime_paths(kind)
        if paths is not None:  # the common case: cut the fraction of the date-time strings in place
            tree = msgspec.json.decode(data)
            for path in paths:
                _cut_at(tree, path, 0)
            return _ENCODER.encode(tree)
    tree = msgspec.to_builtins(payload, builtin_types=(datetime.datetime,), enc_hook=_open_to_builtins)
    return _ENCODER.encode(_rewrite(tree, need_millis, decimals if need_decimals else None))


# msgspec writes a date-time as yyyy-mm-ddThh:mm:ss[.ffffff][Z|+hh:mm|-hh:mm]
_FRACTION = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})\d{3}((?:Z|[+-]\d\d:\d\d)?)\Z")
_ITEMS = None  # a path step that stands for every item of a list


def _datetime_paths(type_: Any) -> tuple[tuple[str | None, ...], ...] | None:
    """The JSON paths of every date-time field of a payload type (wire names; None: each item
    of a list), or None when one sits where a path cannot say (an open object, a union)."""
    return _paths(type_, wire=True)


@lru_cache(maxsize=None)
def _paths(type_: Any, *, wire: bool) -> tuple[tuple[str | None, ...], ...] | None:
    """The paths of every date-time field of a payload type, as wire names (``wire``) or as
    attribute names; None: a date-time sits where a path cannot say."""
    paths: list[tuple[str | None, ...]] = []

    def walk(t: mi.Type, prefix: tuple[str | None, ...], depth: int) -> bool:
        if depth > 16:
            return False
        if isinstance(t, mi.DateTimeType):
            paths.append(prefix)
            return True
        if isinstance(t, mi.StructType):
            return all(walk(f.type, (*prefix, f.encode_name if wire else f.name), depth + 1) for f in t.fields)
        if isinstance(t, (mi.ListType, mi.VarTupleType)):
            return walk(t.item_type, (*prefix, _ITEMS), depth + 1)
        if isinstance(t, mi.UnionType) or isinstance(t, mi.CustomType):
            return not _has_kind_info(t, mi.DateTimeType)
        return True

    if not walk(mi.type_info(type_), (), 0):
        return None
    return tuple(paths)


def _has_kind_info(t: mi.Type, kind: type) -> bool:
    return _has(t, kind, set())


@lru_cache(maxsize=None)
def _top_datetimes(type_: Any) -> tuple[str, ...] | None:
    """The attribute names of a payload type's date-time fields when all of them are its own
    fields (not nested), else None."""
    paths = _datetime_paths(type_)
    if not paths or any(len(p) != 1 for p in paths):
        return None
    info = mi.type_info(type_)
    assert isinstance(info, mi.StructType)
    names = {f.encode_name: f.name for f in info.fields}
    return tuple(names[p[0]] for p in paths)  # type: ignore[index]


def _cut_top(payload: Any, data: bytes, names: tuple[str, ...]) -> bytes | None:
    """``data`` with each top-level date-time's text cut to the millisecond, or None when the
    same text also stands elsewhere (say, in a free-text field): then the tree rewrite decides.
    Exact: every occurrence of the quoted text is one of the fields, as the count proves."""
    texts: list[bytes] = []
    for name in names:
        value = getattr(payload, name, None)
        if type(value) is datetime.datetime and value.microsecond:
            texts.append(_ENCODER.encode(value))
    for text in set(texts):
        # msgspec writes "yyyy-mm-ddThh:mm:ss.ffffff" then the offset: 1 + 19 + 1 + 6 bytes
        if len(text) < 29 or text[20] != 46 or data.count(text) != texts.count(text):
            return None
        cut = text[:20] + text[27:] if text[21:24] == b"000" else text[:24] + text[27:]
        data = data.replace(text, cut)
    return data


def _cut_at(node: Any, path: tuple[str | None, ...], i: int) -> None:
    """Truncate the date-time at ``path`` of a decoded JSON tree to the millisecond, as
    :func:`_millis` spells it (no fraction when it is zero)."""
    key = path[i]
    last = i == len(path) - 1
    if key is None:
        if isinstance(node, list):
            for j, item in enumerate(node):
                if last:
                    if isinstance(item, str):
                        node[j] = _cut(item)
                else:
                    _cut_at(item, path, i + 1)
        return
    if not isinstance(node, dict) or key not in node:
        return
    if last:
        value = node[key]
        if isinstance(value, str):
            node[key] = _cut(value)
    else:
        _cut_at(node[key], path, i + 1)


def _cut(text: str) -> str:
    m = _FRACTION.match(text)
    if m is None:
        return text
    head, millis, offset = m.groups()
    return f"{head}{offset}" if millis == "000" else f"{head}.{millis}{offset}"


def _open_to_builtins(obj: Any) -> Any:
    if isinstance(obj, OpenObject):
        return msgspec.to_builtins(obj.to_wire(), builtin_types=(datetime.datetime,))
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


def _rewrite(node: Any, millis: bool, decimals: int | None) -> Any:
    if isinstance(node, dict):
        return {k: _rewrite(v, millis, decimals) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite(v, millis, decimals) for v in node]
    if isinstance(node, datetime.datetime):
        return _millis(node) if millis else node
    if decimals is not None and type(node) is float:
        return round(node, decimals)
    return node


def _millis(value: datetime.datetime) -> str:
    """RFC 3339 with at most 3 fractional digits (truncated), ``Z`` for UTC."""
    text = value.replace(microsecond=value.microsecond // 1000 * 1000).isoformat(timespec="milliseconds")
    if value.microsecond < 1000:
        text = value.replace(microsecond=0).isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def suspect(text: str | bytes | msgspec.Raw) -> bool:
    """Whether the JSON ``text`` (a frame or a payload) may hold a date-time msgspec accepts but
    RFC 3339 section 5.6 does not (a space for ``T``, an offset without its colon), spelled out or
    with ``\\u`` escapes (RFC 8259 section 7: msgspec reads the string after unescaping it). False
    positives only cost the type-aware check; it never misses one (tests/test_inbound_path.py).

    Every pattern starts with a literal character (``+``, space, ``-``), which the regular
    expression engine finds with a fast scan; ``in`` skips a pattern whose character is absent."""
    if isinstance(text, str):
        return _suspect(text, _STR_SCANS, _STR_MARKS)
    return _suspect(text if isinstance(text, bytes) else bytes(text), _BYTES_SCANS, _BYTES_MARKS)


_STR_MARKS = ("\\", "\\u", "+", " ", ":")
_BYTES_MARKS = (b"\\", b"\\u", b"+", b" ", b":")


def _suspect(text: AnyStr, scans: tuple[re.Pattern[AnyStr], ...], marks: tuple[AnyStr, ...]) -> bool:
    plus, minus, before, space = scans
    backslash, escape, plus_sign, blank, colon = marks
    if backslash in text and escape in text:  # an escaped character: only the decoded text can tell
        return True
    if plus_sign in text and plus.search(text):
        return True
    if blank in text and space.search(text):
        return True
    m = minus.search(text)
    while m is not None:  # dates are full of "-": look for "hh:mm:ss[.f]-hhmm", however long the fraction
        start = m.start()
        last = text.rfind(colon, 0, start)  # the colon before the seconds
        if last >= 5 and before.match(text, last - 5, start):
            return True
        m = minus.search(text, m.end() - 1)
    return False


@lru_cache(maxsize=None)
def has_kind(type_: Any, kind: type) -> bool:
    """Whether a payload type has a field of msgspec kind ``kind`` (e.g. DateTimeType)."""
    return _has(mi.type_info(type_), kind, set())


def _has(t: mi.Type, kind: type, seen: set[int]) -> bool:
    if isinstance(t, kind):
        return True
    if isinstance(t, mi.StructType):
        if id(t.cls) in seen:
            return False
        seen.add(id(t.cls))
        return any(_has(f.type, kind, seen) for f in t.fields)
    if isinstance(t, (mi.ListType, mi.VarTupleType)):
        return _has(t.item_type, kind, seen)
    if isinstance(t, mi.UnionType):
        return any(_has(m, kind, seen) for m in t.types)
    if isinstance(t, mi.CustomType) and isinstance(t.cls, type) and issubclass(t.cls, OpenObject):
        return _has(mi.type_info(t.cls.__ocpp_fields__), kind, seen)
    return False


def datetime_violations(type_: Any, raw: bytes | str) -> list[tuple[str, str]]:
    """(JSON path, value) of every date-time field of ``raw`` (a ``type_`` payload) that is
    not RFC 3339 (``format: date-time``)."""
    try:
        tree = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return []
    found: list[tuple[str, str]] = []
    _walk(tree, mi.type_info(type_), "$", found)
    return found


def _walk(node: Any, t: mi.Type, path: str, found: list[tuple[str, str]]) -> None:
    if isinstance(t, mi.UnionType):
        for member in t.types:
            _walk(node, member, path, found)
        return
    if isinstance(t, mi.DateTimeType):
        if isinstance(node, str) and _RFC3339.match(node) is None:
            found.append((path, node))
    elif isinstance(t, mi.StructType) and isinstance(node, dict):
        for f in t.fields:
            if f.encode_name in node:
                _walk(node[f.encode_name], f.type, f"{path}.{f.encode_name}", found)
    elif isinstance(t, (mi.ListType, mi.VarTupleType)) and isinstance(node, list):
        for i, item in enumerate(node):
            _walk(item, t.item_type, f"{path}[{i}]", found)
    elif isinstance(t, mi.CustomType) and isinstance(t.cls, type) and issubclass(t.cls, OpenObject):
        _walk(node, mi.type_info(t.cls.__ocpp_fields__), path, found)
