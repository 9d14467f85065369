"""Rendering of the device-model tables: reviewed data -> ``devicemodel.py`` / ``configuration.py``.

Every name, expression and docstring of the output is decided here; the templates
(``devicemodel.py.jinja``, ``configuration.py.jinja``) only loop. A constant's docstring cites
where its facts come from; no description text of the OCA's documents reaches the output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import ModuleType

from . import configuration_v16, devicemodel_v21, devicemodel_v201
from .devicemodel import (
    Cv,
    attribute_split,
    check_names,
    constant_name,
    data_type,
    mutability,
    units,
)
from .names import enum_member_name
from .render import _banner, _environment, docstring, format_all

__all__ = ["TABLES", "layout", "render_tables", "render_tables_unformatted"]

# version -> (data module, generated module name, template)
TABLES: dict[str, tuple[ModuleType, str, str]] = {
    "1.6": (configuration_v16, "configuration", "configuration.py.jinja"),
    "2.0.1": (devicemodel_v201, "devicemodel", "devicemodel.py.jinja"),
    "2.1": (devicemodel_v21, "devicemodel", "devicemodel.py.jinja"),
}

# Names the generated modules define or import besides their namespaces and tables.
_MODULE_NAMES = (
    "Final",
    "Literal",
    "msgspec",
    "AttributeEnumType",
    "DataEnumType",
    "MutabilityEnumType",
    "Variable",
    "ComponentVariable",
    "ReasonCode",
    "SecurityEvent",
    "SigningMethod",
    "ConfigurationKey",
    "Accessibility",
)


def _s(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _tuple(items: list[str]) -> str:
    if not items:
        return "()"
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _top_level_args(inner: str) -> list[str]:
    """Split call arguments at the commas outside brackets and string literals."""
    args, depth, start, quoted, i = [], 0, 0, False, 0
    while i < len(inner):
        c = inner[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "," and depth == 0:
            args.append(inner[start:i].strip())
            start = i + 1
        i += 1
    args.append(inner[start:].strip())
    return [a for a in args if a]


def _explode(head: str, inner: str, tail: str, indent: int, width: int) -> str:
    """``head(inner)tail`` at ``indent``, split the way black splits a call or tuple that is too
    long: all arguments on one line if they fit, else one per line with a trailing comma."""
    pad = " " * (indent + 4)
    is_call = head[-2:-1].isalnum() or head[-2:-1] == "_"  # a collection literal always explodes
    if is_call and len(inner) + indent + 4 <= width:
        return f"{head}\n{pad}{inner}\n{' ' * indent}){tail}"
    lines = []
    for arg in _top_level_args(inner):
        if len(pad) + len(arg) + 1 > width and "=(" in arg and arg.endswith(")"):
            key, value = arg.split("=(", 1)
            arg = _explode(f"{key}=(", value[:-1], "", indent + 4, width)
        lines.append(f"{pad}{arg},\n")
    return head + "\n" + "".join(lines) + " " * indent + ")" + tail


def layout(name: str, expr: str, width: int = 100) -> str:
    """``expr`` laid out as black lays out ``    name: Final = expr`` in a class body, so that
    black has little left to do: formatting these long modules from one-line calls costs
    seconds per build. A miss costs time only; black still decides the output."""
    if len(f"    {name}: Final = {expr}") <= width or not expr.endswith(")") or "(" not in expr:
        return expr
    call, inner = expr[: expr.index("(") + 1], expr[expr.index("(") + 1 : -1]
    return _explode(call, inner, "", 4, width)


@dataclass
class Constant:
    """One ``name: Final = expr`` line of a namespace class, with an optional docstring."""

    name: str
    expr: str
    doc: str = ""


@dataclass
class Namespace:
    """A class used as a namespace of constants."""

    name: str
    doc: str
    constants: list[Constant] = field(default_factory=list)


@dataclass
class Context:
    """What a table template renders: namespaces, then module-level tables."""

    namespaces: list[Namespace]
    tables: list[Table]
    source: str
    signing: bool = False
    module_doc: str = ""


@dataclass
class Table:
    """A module-level ``NAME: Final[annotation] = (...)`` table over namespace constants."""

    name: str
    annotation: str
    items: list[str]
    doc: str
    frozen: bool = False

    @property
    def source(self) -> str:
        """The assignment, laid out as black would (see ``layout``)."""
        head = f"{self.name}: Final[{self.annotation}] = "
        one = _tuple(self.items)
        if self.frozen:
            if len(head) + len(one) + 11 <= 100:
                return f"{head}frozenset({one})"
            if len(one) + 4 <= 100:
                return f"{head}frozenset(\n    {one}\n)"
            body = "".join(f"        {item},\n" for item in self.items)
            return f"{head}frozenset(\n    (\n{body}    )\n)"
        body = "".join(f"    {item},\n" for item in self.items)
        return f"{head}(\n{body})"


def _cv_expr(component: str | None, row: Cv, secret: bool) -> tuple[str, str]:
    """The constant name and constructor source of one component-variable row."""
    variable, attributes = attribute_split(row.variable)
    instance = row.instance or None
    dt = data_type(row.data_type)
    args = [f"component={_s(component) if component else 'None'}", f"variable={_s(variable)}"]
    if instance:
        args.append(f"instance={_s(instance)}")
    if attributes:
        args.append("attribute_types=" + _tuple([f"AttributeEnumType.{a}" for a in attributes]))
    args.append(f"data_type={'DataEnumType.' + dt if dt else 'None'}")
    if units(row.unit):
        args.append("units=" + _tuple([_s(u) for u in units(row.unit)]))
    required = row.required.lower()
    if required in ("yes", "v2x"):
        args.append("required=True")
    elif required != "no":
        raise ValueError(f"{row}: required must be yes, no or V2X")
    if required == "v2x":
        args.append('required_if="V2X"')
    if row.mutability:
        args.append("mutability=" + _tuple([f"MutabilityEnumType.{m}" for m in mutability(row.mutability)]))
    if secret:
        args.append("secret=True")
    return constant_name(variable, attributes, row.instance), f"ComponentVariable({', '.join(args)})"


def _cv_doc(row: Cv, addition: bool, secret_why: str) -> str:
    parts = []
    if addition:
        parts.append(f"Not in dm_components_vars.csv: {row.cite}.")
    elif row.cite:
        parts.append(f"Mutability: {row.cite}.")
    if row.judged:
        parts.append(f"Judged: {row.judged}.")
    if secret_why:
        parts.append(f"Secret: {secret_why}.")
    return " ".join(parts)


def _devicemodel_context(version: str, data: ModuleType) -> Context:
    secrets: dict[tuple[str, str], str] = data.SECRETS
    rows: list[tuple[Cv, bool]] = [(r, False) for r in data.COMPONENT_VARIABLES] + [
        (r, True) for r in data.ADDITIONS
    ]
    spaces: dict[str, Namespace] = {}
    order: list[str] = ["<generic>", *data.COMPONENTS]
    for row, _ in rows:
        if row.component not in order:
            order.append(row.component)
    for comp in order:
        if comp == "<generic>":
            spaces[comp] = Namespace(
                "Generic", "The <generic> rows of dm_components_vars.csv: variables any component may carry."
            )
        else:
            listed = (
                "components.csv"
                if comp in data.COMPONENTS
                else "not in components.csv; named by dm_components_vars.csv"
            )
            ns = Namespace(comp, f"Component {comp} ({listed}) and its standardized variables.")
            ns.constants.append(Constant("name", _s(comp)))
            spaces[comp] = ns
    all_cvs: list[str] = []
    users: dict[str, list[str]] = {}
    generic: set[str] = set()
    for row, addition in rows:
        if not row.variable:
            continue
        component = None if row.component == "<generic>" else row.component
        key = (row.component, attribute_split(row.variable)[0])
        why = secrets.get(key, "") if component else ""
        name, expr = _cv_expr(component, row, bool(why))
        ns = spaces[row.component]
        ns.constants.append(Constant(name, expr, _cv_doc(row, addition, why)))
        all_cvs.append(f"{ns.name}.{name}")
        variable = attribute_split(row.variable)[0]
        if component is None:
            generic.add(variable)
        elif component not in users.setdefault(variable, []):
            users[variable].append(component)
    unknown = set(secrets) - {(r.component, attribute_split(r.variable)[0]) for r, _ in rows}
    if unknown:
        raise ValueError(f"SECRETS names rows that do not exist: {sorted(unknown)}")

    variables = Namespace("Variables", "Every standardized variable (variables.csv).")
    seen: set[str] = set()
    for var in data.VARIABLES:
        if var.name in seen:
            if not var.judged:
                raise ValueError(f"variables.csv repeats {var.name} without a judged note")
            continue
        seen.add(var.name)
        dt = data_type(var.data_type)
        args = [f"name={_s(var.name)}", f"data_type={'DataEnumType.' + dt if dt else 'None'}"]
        if units(var.unit):
            args.append("units=" + _tuple([_s(u) for u in units(var.unit)]))
        if users.get(var.name):
            args.append("components=" + _tuple([_s(c) for c in users[var.name]]))
        if var.name in generic:
            args.append("generic=True")
        variables.constants.append(Constant(var.name, f"Variable({', '.join(args)})"))

    reasons = Namespace(
        "ReasonCodes", "Standardized reason codes (reason_codes.csv), for StatusInfoType.reasonCode."
    )
    for r in data.REASON_CODES:
        group = f", group={_s(r.group)}" if r.group else ""
        reasons.constants.append(Constant(r.code, f"ReasonCode(value={_s(r.code)}{group})"))
    events = Namespace(
        "SecurityEvents",
        "Standardized security events (security_events.csv), for SecurityEventNotification's type.",
    )
    for e in data.SECURITY_EVENTS:
        events.constants.append(Constant(e.name, f"SecurityEvent(value={_s(e.name)}, critical={e.critical})"))
    unit_ns = Namespace("Units", "Standardized units of measure (units_of_measure.csv).")
    for u in data.UNITS_OF_MEASURE:
        unit_ns.constants.append(Constant(u, _s(u)))

    namespaces = [variables, *spaces.values(), reasons, events, unit_ns]
    tables = [
        Table(
            "COMPONENTS",
            "tuple[str, ...]",
            [_s(c) for c in data.COMPONENTS],
            "The components of components.csv, in its order.",
        ),
        Table(
            "VARIABLES",
            "tuple[Variable, ...]",
            [f"Variables.{c.name}" for c in variables.constants],
            "Every Variables constant.",
        ),
        Table(
            "COMPONENT_VARIABLES",
            "tuple[ComponentVariable, ...]",
            all_cvs,
            "Every component-variable row: dm_components_vars.csv in its order, then the rows only Part 2 or the errata give.",
        ),
        Table(
            "REASON_CODES",
            "tuple[ReasonCode, ...]",
            [f"ReasonCodes.{c.name}" for c in reasons.constants],
            "Every ReasonCodes constant.",
        ),
        Table(
            "SECURITY_EVENTS",
            "tuple[SecurityEvent, ...]",
            [f"SecurityEvents.{c.name}" for c in events.constants],
            "Every SecurityEvents constant.",
        ),
        Table(
            "UNITS_OF_MEASURE",
            "tuple[str, ...]",
            [_s(u) for u in data.UNITS_OF_MEASURE],
            "Every Units constant.",
        ),
        Table(
            "SECRET_VARIABLES",
            "frozenset[tuple[str, str]]",
            [f"({_s(c)}, {_s(v)})" for c, v in sorted(secrets)],
            "(component, variable) pairs whose values are secrets: redact them in logs (reviewed list, see each constant).",
            frozen=True,
        ),
    ]
    if version == "2.1":
        open_enums = [
            (
                "ConnectorTypes",
                "CONNECTOR_TYPES",
                "connectorenumtype.csv",
                "ConnectorType of a connector (the schema types it as a string)",
            ),
            ("IdTokenTypes", "ID_TOKEN_TYPES", "idtokenenumtype.csv", "IdTokenType.type"),
            (
                "ChargingLimitSources",
                "CHARGING_LIMIT_SOURCES",
                "charginglimitsourceenumtype.csv",
                "chargingLimitSource fields",
            ),
            ("PaymentBrands", "PAYMENT_BRANDS", "paymentbrand.csv", "the PaymentBrand additional info"),
            (
                "PaymentRecognitions",
                "PAYMENT_RECOGNITIONS",
                "paymentrecognition.csv",
                "the PaymentRecognition additional info",
            ),
            (
                "AdditionalInfoTypes",
                "ADDITIONAL_INFO_TYPES",
                "additional_info_types.csv",
                "AdditionalInfoType.type",
            ),
            (
                "AdHocPaymentAdditionalInfoTypes",
                "ADHOC_PAYMENT_ADDITIONAL_INFO_TYPES",
                "additional_info_types_adhoc.csv",
                "AdditionalInfoType.type of ad hoc payments",
            ),
        ]
        for cls, table, file, use in open_enums:
            values = getattr(data, table)
            ns = Namespace(
                cls,
                f"Standard values ({file}) of {use}; other values stay allowed where the schema allows them.",
            )
            for v in values:
                ns.constants.append(Constant(enum_member_name(v), _s(v)))
            namespaces.append(ns)
            tables.append(Table(table, "tuple[str, ...]", [_s(v) for v in values], f"Every {cls} constant."))
        signing = Namespace(
            "SigningMethods",
            "Standard signing methods (signingmethod.csv) of signed meter values, with their parameters.",
        )
        for m in data.SIGNING_METHODS:
            signing.constants.append(
                Constant(
                    enum_member_name(m.name),
                    f"SigningMethod(value={_s(m.name)}, algorithm={_s(m.algorithm)}, curve={_s(m.curve)}, "
                    f"key_length={m.key_length}, hash_algorithm={_s(m.hash_algorithm)})",
                )
            )
        namespaces.append(signing)
        tables.append(
            Table(
                "SIGNING_METHODS",
                "tuple[SigningMethod, ...]",
                [f"SigningMethods.{c.name}" for c in signing.constants],
                "Every SigningMethods constant.",
            )
        )
    _check(f"devicemodel_v{version.replace('.', '')}.py", namespaces, tables)
    return Context(namespaces, tables, data.SOURCE, signing=version == "2.1")


def _check(file: str, namespaces: list[Namespace], tables: list[Table]) -> None:
    """Every class, table and constant name usable, and none defined twice in its scope."""
    names = [("module", n) for n in _MODULE_NAMES]
    names += [("module", ns.name) for ns in namespaces] + [("module", t.name) for t in tables]
    names += [(ns.name, c.name) for ns in namespaces for c in ns.constants]
    check_names(file, names)


def _configuration_context(data: ModuleType) -> Context:
    secrets: dict[str, str] = data.SECRETS
    keys = Namespace("Keys", "Every standardized configuration key of OCPP 1.6.")
    for k in data.KEYS:
        access = k.accessibility.split("/")
        args = [
            f"key={_s(k.key)}",
            f"data_type={_s(k.type)}",
            f"accessibility={_tuple([_s(a) for a in access])}",
            f"required={k.required}",
        ]
        if k.unit:
            args.append(f"unit={_s(k.unit)}")
        if k.profile:
            args.append(f"profile={_s(k.profile)}")
        if k.key in secrets:
            args.append("secret=True")
        doc = f"{k.cite}." + (f" Judged: {k.judged}." if k.judged else "")
        if k.key in secrets:
            doc += f" Secret: {secrets[k.key]}."
        keys.constants.append(Constant(k.key, f"ConfigurationKey({', '.join(args)})", doc))
    unknown = set(secrets) - {k.key for k in data.KEYS}
    if unknown:
        raise ValueError(f"SECRETS names keys that do not exist: {sorted(unknown)}")
    tables = [
        Table(
            "CONFIGURATION_KEYS",
            "tuple[ConfigurationKey, ...]",
            [f"Keys.{c.name}" for c in keys.constants],
            "Every Keys constant.",
        ),
        Table(
            "SECRET_KEYS",
            "frozenset[str]",
            [_s(k) for k in sorted(secrets)],
            "Keys whose values are secrets: redact them in logs (reviewed list, see each constant).",
            frozen=True,
        ),
    ]
    _check("configuration_v16.py", [keys], tables)
    return Context([keys], tables, data.SOURCE)


_DEVICEMODEL_DOC = """The standardized device model of OCPP {version} as typed constants.

