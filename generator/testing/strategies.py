"""Hypothesis strategies for every generated message and datatype, honouring every schema
constraint.

    from ocppgen.testing import strategies
    from ocppgen.generated.v201 import csms, messages

    @given(strategies.for_type(messages.TransactionEventRequest))
    def test_(event): ...

    @given(strategies.calls_to(csms.BINDING))     # (route, request) of every CALL a CSMS receives
    def test_(call): ...

Hypothesis's ``from_type`` cannot build these types well: it ignores msgspec's ``Meta``
constraints (lengths, bounds) and knows nothing of the checks generated for what ``Meta``
cannot express (``multipleOf``, ``format: uri``) or of the wire names. These strategies are
built from the generator's intermediate representation of the same schema set instead: a
strategy draws the JSON payload the schema describes (``payloads``), and the generated decoder
turns it into the typed object, so every example is one the decoder accepts
(``tests/test_strategies.py`` proves it for every type of every version). ``register()``
makes ``st.from_type`` use them.

Size choices that are not constraints: strings without ``maxLength`` have at most 32
characters, arrays at most 3 items more than their minimum, unbounded integers stay within
+-2**53 (exact in every JSON implementation), date-times between 1971 and 2099 with whole
milliseconds. Requires ``hypothesis`` (``pip install 'ocppgen[testing]'``).
"""

from __future__ import annotations

import datetime
import importlib
import math
import re
import sys
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from hypothesis import strategies as st

from ..ir import (
    AnyType,
    ArrayType,
    BooleanType,
    EnumDef,
    IntegerType,
    NamedType,
    NumberType,
    StringType,
    StructDef,
    TypeExpr,
    VersionIR,
)

__all__ = ["calls_to", "for_type", "payloads", "register", "use_schemas"]

T = TypeVar("T")
STRING_MAX = 32
ARRAY_EXTRA = 3
INT_LIMIT = 2**53
_KEYS = {"v16": "1.6", "v201": "2.0.1", "v21": "2.1"}
_SCHEMAS: dict[str, tuple[Path | None, tuple[Path, ...]]] = {}
_OFFSETS = [datetime.timezone.utc, datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
            datetime.timezone(datetime.timedelta(hours=-8)), datetime.timezone(datetime.timedelta(hours=14))]


def use_schemas(package: str, root: str | Path | None = None, overlays: tuple[str | Path, ...] = ()) -> None:
    """The schema set (``root``, ``overlays``) a generated ``package`` was built from, when it
    is not ocppgen's own (``ocppgen build --schemas ... --overlay ...``)."""
    _SCHEMAS[package] = (Path(root) if root is not None else None, tuple(Path(p) for p in overlays))
    _version_ir.cache_clear()
    _payload.cache_clear()


def payloads(cls: type) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects (as ``msgspec.json.decode`` returns them) valid for ``cls``'s schema."""
    package, key, _ = _locate(cls)
    return _payload(package, key, cls.__name__)


def for_type(cls: type[T]) -> st.SearchStrategy[T]:
    """Valid instances of a generated message or datatype ``cls``."""
    package, key, _ = _locate(cls)
    messages = importlib.import_module(f"{package}.{key}.messages")
    integral = next((m.integral_floats for m in messages.MESSAGES if m.type is cls), key != "v16")
    codec = importlib.import_module(f"{package}.runtime.payload").codec(cls, integral)

    def decode(payload: dict[str, Any]) -> T:
        value: T = codec.decode(msgspec.json.encode(payload))
        return value

    return payloads(cls).map(decode)


def calls_to(binding: Any, *, sends: bool = True) -> st.SearchStrategy[tuple[Any, Any]]:
    """``(route, request)`` of every CALL (and 2.1 SEND, unless ``sends=False``) that
    ``binding``'s role receives: what a peer may send to your handler."""
    routes = [binding.routes[action] for action in sorted(binding.handled) if sends or not binding.routes[action].send]
    return st.sampled_from(routes).flatmap(lambda route: for_type(route.request).map(lambda request: (route, request)))


