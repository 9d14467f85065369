"""Typed payloads: the base of every generated struct, open objects, and cached codecs.

Every generated message and data type derives from :class:`Payload`: keyword-only, unknown
fields rejected (``additionalProperties: false``), optional fields omitted on encode.

A schema object that admits extra properties (OCPP 2.x ``CustomDataType``) cannot be a msgspec
struct, because msgspec drops unknown fields. It is an :class:`OpenObject` instead: its declared
fields are validated by a generated struct and every other property is kept, untouched, in
``extra``, so it survives a decode/encode round trip. msgspec reaches open objects through the
``dec_hook``/``enc_hook`` pair below; :class:`PayloadCodec` wires them in.

JSON Schema draft-06 (OCPP 2.x and the 1.6 security extension) counts ``1.0`` as an integer,
draft-04 (1.6 core) does not. msgspec never accepts a float for an ``int`` field, so a codec for
a draft-06 message retries a failed decode once, after turning integral floats that stand where
the type expects an integer into ints. The retry only runs on input that already failed, so
valid messages pay nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

import msgspec
from msgspec import inspect as mi

__all__ = ["MessageInfo", "OpenFields", "OpenObject", "Payload", "PayloadCodec", "codec", "dec_hook", "enc_hook"]


class Payload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Base of every generated struct."""


class OpenFields(Payload, forbid_unknown_fields=False):
    """Base of the struct that validates the declared fields of an :class:`OpenObject`."""


F = TypeVar("F", bound=OpenFields)


class OpenObject(Generic[F]):
    """An object whose declared fields are typed and whose extra properties are kept as-is:
    ``fields`` is the struct of the declared fields (read them as attributes of the object),
    ``extra`` the other properties, by wire name."""

    __slots__ = ("_fields", "extra")
    __ocpp_fields__: ClassVar[type[OpenFields]]
    __ocpp_wire_names__: ClassVar[frozenset[str]]

    def __init__(self, fields: F, extra: Mapping[str, Any] | None = None) -> None:
        extra = dict(extra or {})
        clash = sorted(self.__ocpp_wire_names__.intersection(extra))
        if clash:
            raise ValueError(f"extra properties {clash} are declared fields of {type(self).__name__}")
        self._fields = fields
        self.extra: dict[str, Any] = extra

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields_type = cls.__dict__.get("__ocpp_fields__")
        if fields_type is not None:
            cls.__ocpp_wire_names__ = frozenset(fields_type.__struct_encode_fields__)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._fields, name)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, OpenObject)
        return bool(self._fields == other._fields and self.extra == other.extra)

    def __hash__(self) -> int:
        raise TypeError(f"unhashable type: {type(self).__name__!r}")

    def __repr__(self) -> str:
        inner = repr(self._fields)[len(type(self._fields).__name__) + 1 : -1]
        extra = f", extra={self.extra!r}" if self.extra else ""
        return f"{type(self).__name__}({inner}{extra})"

    def to_wire(self) -> dict[str, Any]:
        """The JSON object: declared fields under their wire names, then the extra properties."""
        out: dict[str, Any] = msgspec.to_builtins(self._fields)
        out.update(self.extra)
        return out

    @classmethod
    def from_wire(cls, obj: Any) -> Any:
        """Validate a decoded JSON value and build the open object from it."""
        if not isinstance(obj, dict):
            raise TypeError(f"Expected `object`, got `{_json_type(obj)}`")
        try:
            fields = msgspec.convert(obj, cls.__ocpp_fields__, strict=True)
        except msgspec.ValidationError as exc:
            raise ValueError(_relative(str(exc))) from None
        inst = cls.__new__(cls)
        inst._fields = fields  # type: ignore[assignment]
        inst.extra = {k: v for k, v in obj.items() if k not in cls.__ocpp_wire_names__}
        return inst


def _json_type(obj: Any) -> str:
    return {dict: "object", list: "array", str: "str", bool: "bool", int: "int", float: "float"}.get(
        type(obj), "null"
    )


def _relative(message: str) -> str:
    """``"Expected x - at `$.a`"`` -> ``"Expected x (at `a` within)"`` for nesting in an outer path."""
    head, sep, path = message.rpartition(" - at `$")
    if not sep:
        return message
    return f"{head} (at `{path.rstrip('`').lstrip('.')}` within)"


def dec_hook(type_: type, obj: Any) -> Any:
    """msgspec decode hook: builds an open object of ``type_`` from the decoded ``obj``."""
    if isinstance(type_, type) and issubclass(type_, OpenObject):
        return type_.from_wire(obj)
    raise NotImplementedError(f"unsupported type {type_!r}")