Source: {source}. The facts (names, instances, data types, units, required flags, mutability) are the OCA's, reviewed in ocppgen's generator; what a component or variable means is in those documents, not here.

One class per component holds its ``name`` and a ``ComponentVariable`` per standardized variable, named after the variable, then its attribute types and its instance where those are literal (``DeviceDataCtrlr.ItemsPerMessage_GetReport``); ``Generic`` holds the variables any component may carry. ``Variables`` holds the standardized variables; ``ReasonCodes``, ``SecurityEvents`` and ``Units`` the other appendix tables.{open_enums} The upper-case tables list every constant of a kind; ``SECRET_VARIABLES`` the variables whose values logs must redact."""

_OPEN_ENUMS = " The classes after them hold the standard values of the enumerations OCPP 2.1 leaves open: plain strings, since a peer may send others where the schema allows."

_CONFIGURATION_DOC = """The standardized configuration keys of OCPP {version} as typed constants.

Source: {source}. The facts (type, unit, accessibility, required or optional, feature profile) are the OCA's, reviewed in ocppgen's generator; what a key means is in those documents, not here.

``Keys`` holds one ``ConfigurationKey`` per key (its docstring cites the section), ``CONFIGURATION_KEYS`` lists them all, ``SECRET_KEYS`` the keys whose values logs must redact."""


def render_tables(version: str, key: str, package: str) -> dict[str, str]:
    """The formatted table module of one version (none for a version without tables), keyed by
    its path relative to the package root."""
    return format_all(render_tables_unformatted(version, key, package))


def render_tables_unformatted(version: str, key: str, package: str) -> dict[str, str]:
    """``render_tables`` before black (which, thanks to ``layout``, should change nothing)."""
    if version not in TABLES:
        return {}
    data, module, template = TABLES[version]
    if module == "configuration":
        context = _configuration_context(data)
    else:
        context = _devicemodel_context(version, data)
    for ns in context.namespaces:
        ns.doc = docstring(ns.doc)
        for c in ns.constants:
            c.doc = docstring(c.doc)
            c.expr = layout(c.name, c.expr)
    for t in context.tables:
        t.doc = docstring(t.doc)
    if module == "configuration":
        doc = _CONFIGURATION_DOC.format(version=version, source=data.SOURCE)
    else:
        enums = _OPEN_ENUMS if version == "2.1" else ""
        doc = _DEVICEMODEL_DOC.format(version=version, source=data.SOURCE, open_enums=enums)
    context.module_doc = "\n\n".join(docstring(p) for p in doc.split("\n\n"))
    what = f"the reviewed OCPP {version} tables in generator/{data.__name__.rsplit('.', 1)[-1]}.py"
    source = (
        _environment()
        .get_template(template)
        .render(banner=_banner(what, package), base=f"{package}.{key}", version=version, ctx=context)
    )
    return {f"{key}/{module}.py": source}
