"""The intermediate representation: what a schema set means, independent of Python syntax.

Every node is a frozen, keyword-only msgspec struct, so IR values are hashable, compare by
value and dump to JSON (``ocppgen ir``). Stages never mutate the IR; passes return new values.
"""

from __future__ import annotations

from typing import Literal, Union

import msgspec

__all__ = [
    "ActionDef",
    "AnyType",
    "ArrayType",
    "BooleanType",
    "EnumDef",
    "EnumMember",
    "Field",
    "IntegerType",
    "Message",
    "NamedType",
    "NumberType",
    "Source",
    "StringType",
    "StructDef",
    "TypeExpr",
    "VersionIR",
]


class Node(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Base of every IR node."""


class Source(Node, kw_only=True):
    """Where a node comes from: a schema file and a JSON pointer into it."""

    file: str
    pointer: str

    def __str__(self) -> str:
        return f"{self.file}#{self.pointer}"


class StringType(Node, kw_only=True, tag="string"):
    """A JSON string, with its length limits and ``format`` (``date-time`` or ``uri``)."""

    max_length: int | None = None
    min_length: int | None = None
    format: str | None = None


class IntegerType(Node, kw_only=True, tag="integer"):
    """A JSON integer with optional inclusive bounds."""

    minimum: int | float | None = None
    maximum: int | float | None = None


class NumberType(Node, kw_only=True, tag="number"):
    """A JSON number with optional inclusive bounds; ``multiple_of`` is kept as decimal text."""

    minimum: int | float | None = None
    maximum: int | float | None = None
    multiple_of: str | None = None


class BooleanType(Node, kw_only=True, tag="boolean"):
    """A JSON boolean."""


class AnyType(Node, kw_only=True, tag="any"):
    """Any JSON value, passed through untouched (a schema without ``type``)."""


class NamedType(Node, kw_only=True, tag="named"):
    """A reference to an enum or struct of the same version, by IR name."""

    name: str


class ArrayType(Node, kw_only=True, tag="array"):
    """A JSON array of one item type, with optional size limits."""

    items: TypeExpr
    min_items: int | None = None
    max_items: int | None = None


TypeExpr = Union[StringType, IntegerType, NumberType, BooleanType, AnyType, NamedType, ArrayType]


class Field(Node, kw_only=True):
    """One property of an object: its wire name, Python name, type and presence rules."""

    wire_name: str
    python_name: str = ""
    type: TypeExpr
    required: bool
    has_default: bool = False
    default: bool | int | float | str | None = None
    description: str | None = None
    source: Source


class StructDef(Node, kw_only=True, tag="struct"):
    """An object schema. ``open`` means extra properties are allowed (and kept)."""

    name: str
    fields: tuple[Field, ...]
    open: bool = False
    description: str | None = None
    source: Source
    module: Literal["datatypes", "messages"] = "datatypes"


class EnumMember(Node, kw_only=True):
    """One enum value: the exact wire string and its Python member name."""

    value: str
    python_name: str = ""


class EnumDef(Node, kw_only=True, tag="enum"):
    """A string enum."""

    name: str
    members: tuple[EnumMember, ...]
    description: str | None = None
    source: Source


class Message(Node, kw_only=True):
    """One schema file's root: the payload of a request or response of an action.

    ``integral_floats`` records the file's draft: draft-06 counts 1.0 as an integer.
    """

    action: str
    kind: Literal["request", "response"]
    type_name: str
    file: str
    integral_floats: bool


class ActionDef(Node, kw_only=True):
    """One action: its messages, who initiates it, whether it is a SEND, and the spec citation.

    ``initiator`` is "ChargingStation", "CSMS" or "Both"; ``response`` is None for a SEND.
    """

    name: str
    initiator: str
    send: bool
    cite: str
    request: str
    response: str | None
    integral_floats: bool
    method: str = ""
    constant: str = ""


class VersionIR(Node, kw_only=True):
    """Everything generated for one OCPP version."""

    key: str
    version: str
    subprotocol: str
    schema_digest: str
    enums: tuple[EnumDef, ...]
    structs: tuple[StructDef, ...]
    messages: tuple[Message, ...]
    actions: tuple[ActionDef, ...] = ()