def register(package: str = "ocppgen.generated") -> int:
    """Make ``st.from_type`` build every struct of ``package``'s versions with ``for_type``;
    returns how many types were registered."""
    count = 0
    for key in _KEYS:
        try:
            modules = [importlib.import_module(f"{package}.{key}.{name}") for name in ("messages", "datatypes")]
        except ModuleNotFoundError:
            continue
        for module in modules:
            for value in vars(module).values():
                if (
                    isinstance(value, type) and issubclass(value, msgspec.Struct) and value.__module__ == module.__name__
                    and not value.__name__.startswith("_")
                ):
                    st.register_type_strategy(value, _lazy(value))
                    count += 1
    return count


def _lazy(cls: type) -> st.SearchStrategy[Any]:
    return st.deferred(lambda: for_type(cls))


# -- the IR of a generated package ------------------------------------------------------------------


def _locate(cls: type) -> tuple[str, str, str]:
    """(package, version key, module) of a generated class: ``ocppgen.generated``, ``v201``, ..."""
    parts = cls.__module__.split(".")
    if len(parts) < 3 or parts[-2] not in _KEYS or parts[-1] not in ("messages", "datatypes"):
        raise TypeError(f"{cls.__qualname__} is not a generated OCPP message or datatype")
    return ".".join(parts[:-2]), parts[-2], parts[-1]


@lru_cache(maxsize=None)
def _version_ir(package: str, key: str) -> tuple[VersionIR, dict[str, StructDef], dict[str, EnumDef]]:
    from ..load import default_schema_root, load_sets
    from ..overlay import apply_overlays, load_overlay
    from ..pipeline import build_ir

    root, overlays = _SCHEMAS.get(package, (None, ()))
    (schema_set,) = load_sets(root or default_schema_root(), [_KEYS[key]])
    schema_set = apply_overlays(schema_set, [(p, load_overlay(p)) for p in overlays])
    ir, _ = build_ir(schema_set)
    banner = Path(sys.modules[f"{package}.{key}.messages"].__file__ or "").read_text(encoding="utf-8")[:400]
    built = re.search(r"sha256 ([0-9a-f]{64})", banner)
    if built is not None and built.group(1) != ir.schema_digest:
        raise LookupError(
            f"{package}.{key} was generated from another schema set (sha256 {built.group(1)[:12]}...) than the one "
            f"found ({ir.schema_digest[:12]}...): call strategies.use_schemas({package!r}, root, overlays)"
        )
    return ir, {s.name: s for s in ir.structs}, {e.name: e for e in ir.enums}


@lru_cache(maxsize=None)
def _payload(package: str, key: str, name: str) -> st.SearchStrategy[dict[str, Any]]:
    _, structs, enums = _version_ir(package, key)
    if name not in structs:
        raise TypeError(f"{name} is not a struct of {package}.{key}")
    memo: dict[str, st.SearchStrategy[Any]] = {}

    def named(type_name: str) -> st.SearchStrategy[Any]:
        if type_name in enums:
            return st.sampled_from([m.value for m in enums[type_name].members])
        if type_name not in memo:
            memo[type_name] = st.deferred(lambda: struct(structs[type_name]))
        return memo[type_name]

    def struct(node: StructDef) -> st.SearchStrategy[dict[str, Any]]:
        required = {f.wire_name: value(f.type) for f in node.fields if f.required and not f.has_default}
        optional = {f.wire_name: value(f.type) for f in node.fields if not (f.required and not f.has_default)}
        fixed = st.fixed_dictionaries(required, optional=optional)
        if not node.open:
            return fixed
        declared = {f.wire_name for f in node.fields}
        extra = st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k not in declared), _json(), max_size=1)
        return st.tuples(fixed, extra).map(lambda both: {**both[1], **both[0]})

    def value(node: TypeExpr) -> st.SearchStrategy[Any]:
        if isinstance(node, NamedType):
            return named(node.name)
        if isinstance(node, StringType):
            return _string(node)
        if isinstance(node, IntegerType):
            low = -INT_LIMIT if node.minimum is None else math.ceil(node.minimum)
            high = INT_LIMIT if node.maximum is None else math.floor(node.maximum)
            return st.integers(low, high)
        if isinstance(node, NumberType):
            return _number(node)
        if isinstance(node, BooleanType):
            return st.booleans()
        if isinstance(node, ArrayType):
            low = node.min_items or 0
            high = low + ARRAY_EXTRA if node.max_items is None else min(node.max_items, low + ARRAY_EXTRA)
            return st.lists(value(node.items), min_size=low, max_size=high)
        if isinstance(node, AnyType):
            return _json()
        raise TypeError(f"no strategy for {node!r}")

    return struct(structs[name])