def enc_hook(obj: Any) -> Any:
    """msgspec encode hook: ``obj``, an open object, as a dict of its fields and extras."""
    if isinstance(obj, OpenObject):
        return obj.to_wire()
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


T = TypeVar("T")

_ENCODER = msgspec.json.Encoder(enc_hook=enc_hook)


class PayloadCodec(Generic[T]):
    """Decode JSON into one payload type, and encode payloads, with open objects supported.

    ``type_`` is the payload type. ``integral_floats`` follows the draft of the schema the
    type came from: true for draft-06 (a float with zero fraction is an integer), false for
    draft-04.
    """

    __slots__ = ("type", "integral_floats", "_decoder", "decode_strict")

    def __init__(self, type_: type[T], *, integral_floats: bool) -> None:
        self.type = type_
        self.integral_floats = integral_floats
        self._decoder = msgspec.json.Decoder(type_, dec_hook=dec_hook)
        #: The bare msgspec decoder: the hot path of valid input. On a ValidationError call
        #: ``decode``, which also applies the draft-06 integer rule.
        self.decode_strict: Callable[[bytes | str], T] = self._decoder.decode

    def decode(self, data: bytes | str) -> T:
        """Decode and validate the JSON ``data``; raises ``msgspec.ValidationError`` or
        ``msgspec.DecodeError``."""
        try:
            return self._decoder.decode(data)
        except msgspec.ValidationError as exc:
            if not self.integral_floats or "got `float`" not in str(exc):
                raise
            first = exc
        untyped = msgspec.json.decode(data)
        info = _type_info(self.type)  # type: ignore[arg-type]
        normalized, changed = _integral_floats_to_int(untyped, info)
        if not changed:
            raise first
        return self._decoder.decode(msgspec.json.encode(normalized))

    def encode(self, payload: T) -> bytes:
        """Encode ``payload`` to JSON bytes (no validation beyond what the types enforce)."""
        return _ENCODER.encode(payload)


@lru_cache(maxsize=None)
def _type_info(type_: Any) -> mi.Type:
    return mi.type_info(type_)


def _integral_floats_to_int(obj: Any, t: mi.Type) -> tuple[Any, bool]:
    """Return ``obj`` with integral floats at integer positions of ``t`` turned into ints."""
    if isinstance(t, mi.IntType):
        if isinstance(obj, float) and obj.is_integer():
            return int(obj), True
        return obj, False
    if isinstance(t, mi.UnionType):  # generated types have none (T | UnsetType inspects as T)
        return obj, False
    if isinstance(t, (mi.ListType, mi.VarTupleType)) and isinstance(obj, list):
        changed = False
        items = []
        for item in obj:
            new, c = _integral_floats_to_int(item, t.item_type)
            items.append(new)
            changed |= c
        return items, changed
    if isinstance(t, mi.StructType) and isinstance(obj, dict):
        fields = {f.encode_name: f.type for f in t.fields}
        changed = False
        out = {}
        for key, value in obj.items():
            if key in fields:
                value, c = _integral_floats_to_int(value, fields[key])
                changed |= c
            out[key] = value
        return out, changed
    if isinstance(t, mi.CustomType) and isinstance(t.cls, type) and issubclass(t.cls, OpenObject):
        return _integral_floats_to_int(obj, _type_info(t.cls.__ocpp_fields__))
    return obj, False


_CODECS: dict[tuple[type, bool], PayloadCodec[Any]] = {}


def codec(type_: type[T], integral_floats: bool) -> PayloadCodec[T]:
    """The shared codec for the payload type ``type_`` (built once, reused for every message);
    ``integral_floats`` as for ``PayloadCodec``."""
    key = (type_, integral_floats)
    found = _CODECS.get(key)
    if found is None:
        found = _CODECS[key] = PayloadCodec(type_, integral_floats=integral_floats)
    return found


class MessageInfo(NamedTuple):
    """One message of a version (an entry of the generated ``messages.MESSAGES``).

    Attributes:
        action: The action (``BootNotification``).
        kind: ``request`` or ``response``.
        type: The generated struct.
        schema: The schema file it was generated from.
        integral_floats: Whether its schema's draft counts ``1.0`` as an integer (the second
            argument of ``codec``).
    """

    action: str
    kind: str
    type: type[Payload]
    schema: str
    integral_floats: bool
