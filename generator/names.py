"""The one owner of Python names: classes, fields, enum members, modules.

Wire names never come from these names: every generated field carries its exact wire name
(``msgspec.field(name=...)``) and every enum member its exact wire value. The conversions here
only have to be readable, deterministic and collision-free, and this module checks all three.
"""

from __future__ import annotations

import builtins
import keyword

__all__ = [
    "RESERVED_CLASS_NAMES",
    "method_name_problem",
    "class_name_problem",
    "enum_member_name",
    "field_name",
]

# Names the generated modules import or define besides the schema types.
RESERVED_CLASS_NAMES = frozenset(
    {"Annotated", "Any", "ClassVar", "Decimal", "Meta", "UNSET", "UnsetType", "annotations", "datetime"}
    | {"enum", "field", "msgspec", "OpenFields", "OpenObject", "Payload", "check_multiple_of", "check_uri"}
)
_ENUM_RESERVED = frozenset({"name", "value", "mro"})


def _identifier(text: str) -> str:
    chars = [c if c.isalnum() or c == "_" else "_" for c in text]
    out = "".join(chars)
    if not out or out[0].isdigit():
        out = "_" + out
    return out


def field_name(wire: str) -> str:
    """snake_case for a camelCase wire name, keeping acronyms whole.

    ``idTag`` -> ``id_tag``, ``EVSEId`` -> ``evse_id``, ``limit_L2`` -> ``limit_l2``,
    ``fixedPF`` -> ``fixed_pf``, ``prioritizedEMAIDs`` -> ``prioritized_emaids``,
    ``iso15118SchemaVersion`` -> ``iso15118_schema_version``.
    """
    out: list[str] = []
    n = len(wire)
    for i, ch in enumerate(wire):
        if ch.isupper():
            prev = wire[i - 1] if i else ""
            nxt = wire[i + 1] if i + 1 < n else ""
            after = wire[i + 2] if i + 2 < n else ""
            plural_s = nxt == "s" and (after == "" or not after.islower())
            acronym_end = prev.isupper() and nxt.islower() and not plural_s
            if prev and prev != "_" and (prev.islower() or prev.isdigit() or acronym_end):
                out.append("_")
            out.append(ch.lower())
        else:
            out.append(ch)
    name = _identifier("".join(out))
    if keyword.iskeyword(name):
        name += "_"
    return name


def enum_member_name(value: str) -> str:
    """A member name that spells the wire value: ``Power.Active.Import`` -> ``Power_Active_Import``."""
    name = _identifier(value)
    if keyword.iskeyword(name) or name in _ENUM_RESERVED or (name.startswith("_") and name.endswith("_")):
        name += "_" if not name.endswith("_") else "x"
    if name.startswith("__"):
        name = "m" + name
    return name


# Attributes the generated handler and client classes define besides one method per action.
_MEMBER_NAMES = frozenset({"ocpp_version", "routes", "handled"})


def method_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a client method (and, prefixed with ``on_``, a handler method)."""
    if not name.isidentifier() or keyword.iskeyword(name):
        return "is not a usable Python identifier"
    if name in _MEMBER_NAMES or name.startswith("_"):
        return "collides with a member of the generated classes"
    return None


def class_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a generated class name, or None."""
    if not name.isidentifier():
        return "is not a Python identifier"
    if keyword.iskeyword(name):
        return "is a Python keyword"
    if name in RESERVED_CLASS_NAMES:
        return "collides with a name the generated modules import"
    if hasattr(builtins, name):
        return "shadows a Python builtin"
    if name.startswith("_"):
        return "starts with an underscore"
    return None