def _string(node: StringType) -> st.SearchStrategy[str]:
    low = node.min_length or 0
    high = node.max_length if node.max_length is not None else max(low, STRING_MAX)
    if node.format == "date-time":
        return _datetimes()
    if node.format == "uri":
        return _uris().filter(lambda uri: low <= len(uri) <= high)
    if node.max_length is None:
        return st.text(min_size=low, max_size=low + STRING_MAX)
    if high <= STRING_MAX:
        # the edges drawn on purpose: the limits are where a decoder or a database column breaks,
        # and a uniform draw of 150 examples reaches a 20-character limit only now and then
        edges = st.text(min_size=high, max_size=high) | st.text(min_size=low, max_size=low)
        return st.text(min_size=low, max_size=high) | edges
    # long limits (certificates: 5500, 10000): short texts, and texts of exactly the limit drawn
    # cheaply (one character repeated), so the edge is reached without drawing 10000 characters
    full = st.builds(lambda c: c * high, st.characters(codec="utf-8"))
    return st.text(min_size=low, max_size=max(low, STRING_MAX)) | full


def _datetimes() -> st.SearchStrategy[str]:
    def spell(moment: datetime.datetime, zulu: bool) -> str:
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
        return text[:-6] + "Z" if zulu and text.endswith("+00:00") else text

    moments = st.datetimes(
        min_value=datetime.datetime(1971, 1, 1), max_value=datetime.datetime(2099, 12, 31), timezones=st.sampled_from(_OFFSETS)
    )
    return st.builds(spell, moments, st.booleans())


def _uris() -> st.SearchStrategy[str]:
    scheme = st.sampled_from(["https", "http", "ftp", "ftps", "urn", "mailto"])
    host = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?(?:\.[a-z]{2,6}){0,2}", fullmatch=True)
    path = st.from_regex(r"(?:/[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,8}){0,3}", fullmatch=True).filter(
        lambda p: re.search(r"%(?![0-9A-Fa-f]{2})", p) is None
    )

    def spell(s: str, h: str, p: str) -> str:
        return f"{s}:{h}{p}" if s in ("urn", "mailto") else f"{s}://{h}{p}"

    return st.builds(spell, scheme, host, path)


def _number(node: NumberType) -> st.SearchStrategy[float]:
    if node.multiple_of is not None:
        step = Decimal(node.multiple_of)
        low = -10**6 if node.minimum is None else math.ceil(Decimal(str(node.minimum)) / step)
        high = 10**6 if node.maximum is None else math.floor(Decimal(str(node.maximum)) / step)
        return st.integers(low, high).map(lambda k: float(k * step))
    return st.floats(
        min_value=None if node.minimum is None else float(node.minimum),
        max_value=None if node.maximum is None else float(node.maximum),
        allow_nan=False, allow_infinity=False,
    )


@lru_cache(maxsize=None)
def _json() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers(-INT_LIMIT, INT_LIMIT) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
    return st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=4
    )
