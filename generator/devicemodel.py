"""The device-model tables: the row types of the reviewed data files and the rules that type them.

The facts come from the OCA's appendix tables (CSV) and Part 2 / Part 4 of each version; they
live in reviewed data files, one per version (``devicemodel_v201.py``, ``devicemodel_v21.py``,
``configuration_v16.py``). A data row keeps the appendix's own text (stripped), so a reviewer
can hold it against the CSV row; the few rules that turn that text into typed values are here,
and a value that deviates from its appendix row says why in the row's ``judged`` field.

``render_tables`` turns them into ``devicemodel.py`` (2.0.1, 2.1) or ``configuration.py`` (1.6)
of each version: typed constants, no description text (the appendices are CC BY-ND; docstrings
cite them).
"""

from __future__ import annotations

import builtins
import keyword
import re
from typing import NamedTuple

from .diagnostics import BuildError, Diagnostic

__all__ = [
    "Cv",
    "Event",
    "Key",
    "Reason",
    "Signing",
    "Var",
    "attribute_split",
    "check_names",
    "constant_name",
    "data_type",
    "is_placeholder",
    "mutability",
    "units",
]


class Cv(NamedTuple):
    """One component-variable row, as the appendix spells it (fields stripped).

    ``component`` is "<generic>" for the rows any component may carry. ``required`` is the
    appendix's word ("yes", "no", or 2.1's "V2X": required where V2X is supported). ``unit``
    lists alternatives as the appendix does ("Wh, kWh"). ``mutability`` is a code ("RO", "WO",
    "RW", or alternatives the station chooses between, "RO/RW", in the order the source gives),
    empty where no source states one; ``cite`` says where it is stated. ``judged`` is empty, or
    says which value deviates from the appendix row and why.
    """

    component: str
    variable: str
    instance: str
    required: str
    data_type: str
    unit: str
    mutability: str = ""
    cite: str = ""
    judged: str = ""


class Var(NamedTuple):
    """One row of variables.csv: a standardized variable with its data type and unit."""

    name: str
    data_type: str
    unit: str
    judged: str = ""


class Reason(NamedTuple):
    """One reason code (reason_codes.csv); ``group`` is 2.1's group heading, empty in 2.0.1."""

    code: str
    group: str = ""


class Event(NamedTuple):
    """One security event (security_events.csv) and whether the appendix marks it critical."""

    name: str
    critical: bool


class Signing(NamedTuple):
    """One signing method of 2.1 (signingmethod.csv) with the facts the appendix lists."""

    name: str
    algorithm: str
    curve: str
    key_length: int
    hash_algorithm: str


class Key(NamedTuple):
    """One OCPP 1.6 configuration key: type, unit, accessibility ("R", "W", "RW", or "R/RW"
    where the charge point chooses), required or optional, feature profile (empty for the
    security whitepaper's keys, which belong to no 1.6 feature profile), and its section."""

    key: str
    type: str
    unit: str
    accessibility: str
    required: bool
    profile: str
    cite: str
    judged: str = ""


_MUTABILITY = {"RO": "ReadOnly", "WO": "WriteOnly", "RW": "ReadWrite"}
_DATA_TYPES = {
    "string": "string",
    "decimal": "decimal",
    "integer": "integer",
    "datetime": "dateTime",
    "boolean": "boolean",
    "optionlist": "OptionList",
    "sequencelist": "SequenceList",
    "memberlist": "MemberList",
    # Part 2 §2.1.4 primitive types: strings with a restricted character set; on the wire the
    # variable's dataType is "string" (Part 2 gives dataType string for BasicAuthPassword).
    "passwordstring": "string",
    "identifierstring": "string",
}
_ATTRIBUTES = {"actual": "Actual", "target": "Target", "minset": "MinSet", "maxset": "MaxSet"}


def mutability(code: str) -> tuple[str, ...]:
    """The MutabilityEnumType values of a code: "RO/RW" -> ("ReadOnly", "ReadWrite"); "" -> ()."""
    return tuple(_MUTABILITY[c] for c in code.split("/")) if code else ()


def data_type(text: str) -> str | None:
    """The DataEnumType value of an appendix data type ("DateTime" -> "dateTime"), or None."""
    if not text:
        return None
    return _DATA_TYPES[text.lower()]


def units(text: str) -> tuple[str, ...]:
    """The units an appendix cell allows: "Wh, kWh" -> ("Wh", "kWh"); "" -> ()."""
    return tuple(u.strip() for u in text.split(",") if u.strip())


def attribute_split(variable: str) -> tuple[str, tuple[str, ...]]:
    """2.1 names some ConnectedEV rows variable.attribute: "ACCurrent.min/maxSet" is the
    variable ACCurrent with its MinSet and MaxSet attributes."""
    if "." not in variable:
        return variable, ()
    name, spec = variable.split(".", 1)
    if spec == "min/maxSet":
        return name, ("MinSet", "MaxSet")
    return name, (_ATTRIBUTES[spec.lower()],)


def is_placeholder(instance: str) -> bool:
    """An instance that stands for many ("<vendorId>", "1, 2 .. 20"), not one literal name."""
    return not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", instance)


def constant_name(variable: str, attributes: tuple[str, ...], instance: str) -> str:
    """The attribute name of a component-variable row inside its component's namespace."""
    parts = [variable, *attributes]
    if instance and not is_placeholder(instance):
        parts.append(instance)
    return "_".join(parts)


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a generated class or constant name, or None."""
    if not name.isidentifier() or keyword.iskeyword(name):
        return "is not a usable Python identifier"
    if hasattr(builtins, name) or name.startswith("_"):
        return "shadows a builtin or is private"
    return None


def check_names(file: str, names: list[tuple[str, str]]) -> None:
    """Fail the build if a (scope, name) pair is unusable or repeats within its scope."""
    problems = []
    seen: set[tuple[str, str]] = set()
    for scope, name in names:
        why = name_problem(name)
        if why is None and (scope, name) in seen:
            why = "is defined twice"
        seen.add((scope, name))
        if why:
            problems.append(
                Diagnostic(level="error", file=file, pointer=f"/{scope}/{name}", message=f"{name} {why}")
            )
    if problems:
        raise BuildError(problems)
