"""The station side of the 2.0.1 / 2.1 device model: a store that answers the CSMS per Part 2.

Theory of operation
-------------------
A station declares the component-variables it implements (:class:`VariableSpec`, most easily
with :func:`declare` from a generated constant such as ``v201.devicemodel.OCPPCommCtrlr.
HeartbeatInterval``, which brings the standardized data type, unit and mutability) and gives
them to a :class:`DeviceModel`. The model keeps one value per (variable, attribute type); the
values of persistent variables are written to a :class:`~.values.ValueStore` (SQLite by
default) and survive a restart, while the definitions stay in the station's code.

The CSMS's requests are answered by four methods a handler returns from, each typed by the
route it is given (the version's ``routing.GET_VARIABLES`` etc.)::

    async def on_get_variables(self, request, context):
        return model.answer_get_variables(routing.GET_VARIABLES, request, context)

The rules they follow (Part 2 of 2.0.1 and 2.1, the same ids in both):

GetVariables (B06)
    one result per item, same component/variable/attributeType, Actual when none was asked
    (FR.01-04, FR.11); UnknownComponent / UnknownVariable / NotSupportedAttributeType without a
    value (FR.06-08); a WriteOnly or secret variable is Rejected (FR.09); a supported but unset
    attribute is Accepted with "" (FR.13); instances are matched exactly, an absent instance
    only matches a variable without one (FR.14/15); more items than ItemsPerMessage
    [GetVariables] is a CALLERROR OccurrenceConstraintViolation (FR.16), a CALL longer than
    BytesPerMessage[GetVariables] a CALLERROR FormatViolation (FR.17).
SetVariables (B05)
    the same pairing (FR.01-03, FR.12) and unknown statuses (FR.04-06); a value that is not of
    the data type, not in the valuesList, longer than maxLimit (string types) or outside
    minLimit/maxLimit (numbers) is Rejected with a statusInfo (FR.07/08); a ReadOnly variable
    is Rejected (FR.09); else the value is stored (before the answer leaves) and the answer is
    Accepted, or RebootRequired for a variable declared so (FR.10). The same limits as
    GetVariables apply to SetVariables (the spec names the CSMS's duty, B05.FR.11; the station
    answers as B06.FR.16/17 do).
GetBaseReport (B07) and GetReport (B08)
    Accepted (or NotSupported / EmptyResultSet, B07.FR.02, B08.FR.15) and, once the answer is
    on the wire (``after_response``), the report as NotifyReport CALLs with the request's
    requestId, seqNo from 0 and tbc on every part but the last (B07.FR.03/04/10, B08.FR.03/04/14),
    each part within ``report_items`` and ``report_bytes`` (the whole CALL frame). Every
    supported attribute is reported, unset ones without a value (B07.FR.11), with the variable's
    characteristics (B08.FR.12); WriteOnly and secret values are never reported. GetReport
    filters by componentCriteria (OR, B08.FR.07-10/13) and componentVariable (B08.FR.11,
    FR.20-25), both when both are given (B08.FR.05); too many componentVariable items or too
    many bytes are answered as B08.FR.17/18 say.

The station's own code reads typed values (``integer``, ``boolean``, ``decimal``, ``text``),
sets read-only values it measures (``set``), is told of changes (``watch``), and takes its
link settings from the model: :meth:`DeviceModel.station_options` (heartbeat, back-off,
queue retries, ping interval) and :meth:`DeviceModel.bind` (a WebSocketPingInterval set by
the CSMS is applied to the live connection). Decision 0018 records the choices.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, TypeVar, Union, cast

import msgspec

from .codes import Failure, code_for
from .config import BackOff
from .routing import CallErrorAnswer
from .values import MemoryValues, ValueStore

if TYPE_CHECKING:
    import enum

    from .client import StationClient
    from .config import StationOptions
    from .routing import CallContext, Route

__all__ = [
    "Attribute",
    "DataType",
    "DeviceModel",
    "Mutability",
    "StandardVariable",
    "VariableKey",
    "VariableSpec",
    "declare",
    "split_by_size",
]

log = logging.getLogger("ocppgen")

Req = TypeVar("Req")
Res = TypeVar("Res")
N = TypeVar("N")
NR = TypeVar("NR")
C = TypeVar("C")
T = TypeVar("T")
H = TypeVar("H")
CC = TypeVar("CC")

DataType = Literal["string", "decimal", "integer", "dateTime", "boolean", "OptionList", "SequenceList", "MemberList"]
"""DataEnumType (Part 2 §2.1.x primitive types of the device model)."""
Mutability = Literal["ReadOnly", "WriteOnly", "ReadWrite"]
Attribute = Literal["Actual", "Target", "MinSet", "MaxSet"]

_DATA_TYPES: frozenset[str] = frozenset(
    ("string", "decimal", "integer", "dateTime", "boolean", "OptionList", "SequenceList", "MemberList")
)
_LISTS = frozenset(("OptionList", "SequenceList", "MemberList"))
_ATTRIBUTES: tuple[Attribute, ...] = ("Actual", "Target", "MinSet", "MaxSet")
_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")


class StandardVariable(Protocol):
    """What :func:`declare` reads of a generated ``devicemodel.ComponentVariable`` constant."""

    @property
    def component(self) -> str | None: ...
    @property
    def variable(self) -> str: ...
    @property
    def instance(self) -> str | None: ...
    @property
    def attribute_types(self) -> tuple[enum.Enum, ...]: ...
    @property
    def data_type(self) -> enum.Enum | None: ...
    @property
    def units(self) -> tuple[str, ...]: ...
    @property
    def mutability(self) -> tuple[enum.Enum, ...]: ...
    @property
    def secret(self) -> bool: ...


class VariableKey(NamedTuple):
    """One component-variable of this station: the component (name, instance, EVSE,
    connector) and the variable (name, instance). None: absent on the wire.

    Attributes:
        component: ComponentType.name.
        variable: VariableType.name.
        component_instance: ComponentType.instance.
        evse: EVSEType.id of the component's EVSE.
        connector: EVSEType.connectorId; only with ``evse``.
        instance: VariableType.instance; matched exactly (B06.FR.14/15).
    """

    component: str
    variable: str
    component_instance: str | None = None
    evse: int | None = None
    connector: int | None = None
    instance: str | None = None

    def __str__(self) -> str:
        where = "".join(
            (
                f"[{self.component_instance}]" if self.component_instance is not None else "",
                f"@EVSE{self.evse}" if self.evse is not None else "",
                f".{self.connector}" if self.connector is not None else "",
            )
        )
        inst = f"[{self.instance}]" if self.instance is not None else ""
        return f"{self.component}{where}.{self.variable}{inst}"


@dataclass(frozen=True, kw_only=True)
class VariableSpec:
    """A component-variable the station implements, with its characteristics (Part 2
    VariableCharacteristicsType, VariableAttributeType). ``value``: the initial Actual value.

    For string, OptionList, SequenceList and MemberList variables ``max_limit`` is the maximum
    length of the value (VariableCharacteristicsType.maxLimit); for numbers, its upper bound.
    ``persistent`` None: persistent unless ReadOnly (a read-only value is the station's to
    set at start-up). ``secret`` values are never read back (B06.FR.09 rejects WriteOnly ones;
    a secret is treated as write-only whatever its mutability).

    Attributes:
        component: The component's name.
        variable: The variable's name.
        component_instance: The component's instance.
        evse: The component's EVSE id.
        connector: The component's connector id; ValueError without ``evse``.
        instance: The variable's instance.
        data_type: DataEnumType: what a value must be (B05.FR.07); ValueError for an
            unknown one.
        mutability: ``ReadOnly`` (SetVariables Rejected, B05.FR.09), ``WriteOnly``
            (GetVariables Rejected, B06.FR.09, never reported) or ``ReadWrite``.
        attributes: The attribute types the variable supports (Actual, Target, MinSet,
            MaxSet; at least one); another is NotSupportedAttributeType (B05.FR.06,
            B06.FR.08).
        unit: VariableCharacteristicsType.unit, reported (B08.FR.12).
        min_limit: The smallest value of a number (B05.FR.08), or the shortest length of a
            string or list (e.g. BasicAuthPassword: 16, A00.FR.205), reported.
        max_limit: The largest value of a number, or the longest value of a string or list
            type (B05.FR.08), reported.
        values_list: The allowed values of an OptionList, the allowed items of a
            SequenceList or MemberList (B05.FR.07), reported.
        reboot_required: SetVariables answers RebootRequired instead of Accepted (B05.FR.10).
        persistent: Whether set values are written to the value store; None: unless ReadOnly.
        constant: The value is the station's own: SetVariables Rejected, a stored value
            ignored at start-up, reported as constant and left out of ConfigurationInventory.
        secret: The value is never read back nor reported.
        supports_monitoring: VariableCharacteristicsType.supportsMonitoring, reported.
        value: The initial Actual value; ValueError when not valid.
    """

    component: str
    variable: str
    component_instance: str | None = None
    evse: int | None = None
    connector: int | None = None
    instance: str | None = None
    data_type: DataType = "string"
    mutability: Mutability = "ReadWrite"
    attributes: tuple[Attribute, ...] = ("Actual",)
    unit: str | None = None
    min_limit: float | None = None
    max_limit: float | None = None
    values_list: tuple[str, ...] = ()
    reboot_required: bool = False
    persistent: bool | None = None
    constant: bool = False
    secret: bool = False
    supports_monitoring: bool = False
    value: str | None = None

    def __post_init__(self) -> None:
        if self.data_type not in _DATA_TYPES:
            raise ValueError(f"{self.key}: unknown data type {self.data_type!r}")
        if not self.attributes or any(a not in _ATTRIBUTES for a in self.attributes):
            raise ValueError(f"{self.key}: attributes must be among {_ATTRIBUTES}")
        if self.connector is not None and self.evse is None:
            raise ValueError(f"{self.key}: a connector needs an EVSE")
        if self.value is not None:
            problem = check_value(self, self.value)
            if problem is not None:
                raise ValueError(f"{self.key}: initial value: {problem}")

    @property
    def key(self) -> VariableKey:
        return VariableKey(self.component, self.variable, self.component_instance, self.evse, self.connector, self.instance)

    @property
    def is_persistent(self) -> bool:
        return self.persistent if self.persistent is not None else self.mutability != "ReadOnly"

    @property
    def readable(self) -> bool:
        """Whether GetVariables and reports may show its value."""
        return self.mutability != "WriteOnly" and not self.secret


def declare(
    standard: StandardVariable,
    value: str | None = None,
    *,
    component: str | None = None,
    component_instance: str | None = None,
    evse: int | None = None,
    connector: int | None = None,
    instance: str | None = None,
    data_type: DataType | None = None,
    mutability: Mutability | None = None,
    attributes: tuple[Attribute, ...] | None = None,
    unit: str | None = None,
    min_limit: float | None = None,
    max_limit: float | None = None,
    values_list: tuple[str, ...] = (),
    reboot_required: bool = False,
    persistent: bool | None = None,
    constant: bool = False,
    supports_monitoring: bool = False,
) -> VariableSpec:
    """A :class:`VariableSpec` from a generated standard constant: its component, variable,
    literal instance, data type (string where the appendix gives none), first unit, mutability
    (the first the text allows, unless ``mutability`` chooses) and secret flag; keyword
    arguments add what only the station knows (EVSE, limits, a placeholder's instance...).

    Args:
        standard: A generated constant such as ``v201.devicemodel.OCPPCommCtrlr.HeartbeatInterval``.
        value: The initial Actual value (:attr:`VariableSpec.value`).
        component: The component's name; required for a generic variable (one the appendix
            gives without a component), ValueError otherwise.
        component_instance: The component's instance.
        evse: The component's EVSE id.
        connector: The component's connector id (needs ``evse``).
        instance: The variable's instance; required when the standard one is a placeholder
            such as ``<Action>``, ValueError otherwise.
        data_type: Overrides the standard data type.
        mutability: One of the mutabilities the specification allows (ValueError otherwise).
        attributes: Overrides the standard attribute types (default: the appendix's, else
            Actual).
        unit: Overrides the first standard unit.
        min_limit: :attr:`VariableSpec.min_limit`.
        max_limit: :attr:`VariableSpec.max_limit`.
        values_list: :attr:`VariableSpec.values_list`.
        reboot_required: :attr:`VariableSpec.reboot_required`.
        persistent: :attr:`VariableSpec.persistent`.
        constant: :attr:`VariableSpec.constant`.
        supports_monitoring: :attr:`VariableSpec.supports_monitoring`.
    """
    name = component or standard.component
    if name is None:
        raise ValueError(f"{standard.variable} is a generic variable: name its component")
    inst = instance
    if inst is None and standard.instance is not None and not standard.instance.startswith("<"):
        inst = standard.instance
    if inst is None and standard.instance is not None:
        raise ValueError(f"{name}.{standard.variable}: give the instance for {standard.instance}")
    dt: DataType = data_type or cast(DataType, str(standard.data_type.value) if standard.data_type is not None else "string")
    allowed = tuple(str(m.value) for m in standard.mutability)
    mut: Mutability = mutability or cast(Mutability, allowed[0] if allowed else "ReadWrite")
    if mutability is not None and allowed and mutability not in allowed:
        raise ValueError(f"{name}.{standard.variable}: the specification allows {allowed}, not {mutability}")
    attrs: tuple[Attribute, ...] = attributes or cast("tuple[Attribute, ...]", tuple(str(a.value) for a in standard.attribute_types)) or ("Actual",)
    return VariableSpec(
        component=name,
        variable=standard.variable,
        component_instance=component_instance,
        evse=evse,
        connector=connector,
        instance=inst,
        data_type=dt,  # checked in __post_init__
        mutability=mut,
        attributes=attrs,  # checked in __post_init__
        unit=unit or (standard.units[0] if standard.units else None),
        min_limit=min_limit,
        max_limit=max_limit,
        values_list=values_list,
        reboot_required=reboot_required,
        persistent=persistent,
        constant=constant,
        secret=standard.secret,
        supports_monitoring=supports_monitoring,
        value=value,
    )


def check_value(spec: VariableSpec, value: str) -> str | None:
    """Why ``value`` is not valid for ``spec`` (data type, valuesList, limits), or None."""
    dt = spec.data_type
    if dt == "integer":
        if not _INTEGER.match(value):
            return f"{value!r} is not an integer"
        return _in_range(spec, int(value))
    if dt == "decimal":
        if not _DECIMAL.match(value):
            return f"{value!r} is not a decimal"
        number = float(value)
        if not math.isfinite(number):
            return f"{value!r} is not a finite decimal"
        return _in_range(spec, number)
    if dt == "boolean":
        return None if value in ("true", "false") else f"{value!r} is not true or false"
    if dt == "dateTime":
        try:
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not an RFC 3339 date-time"
        return None if parsed.tzinfo is not None else f"{value!r} has no time zone"
    # a string's (or list's) limits are lengths (Part 2, VariableCharacteristicsType minLimit/maxLimit)
    if spec.min_limit is not None and len(value) < spec.min_limit:
        return f"shorter than {spec.min_limit:g} characters"
    if spec.max_limit is not None and len(value) > spec.max_limit:
        return f"longer than {spec.max_limit:g} characters"
    if dt in _LISTS and spec.values_list:
        items = value.split(",") if value else []
        if dt == "OptionList":
            return None if value in spec.values_list else f"{value!r} is not one of {','.join(spec.values_list)}"
        unknown = [i for i in items if i not in spec.values_list]
        if unknown:
            return f"{','.join(unknown)} not in {','.join(spec.values_list)}"
        if len(set(items)) != len(items):
            return "an item is listed twice"
    return None


def _in_range(spec: VariableSpec, number: float) -> str | None:
    if spec.min_limit is not None and number < spec.min_limit:
        return f"below the minimum {spec.min_limit:g}"
    if spec.max_limit is not None and number > spec.max_limit:
        return f"above the maximum {spec.max_limit:g}"
    return None


def _persist_key(key: VariableKey, attribute: str) -> str:
    return msgspec.json.encode([*key, attribute]).decode()


Ref = Union[VariableSpec, VariableKey, StandardVariable]


# -- reading requests (as their JSON shape: the same code serves 2.0.1 and 2.1) ---------------


class _Component(NamedTuple):
    name: str
    instance: str | None
    evse: int | None
    connector: int | None


def _component(raw: Mapping[str, object]) -> _Component:
    evse = raw.get("evse")
    evse_id = connector = None
    if isinstance(evse, dict):
        evse_id = evse.get("id")
        connector = evse.get("connectorId")
    inst = raw.get("instance")
    return _Component(
        str(raw["name"]),
        inst if isinstance(inst, str) and inst else None,  # "" is no instance (B06.FR.15)
        evse_id if isinstance(evse_id, int) else None,
        connector if isinstance(connector, int) else None,
    )


def _wire_component(key: VariableKey) -> dict[str, object]:
    out: dict[str, object] = {"name": key.component}
    if key.component_instance is not None:
        out["instance"] = key.component_instance
    if key.evse is not None:
        evse: dict[str, object] = {"id": key.evse}
        if key.connector is not None:
            evse["connectorId"] = key.connector
        out["evse"] = evse
    return out


def _wire_variable(key: VariableKey) -> dict[str, object]:
    out: dict[str, object] = {"name": key.variable}
    if key.instance is not None:
        out["instance"] = key.instance
    return out


def _reason(problem: str) -> str:
    """The standard reason code (Part 2 appendix, reason codes) of a ``check_value`` problem."""
    if problem.startswith("below"):
        return "ValueTooLow"
    if problem.startswith("above"):
        return "ValueTooHigh"
    return "InvalidValue"


def _status_info(reason: str, detail: str) -> dict[str, str]:
    return {"reasonCode": reason[:20], "additionalInfo": detail[:512]}


def _decode(route: Route[Req, Res], payload: Mapping[str, object]) -> Res:
    codec = route.response_codec
    if codec is None:
        raise TypeError(f"{route.action} has no response")
    return codec.decode(msgspec.json.encode(payload))


def _frame_size(context: CallContext[C], payload: bytes) -> int:
    """Bytes of the CALL frame [2,"id","Action",payload] as it is on the wire (re-encoded:
    insignificant whitespace the peer sent is not counted)."""
    prefix = msgspec.json.encode([2, context.message_id, context.action])
    return len(prefix) + len(payload) + 1  # "]" of the prefix becomes ",", plus the closing "]"


def split_by_size(
    items: Sequence[T],
    *,
    max_items: int | None,
    max_bytes: int | None,
    size: Callable[[T], int],
    overhead: int,
) -> list[list[T]]:
    """Cut ``items`` into consecutive batches of at most ``max_items`` items whose encoded
    size (``overhead`` plus each item's ``size`` plus a comma between two items) is at most
    ``max_bytes``. An item too large on its own still gets a batch of its own (the caller
    decides what to do with it)."""
    batches: list[list[T]] = []
    current: list[T] = []
    used = overhead
    for item in items:
        cost = size(item) + (1 if current else 0)
        full = (max_items is not None and len(current) >= max_items) or (
            max_bytes is not None and current and used + cost > max_bytes
        )
        if full:
            batches.append(current)
            current, used, cost = [], overhead, size(item)
        current.append(item)
        used += cost
    if current:
        batches.append(current)
    return batches



def _wire(encoded: bytes) -> dict[str, Any]:
    """A request as its wire JSON (the route's codec encodes open objects such as customData,
    with their extension members, which ``msgspec.to_builtins`` cannot)."""
    raw: dict[str, Any] = msgspec.json.decode(encoded)
    return raw

class DeviceModel:
    """A station's device model (2.0.1 or 2.1): definitions from the station's code, values
    persisted in ``values`` (:class:`~.values.SqliteValues` for a file; memory by default).

    ``report_items`` / ``report_bytes``: the most ReportData items and bytes (of the whole
    NotifyReport CALL frame) per NotifyReport; None: the station's own
    ItemsPerMessage[GetReport] / BytesPerMessage[GetReport] values, if declared.

    Args:
        variables: The component-variables the station implements (ValueError when one is
            declared twice). Stored values of persistent, non-constant variables that are
            still valid replace the declared initial values.
        values: Where set values of persistent variables are kept; None: memory only.
        report_items: The most ReportData items per NotifyReport.
        report_bytes: The longest NotifyReport CALL frame, in bytes.
        report_timeout: Seconds to wait for the CSMS's answer to each NotifyReport part;
            None: no limit.
    """

    def __init__(
        self,
        variables: Iterable[VariableSpec],
        *,
        values: ValueStore | None = None,
        report_items: int | None = None,
        report_bytes: int | None = None,
        report_timeout: float | None = 30.0,
    ) -> None:
        self._specs: dict[VariableKey, VariableSpec] = {}
        for spec in variables:
            if spec.key in self._specs:
                raise ValueError(f"{spec.key} declared twice")
            self._specs[spec.key] = spec
        self._components = {_Component(k.component, k.component_instance, k.evse, k.connector) for k in self._specs}
        self._store: ValueStore = values if values is not None else MemoryValues()
        self._values: dict[tuple[VariableKey, str], str] = {}
        self._watchers: dict[VariableKey, list[Callable[[str], object]]] = {}
        self.report_items = report_items
        self.report_bytes = report_bytes
        self.report_timeout = report_timeout
        for spec in self._specs.values():
            if spec.value is not None:
                self._values[(spec.key, "Actual")] = spec.value
        self._load()

    def _load(self) -> None:
        for raw, value in self._store.load().items():
            try:
                parts = msgspec.json.decode(raw)
                key, attribute = VariableKey(*parts[:6]), str(parts[6])
            except (msgspec.DecodeError, TypeError, IndexError):
                continue
            spec = self._specs.get(key)
            if spec is None or not spec.is_persistent or attribute not in spec.attributes or spec.constant:
                continue  # no longer declared, or now the station's own: the code's value wins
            if check_value(spec, value) is None:
                self._values[(key, attribute)] = value

    # -- the station's own code ------------------------------------------------------------

    @property
    def variables(self) -> Mapping[VariableKey, VariableSpec]:
        """Every declared component-variable."""
        return self._specs

    def key(
        self,
        ref: Ref,
        *,
        component_instance: str | None = None,
        evse: int | None = None,
        connector: int | None = None,
        instance: str | None = None,
    ) -> VariableKey:
        """The key of a declared variable: a spec, a key, or a standard constant (with the
        EVSE, connector or instances that tell which one); KeyError if it is not declared.

        Args:
            ref: A :class:`VariableSpec`, a :class:`VariableKey` or a generated standard
                constant (not a generic one: pass a key for those).
            component_instance: With a standard constant: the component's instance.
            evse: With a standard constant: the component's EVSE id.
            connector: With a standard constant: the component's connector id.
            instance: With a standard constant: the variable's instance (default: the
                constant's literal instance).
        """
        if isinstance(ref, VariableSpec):
            key = ref.key
        elif isinstance(ref, VariableKey):
            key = ref
        elif ref.component is None:
            raise KeyError(f"{ref.variable}: a generic variable; pass a VariableKey")
        else:
            inst = instance if instance is not None else (ref.instance if ref.instance and not ref.instance.startswith("<") else None)
            key = VariableKey(ref.component, ref.variable, component_instance, evse, connector, inst)
        if key not in self._specs:
            raise KeyError(f"{key} is not declared")
        return key

    def spec(self, ref: Ref) -> VariableSpec:
        """The declaration of a variable.

        Args:
            ref: As for :meth:`key`.
        """
        return self._specs[self.key(ref)]

    def get(self, ref: Ref, attribute: Attribute = "Actual") -> str | None:
        """The value (any mutability: this is the station's own read), None when unset.

        Args:
            ref: As for :meth:`key`.
            attribute: The attribute type whose value is read.
        """
        return self._values.get((self.key(ref), attribute))

    def text(self, ref: Ref, default: str | None = None) -> str | None:
        """The Actual value as text.

        Args:
            ref: As for :meth:`key`.
            default: Returned when the value is unset.
        """
        value = self.get(ref)
        return default if value is None else value

    def integer(self, ref: Ref, default: int | None = None) -> int | None:
        """The Actual value as an integer.

        Args:
            ref: As for :meth:`key`.
            default: Returned when the value is unset or not of the type.
        """
        value = self.get(ref)
        return default if value is None or not _INTEGER.match(value) else int(value)

    def decimal(self, ref: Ref, default: float | None = None) -> float | None:
        """The Actual value as a decimal.

        Args:
            ref: As for :meth:`key`.
            default: Returned when the value is unset or not of the type.
        """
        value = self.get(ref)
        return default if value is None or not _DECIMAL.match(value) else float(value)

    def boolean(self, ref: Ref, default: bool | None = None) -> bool | None:
        """The Actual value as a boolean (``true``/``false``).

        Args:
            ref: As for :meth:`key`.
            default: Returned when the value is unset or not of the type.
        """
        value = self.get(ref)
        return default if value not in ("true", "false") else value == "true"

    def set(self, ref: Ref, value: str, attribute: Attribute = "Actual") -> None:
        """Set a value from the station's own code (any mutability, e.g. a measured read-only
        value, or HeartbeatInterval from a BootNotification answer); ValueError if invalid.

        Args:
            ref: As for :meth:`key`.
            value: The new value, checked against the data type, valuesList and limits;
                stored (when persistent) before the watchers are called.
            attribute: The attribute type set (ValueError when the variable lacks it);
                watchers hear of Actual only.
        """
        key = self.key(ref)
        spec = self._specs[key]
        if attribute not in spec.attributes:
            raise ValueError(f"{key} has no {attribute} attribute")
        problem = check_value(spec, value)
        if problem is not None:
            raise ValueError(f"{key}: {problem}")
        self._store_value(spec, attribute, value)

    def watch(self, ref: Ref, callback: Callable[[str], object]) -> None:
        """Call ``callback(new_value)`` whenever the Actual value of ``ref`` is set (by the CSMS
        or the station's code)."""
        self._watchers.setdefault(self.key(ref), []).append(callback)

    def _store_value(self, spec: VariableSpec, attribute: str, value: str) -> None:
        if spec.is_persistent:
            self._store.save(_persist_key(spec.key, attribute), value)
        self._values[(spec.key, attribute)] = value
        if attribute == "Actual":
            for callback in self._watchers.get(spec.key, ()):
                try:
                    callback(value)
                except Exception:  # a watcher's bug must not undo an accepted value
                    log.exception("device model: watcher of %s failed", spec.key)

    # -- the link settings ------------------------------------------------------------------

    def _comm(self, variable: str, instance: str | None = None) -> int | None:
        spec = self._specs.get(VariableKey("OCPPCommCtrlr", variable, instance=instance))
        if spec is None:
            return None
        value = self._values.get((spec.key, "Actual"))
        return int(value) if value is not None and _INTEGER.match(value) else None

    def heartbeat_interval(self, default: int = 300) -> int:
        """OCPPCommCtrlr.HeartbeatInterval (seconds).

        Args:
            default: Returned when the variable is not declared or has no integer value.
        """
        found = self._comm("HeartbeatInterval")
        return default if found is None else found

    def ping_interval(self) -> int | None:
        """OCPPCommCtrlr.WebSocketPingInterval (seconds; 0: no pings; None: not declared)."""
        return self._comm("WebSocketPingInterval")

    def backoff(self, default: BackOff = BackOff()) -> BackOff:
        """The reconnect back-off from RetryBackOffWaitMinimum/RandomRange/RepeatTimes.

        Args:
            default: Where each of the three is not declared or unset, its value here.
        """
        wait, spread, times = (self._comm(n) for n in ("RetryBackOffWaitMinimum", "RetryBackOffRandomRange", "RetryBackOffRepeatTimes"))
        return BackOff(
            default.wait_minimum if wait is None else wait,
            default.random_range if spread is None else spread,
            default.repeat_times if times is None else times,
        )

    def station_options(self, base: StationOptions) -> StationOptions:
        """``base`` with the back-off, the ping interval and the TransactionEvent retries
        (MessageAttempts/MessageAttemptInterval[TransactionEvent]) taken from the model."""
        attempts = self._comm("MessageAttempts", "TransactionEvent")
        interval = self._comm("MessageAttemptInterval", "TransactionEvent")
        ping = self.ping_interval()
        return dataclasses.replace(
            base,
            backoff=self.backoff(base.backoff),
            ping_interval=base.ping_interval if ping is None else (ping or None),
            queue_attempts=base.queue_attempts if attempts is None else attempts,
            queue_interval=base.queue_interval if interval is None else float(interval),
        )

    def bind(self, client: StationClient[H, CC]) -> None:
        """Apply a WebSocketPingInterval set later (by the CSMS) to ``client``'s live link."""
        spec = self._specs.get(VariableKey("OCPPCommCtrlr", "WebSocketPingInterval"))
        if spec is not None:
            self.watch(spec, lambda value: client.set_ping_interval(int(value)))

    # -- GetVariables / SetVariables (B06 / B05) ---------------------------------------------

    def _find(self, component: _Component, variable: str, instance: str | None) -> tuple[str, VariableSpec | None]:
        if component not in self._components:
            return "UnknownComponent", None
        key = VariableKey(component.name, variable, component.instance, component.evse, component.connector, instance)
        spec = self._specs.get(key)
        return ("Accepted", spec) if spec is not None else ("UnknownVariable", None)

    def _limit(self, variable: str, instance: str) -> int | None:
        spec = self._specs.get(VariableKey("DeviceDataCtrlr", variable, instance=instance))
        value = self._values.get((spec.key, "Actual")) if spec is not None else None
        return int(value) if value is not None and _INTEGER.match(value) and int(value) > 0 else None

    def _check_limits(self, action: str, count: int, what: str, context: CallContext[C], payload: bytes, rules: tuple[str, str]) -> None:
        version = context.session.version or "2.0.1"
        items = self._limit("ItemsPerMessage", action)
        if items is not None and count > items:
            code = code_for(Failure.TOO_MANY_ITEMS, version)  # OccurrenceConstraintViolation
            raise CallErrorAnswer(code, f"{count} {what} items, ItemsPerMessage{action} is {items} ({rules[0]})")
        limit = self._limit("BytesPerMessage", action)
        if limit is not None and (size := _frame_size(context, payload)) > limit:
            code = code_for(Failure.TOO_MANY_BYTES, version)  # FormatViolation
            raise CallErrorAnswer(code, f"{size} bytes, BytesPerMessage{action} is {limit} ({rules[1]})")

    def answer_get_variables(self, route: Route[Req, Res], request: Req, context: CallContext[C]) -> Res:
        """The GetVariablesResponse to ``request`` (B06); raises the version's CALLERROR for a
        request over ItemsPerMessage / BytesPerMessage [GetVariables] (B06.FR.16/17).

        Args:
            route: The version's ``routing.GET_VARIABLES`` (TypeError for another).
            request: The GetVariablesRequest.
            context: The handler's call context (its session's version chooses the
                CALLERROR code; its frame is measured against BytesPerMessage).
        """
        _expect(route, "GetVariables")
        encoded = route.request_codec.encode(request)
        raw = _wire(encoded)
        data: list[dict[str, object]] = raw["getVariableData"]
        self._check_limits("GetVariables", len(data), "getVariableData", context, encoded, ("B06.FR.16", "B06.FR.17"))
        return _decode(route, {"getVariableResult": [self._get_one(item) for item in data]})

    def _get_one(self, item: Mapping[str, object]) -> dict[str, object]:
        component = item["component"]
        variable = item["variable"]
        assert isinstance(component, dict) and isinstance(variable, dict)
        attribute = str(item.get("attributeType", "Actual"))
        result: dict[str, object] = {"component": component, "variable": variable, "attributeType": attribute}
        inst = variable.get("instance")
        status, spec = self._find(_component(component), str(variable["name"]), inst if isinstance(inst, str) and inst else None)
        if spec is None:
            result["attributeStatus"] = status  # B06.FR.06/07/15: no value
        elif attribute not in spec.attributes:
            result["attributeStatus"] = "NotSupportedAttributeType"  # B06.FR.08
        elif not spec.readable:
            result["attributeStatus"] = "Rejected"  # B06.FR.09
            result["attributeStatusInfo"] = _status_info("WriteOnly", "the value of this variable cannot be read")
        else:
            result["attributeStatus"] = "Accepted"  # B06.FR.10, FR.13: "" when unset
            result["attributeValue"] = self._values.get((spec.key, attribute), "")[:2500]
        return result

    def answer_set_variables(self, route: Route[Req, Res], request: Req, context: CallContext[C]) -> Res:
        """The SetVariablesResponse to ``request`` (B05), each accepted value stored first.

        Args:
            route: The version's ``routing.SET_VARIABLES`` (TypeError for another).
            request: The SetVariablesRequest.
            context: The handler's call context (as for :meth:`answer_get_variables`: the
                ItemsPerMessage / BytesPerMessage [SetVariables] limits apply, B05.FR.11).
        """
        _expect(route, "SetVariables")
        encoded = route.request_codec.encode(request)
        raw = _wire(encoded)
        data: list[dict[str, object]] = raw["setVariableData"]
        self._check_limits("SetVariables", len(data), "setVariableData", context, encoded, ("B05.FR.11", "B05.FR.11"))
        return _decode(route, {"setVariableResult": [self._set_one(item) for item in data]})

    def _set_one(self, item: Mapping[str, object]) -> dict[str, object]:
        component = item["component"]
        variable = item["variable"]
        assert isinstance(component, dict) and isinstance(variable, dict)
        attribute = str(item.get("attributeType", "Actual"))
        value = str(item["attributeValue"])
        result: dict[str, object] = {"component": component, "variable": variable, "attributeType": attribute}
        inst = variable.get("instance")
        status, spec = self._find(_component(component), str(variable["name"]), inst if isinstance(inst, str) and inst else None)
        if spec is None:
            result["attributeStatus"] = status  # B05.FR.04/05
            return result
        if attribute not in spec.attributes:
            result["attributeStatus"] = "NotSupportedAttributeType"  # B05.FR.06
            return result
        problem = check_value(spec, value)
        if problem is not None:  # B05.FR.07/08
            result["attributeStatus"] = "Rejected"
            result["attributeStatusInfo"] = _status_info(_reason(problem), problem)
            return result
        if spec.mutability == "ReadOnly" or spec.constant:  # B05.FR.09
            result["attributeStatus"] = "Rejected"
            result["attributeStatusInfo"] = _status_info("ReadOnly", "this variable cannot be set")
            return result
        try:
            self._store_value(spec, attribute, value)
        except Exception as exc:  # B05.FR.09: setting failed for a technical reason
            log.exception("device model: storing %s failed", spec.key)
            result["attributeStatus"] = "Rejected"
            result["attributeStatusInfo"] = _status_info("InternalError", type(exc).__name__)
            return result
        result["attributeStatus"] = "RebootRequired" if spec.reboot_required else "Accepted"  # B05.FR.10
        return result

    # -- reports (B07 / B08) ----------------------------------------------------------------

    def report_data(self, keys: Iterable[VariableKey] | None = None) -> list[dict[str, object]]:
        """ReportData items (JSON shape) of ``keys`` (default: every variable), in declaration
        order: every supported attribute, values left out where unset or unreadable (B07.FR.11),
        with characteristics (B08.FR.12)."""
        wanted = self._specs.values() if keys is None else [self._specs[k] for k in keys]
        return [self._report_item(spec) for spec in wanted]

    def _report_item(self, spec: VariableSpec) -> dict[str, object]:
        attributes = []
        for attribute in spec.attributes:
            entry: dict[str, object] = {
                "type": attribute,
                "mutability": spec.mutability,
                "persistent": spec.is_persistent,
                "constant": spec.constant,
            }
            value = self._values.get((spec.key, attribute))
            if value is not None and spec.readable:
                entry["value"] = value[:2500]
            attributes.append(entry)
        characteristics: dict[str, object] = {"dataType": spec.data_type, "supportsMonitoring": spec.supports_monitoring}
        if spec.unit is not None:
            characteristics["unit"] = spec.unit
        if spec.min_limit is not None:
            characteristics["minLimit"] = spec.min_limit
        if spec.max_limit is not None:
            characteristics["maxLimit"] = spec.max_limit
        if spec.values_list:
            characteristics["valuesList"] = ",".join(spec.values_list)[:1000]
        return {
            "component": _wire_component(spec.key),
            "variable": _wire_variable(spec.key),
            "variableAttribute": attributes,
            "variableCharacteristics": characteristics,
        }

    def base_report_keys(self, report_base: str) -> list[VariableKey] | None:
        """The variables of a base report (B07.FR.07-09); None: not a base report we make.

        Args:
            report_base: ``FullInventory`` (every variable), ``ConfigurationInventory``
                (neither ReadOnly nor constant) or ``SummaryInventory`` (every AvailabilityState,
                and Problem, Tripped, Overload, Fallback and Active of the components where
                one of the first four is true).
        """
        if report_base == "FullInventory":
            return list(self._specs)
        if report_base == "ConfigurationInventory":  # what the operator can set
            return [k for k, s in self._specs.items() if s.mutability != "ReadOnly" and not s.constant]
        if report_base == "SummaryInventory":  # availability, and components in an abnormal state
            abnormal = {
                _Component(k.component, k.component_instance, k.evse, k.connector)
                for k, s in self._specs.items()
                if k.variable in ("Problem", "Tripped", "Overload", "Fallback") and self._values.get((k, "Actual")) == "true"
            }
            return [
                k
                for k in self._specs
                if k.variable == "AvailabilityState"
                or (
                    _Component(k.component, k.component_instance, k.evse, k.connector) in abnormal
                    and k.variable in ("Problem", "Tripped", "Overload", "Fallback", "Active")
                )
            ]
        return None

    def report_keys(self, criteria: Sequence[str], component_variables: Sequence[Mapping[str, object]]) -> list[VariableKey]:
        """The variables GetReport asks for (B08.FR.05-13, FR.20-25).

        Args:
            criteria: componentCriteria (Active, Available, Enabled, Problem): a component
                meeting any of them is reported (B08.FR.07-10, FR.13); empty: every component.
            component_variables: componentVariable items (JSON shape) selecting variables
                (B08.FR.11, FR.20-25); empty: every variable. Both given: both apply (B08.FR.05).
        """
        keys = list(self._specs)
        if criteria:
            chosen = {c for c in self._components if any(self._meets(c, criterion) for criterion in criteria)}
            keys = [k for k in keys if _Component(k.component, k.component_instance, k.evse, k.connector) in chosen]
        if component_variables:
            keys = [k for k in keys if any(_matches(k, cv) for cv in component_variables)]
        return keys

    def _meets(self, component: _Component, criterion: str) -> bool:
        def value(name: str) -> str | None:
            key = VariableKey(component.name, name, component.instance, component.evse, component.connector)
            return self._values.get((key, "Actual")) if key in self._specs else None

        if criterion in ("Active", "Available", "Enabled"):  # B08.FR.07-09: true, or no such variable
            found = value(criterion)
            return found is None or found == "true"
        if criterion == "Problem":  # B08.FR.10
            return value("Problem") == "true"
        return False

    def answer_get_base_report(
        self, route: Route[Req, Res], request: Req, context: CallContext[C], notify: Route[N, NR]
    ) -> Res:
        """The GetBaseReportResponse (B07.FR.01/02); when Accepted, the report follows as
        NotifyReport CALLs (``notify``: the version's ``routing.NOTIFY_REPORT``) once the
        answer is on the wire.

        Args:
            route: The version's ``routing.GET_BASE_REPORT`` (TypeError for another).
            request: The GetBaseReportRequest: its reportBase and requestId.
            context: The handler's call context: its session receives the report, after the
                answer.
            notify: The version's ``routing.NOTIFY_REPORT``.
        """
        _expect(route, "GetBaseReport")
        raw = _wire(route.request_codec.encode(request))
        keys = self.base_report_keys(str(raw["reportBase"]))
        if keys is None:
            return _decode(route, {"status": "NotSupported"})  # B07.FR.02, FR.05
        self._schedule(context, notify, int(raw["requestId"]), keys)
        return _decode(route, {"status": "Accepted"})

    def answer_get_report(self, route: Route[Req, Res], request: Req, context: CallContext[C], notify: Route[N, NR]) -> Res:
        """The GetReportResponse (B08.FR.01/02/15, limits B08.FR.17/18); when Accepted, the
        report follows as NotifyReport CALLs once the answer is on the wire.

        Args:
            route: The version's ``routing.GET_REPORT`` (TypeError for another).
            request: The GetReportRequest: requestId, componentCriteria, componentVariable.
            context: The handler's call context: the limits are checked against it
                (B08.FR.17/18) and its session receives the report.
            notify: The version's ``routing.NOTIFY_REPORT``.
        """
        _expect(route, "GetReport")
        encoded = route.request_codec.encode(request)
        raw = _wire(encoded)
        criteria = [str(c) for c in raw.get("componentCriteria", [])]
        cvs = [cv for cv in raw.get("componentVariable", []) if isinstance(cv, dict)]
        self._check_limits("GetReport", len(cvs), "componentVariable", context, encoded, ("B08.FR.17", "B08.FR.18"))
        if any(c not in ("Active", "Available", "Enabled", "Problem") for c in criteria):
            return _decode(route, {"status": "NotSupported"})  # B08.FR.02
        keys = self.report_keys(criteria, cvs)
        if not keys:
            return _decode(route, {"status": "EmptyResultSet"})  # B08.FR.15
        self._schedule(context, notify, int(raw["requestId"]), keys)
        return _decode(route, {"status": "Accepted"})

    def notify_report_requests(
        self, notify: Route[N, NR], request_id: int, keys: Sequence[VariableKey] | None = None, *, generated_at: datetime.datetime | None = None
    ) -> list[N]:
        """The report of ``keys`` as NotifyReport requests: seqNo from 0, tbc on all but the
        last (B07.FR.10, B08.FR.14), each CALL frame within ``report_items`` /
        ``report_bytes`` (an item larger than the byte limit on its own is sent alone).

        Args:
            notify: The version's ``routing.NOTIFY_REPORT``, whose codec builds the requests.
            request_id: The requestId of the GetBaseReport / GetReport being answered.
            keys: The variables to report; None: every one.
            generated_at: The generatedAt of every part (whole seconds); None: now, in UTC.
        """
        items = self.report_data(keys)
        at = (generated_at or datetime.datetime.now(datetime.timezone.utc)).replace(microsecond=0)
        stamp = at.isoformat().replace("+00:00", "Z")
        max_items = self.report_items if self.report_items is not None else self._limit("ItemsPerMessage", "GetReport")
        max_bytes = self.report_bytes if self.report_bytes is not None else self._limit("BytesPerMessage", "GetReport")
        # the frame with no items and the longest envelope values: [2,"<36>","NotifyReport",{...,"reportData":[]}]
        envelope = {"requestId": request_id, "generatedAt": stamp, "seqNo": 2**31, "tbc": True, "reportData": []}
        overhead = len(msgspec.json.encode([2, "x" * 36, "NotifyReport", envelope]))
        encoded = [msgspec.json.encode(item) for item in items]
        sizes = {id(item): len(e) for item, e in zip(items, encoded)}
        batches = split_by_size(items, max_items=max_items, max_bytes=max_bytes, size=lambda i: sizes[id(i)], overhead=overhead)
        if not batches:
            batches = [[]]
        out: list[N] = []
        for seq, batch in enumerate(batches):
            payload: dict[str, object] = {"requestId": request_id, "generatedAt": stamp, "seqNo": seq}
            if seq < len(batches) - 1:
                payload["tbc"] = True
            if batch:
                payload["reportData"] = batch
            out.append(notify.request_codec.decode(msgspec.json.encode(payload)))
        return out

    def _schedule(self, context: CallContext[C], notify: Route[N, NR], request_id: int, keys: Sequence[VariableKey]) -> None:
        requests = self.notify_report_requests(notify, request_id, keys)
        session = context.session
        timeout = self.report_timeout

        async def send() -> None:
            for message in requests:
                await session.call(notify, message, timeout)

        context.after_response(send)


def _expect(route: Route[Req, Res], action: str) -> None:
    if route.action != action:
        raise TypeError(f"expected the {action} route, got {route.action}")


def _matches(key: VariableKey, cv: Mapping[str, object]) -> bool:
    """Whether ``key`` is selected by a GetReport componentVariable (B08.FR.20-25)."""
    raw = cv.get("component")
    if not isinstance(raw, dict):
        return False
    component = _component(raw)
    if component.name != key.component:
        return False
    if component.instance is not None and component.instance != key.component_instance:  # FR.24/25
        return False
    if component.evse is not None and component.evse != key.evse:  # FR.22/23
        return False
    if component.connector is not None and component.connector != key.connector:
        return False
    variable = cv.get("variable")
    if isinstance(variable, dict):  # FR.20: absent means every variable
        if variable.get("name") != key.variable:
            return False
        inst = variable.get("instance")
        if isinstance(inst, str) and inst != key.instance:  # FR.21
            return False
    return True
