"""Rendering: IR -> {relative path: formatted source}. No filesystem access here.

Everything a template needs (imports, annotations, defaults, checks, escaped docs) is decided
in this module; templates only loop and branch, and lines come out in black's layout where
black's choice is certain (so black, run on the output in memory by formatting.py, has little
to change).
"""

from __future__ import annotations

import functools
import json
import math
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import jinja2

from .formatting import BLACK_MODE, Formatter, format_all
from .secrets import secret_keys, secret_paths, secret_variables
from .ir import (
    AnyType,
    ArrayType,
    BooleanType,
    EnumDef,
    Field,
    IntegerType,
    Message,
    NamedType,
    NumberType,
    StringType,
    StructDef,
    TypeExpr,
    VersionIR,
)

__all__ = ["BLACK_MODE", "Formatter", "format_all", "render_package", "render_version", "render_version_sources", "runtime_files"]


def _templates_dir() -> Path:
    from . import templates

    return Path(templates.__file__).resolve().parent


def _runtime_dir() -> Path:
    # The one importable runtime: in this repository generated/runtime links to runtime/ (the
    # hand-written source); in an installed ocppgen it is the package's own runtime folder.
    from .generated import runtime

    return Path(runtime.__file__).resolve().parent


def runtime_files() -> list[str]:
    """The runtime modules copied verbatim into every generated package."""
    return sorted(p.name for p in _runtime_dir().glob("*.py"))


def docstring(text: str | None, width: int = 92) -> str:
    """Schema text as the body of a triple-quoted string that it cannot break out of."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    lines = []
    for line in text.split("\n"):
        line = line.rstrip()
        lines.extend(textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False) or [""])
    body = "\n".join(lines)
    body = body.replace("\\", "\\\\")
    # A quote followed by a quote, or one at the very end, could close the string: escape it.
    body = "".join(
        '\\"' if c == '"' and (i + 1 == len(body) or body[i + 1] == '"') else c for i, c in enumerate(body)
    )
    return "".join(c if c == "\n" or c >= " " and c != "\x7f" else f"\\x{ord(c):02x}" for c in body)


def _meta(**kwargs: object) -> str | None:
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if v is not None)
    return f"Meta({args})" if args else None


@dataclass
class _Ctx:
    """What the annotations of one module use, so its imports can be written."""

    datetime: bool = False
    any: bool = False
    meta: bool = False
    names: set[str] | None = None

    def __post_init__(self) -> None:
        self.names = set()


def annotation(t: TypeExpr, ctx: _Ctx) -> str:
    """The Python annotation of a type expression (constraints as ``Annotated[..., Meta]``)."""
    if isinstance(t, StringType):
        if t.format == "date-time":
            ctx.datetime = True
            base, meta = "datetime.datetime", _meta(tz=True)
        else:
            base, meta = "str", _meta(min_length=t.min_length, max_length=t.max_length)
    elif isinstance(t, IntegerType):
        # For integers, x >= 0.5 is x >= 1 exactly; msgspec wants int bounds on int.
        base = "int"
        meta = _meta(
            ge=None if t.minimum is None else math.ceil(t.minimum),
            le=None if t.maximum is None else math.floor(t.maximum),
        )
    elif isinstance(t, NumberType):
        base, meta = "float", _meta(ge=t.minimum, le=t.maximum)
    elif isinstance(t, BooleanType):
        base, meta = "bool", None
    elif isinstance(t, AnyType):
        ctx.any = True
        base, meta = "Any", None
    elif isinstance(t, NamedType):
        assert ctx.names is not None
        ctx.names.add(t.name)
        base, meta = t.name, None
    else:
        assert isinstance(t, ArrayType)
        base = f"list[{annotation(t.items, ctx)}]"
        meta = _meta(min_length=t.min_items, max_length=t.max_items)
    if meta is None:
        return base
    ctx.meta = True
    return f"Annotated[{base}, {meta}]"


WIDTH = 100  # black's line length (BLACK_MODE)


def wrap_call(indent: int, head: str, args: str, tail: str) -> str:
    """``head + args + tail`` (a call: ``head`` ends with its opening bracket, ``tail`` starts
    with its closing one) at ``indent`` spaces, laid out as black lays it out: on one line if it
    fits, else the arguments on a line of their own when they and the head fit. Anything else
    stays on one line for black to split. The layout only moves line breaks inside brackets,
    never a token, so black's output is the same either way; laid out already, a piece is one
    black pass instead of two (black formats twice when its first pass changes something)."""
    one = head + args + tail
    if indent + len(one) <= WIDTH or not one.isascii():  # black measures width, not length
        return one
    if indent + len(head) <= WIDTH and indent + 4 + len(args) <= WIDTH and indent + len(tail) <= WIDTH:
        pad = " " * indent
        return f"{head}\n{pad}    {args}\n{pad}{tail}"
    return one


def import_line(module: str, names: list[str]) -> str:
    """``from module import names`` as black writes it: one line if it fits, else one name per
    line in parentheses with a trailing comma (black always splits a long import that way)."""
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= WIDTH or not line.isascii():
        return line
    return "\n".join([f"from {module} import (", *(f"    {name}," for name in names), ")"])


def all_line(names: list[str]) -> str:
    """``__all__`` as black writes it: one line if it fits, else one name per line with a
    trailing comma (black always explodes a list literal that does not fit)."""
    items = [json.dumps(n) for n in names]
    line = f"__all__ = [{', '.join(items)}]"
    if len(line) <= WIDTH or not line.isascii():
        return line
    return "\n".join(["__all__ = [", *(f"    {item}," for item in items), "]"])


@dataclass
class FieldView:
    python_name: str
    wire_name: str
    annotation: str
    default: str | None  # Python source of the default, None when required
    doc: str

    @property
    def line(self) -> str:
        """The field's declaration in a class body, laid out as black does: the ``field(...)``
        arguments on a line of their own (``wrap_call``), else the value in parentheses, else
        the annotation in parentheses, whichever fits first. Black makes redundant parentheses
        around an annotation or a value invisible before it lays a line out, so adding them
        changes no output; tests/test_formatting.py checks each form around the line length."""
        head = f"{self.python_name}: {self.annotation}"
        if self.python_name != self.wire_name:
            default = "" if self.default is None else f"default={self.default}, "
            name = json.dumps(self.wire_name, ensure_ascii=False)
            line = wrap_call(4, f"{head} = field(", f"{default}name={name}", ")")
            value = f"field({default}name={name})"
            if "\n" in line or 4 + len(line) <= WIDTH or not line.isascii():
                return line
        elif self.default is None:
            return head
        else:
            value = self.default
            line = f"{head} = {value}"
            if 4 + len(line) <= WIDTH or not line.isascii():
                return line
        if 4 + len(head) + 4 <= WIDTH and 8 + len(value) <= WIDTH:
            return f"{head} = (\n        {value}\n    )"
        ann, tail = self.annotation, f") = {value}"
        if 4 + len(tail) > WIDTH:
            return line
        if "[" in ann and ann.endswith("]") and not _top_level_union(ann):  # split the subscript
            start = ann.index("[")
            if 4 + len(f"{self.python_name}: {ann[: start + 1]}") <= WIDTH and 8 + len(ann) - start - 2 <= WIDTH:
                return f"{self.python_name}: {ann[: start + 1]}\n        {ann[start + 1 : -1]}\n    ]{tail[1:]}"
        elif 8 + len(ann) <= WIDTH:
            return f"{self.python_name}: (\n        {ann}\n    ){tail[1:]}"
        return line


def _top_level_union(annotation: str) -> bool:
    """Whether ``annotation`` is a union at its top level (``X | Y``, not ``list[X | Y]``)."""
    depth = 0
    for i, c in enumerate(annotation):
        if c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
        elif depth == 0 and annotation.startswith(" | ", i):
            return True
    return False


@dataclass
class CheckView:
    python_name: str
    wire_name: str
    function: str
    argument: str | None
    optional: bool
    array: bool


@dataclass
class StructView:
    name: str
    doc: str
    open: bool
    fields: list[FieldView]
    checks: list[CheckView]


def _default_source(f: Field, enums: dict[str, EnumDef]) -> str:
    t = f.type
    if isinstance(t, NamedType) and t.name in enums:
        member = next(m for m in enums[t.name].members if m.value == f.default)
        return f"{t.name}.{member.python_name}"
    text = f.default
    if isinstance(text, str) and text.isascii() and text.isprintable() and not set(text) & set("\"'\\"):
        return f'"{text}"'  # black's quotes, which it would put there (repr() gives single ones)
    return repr(f.default)


def _checks(f: Field) -> list[CheckView]:
    t, array = f.type, False
    if isinstance(t, ArrayType):
        t, array = t.items, True
    out = []
    if isinstance(t, NumberType) and t.multiple_of is not None:
        out.append(CheckView(f.python_name, f.wire_name, "check_multiple_of", f'Decimal("{t.multiple_of}")', not f.required, array))
    if isinstance(t, StringType) and t.format == "uri":
        out.append(CheckView(f.python_name, f.wire_name, "check_uri", None, not f.required, array))
    return out


def _struct_view(s: StructDef, enums: dict[str, EnumDef], ctx: _Ctx) -> StructView:
    fields = []
    checks = []
    for f in s.fields:
        ann = annotation(f.type, ctx)
        if f.required:
            default = None
        elif f.has_default:
            default = _default_source(f, enums)
        else:
            ann, default = f"{ann} | UnsetType", "UNSET"
        fields.append(FieldView(f.python_name, f.wire_name, ann, default, docstring(f.description)))
        checks.extend(_checks(f))
    # msgspec wants required fields first only without kw_only; keep schema order for readability.
    return StructView(s.name, docstring(s.description), s.open, fields, checks)


@functools.cache
def _environment() -> jinja2.Environment:
    """The one template environment of this process: it compiles each template once."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["pystr"] = lambda s: json.dumps(s, ensure_ascii=False)
    env.filters["def_layout"] = def_layout
    env.filters["call_layout"] = def_layout  # a call statement splits at its first bracket too
    env.filters["import_line"] = lambda names, module: import_line(module, list(names))
    env.filters["all_line"] = all_line
    return env


def _banner(what: str, package: str) -> str:
    return (
        f"# Generated by ocppgen from {what}.\n# Do not edit.\n"
        f"# Regenerate with: ocppgen build --package {package}\n"
    )


@dataclass
class EnumView:
    name: str
    doc: str
    members: list[tuple[str, str]]


def _when(condition: object, *names: str) -> set[str]:
    return set(names) if condition else set()


def _imports(module: str, base: str, ctx: _Ctx, structs: list[StructView], used_enums: list[str],
             used_types: list[str], has_messages: bool) -> list[str]:
    """The import lines of a struct module: exactly what its classes use."""
    lines = []
    if ctx.datetime:
        lines.append("import datetime")
    checks = sorted({c.function for s in structs for c in s.checks})
    if "check_multiple_of" in checks:
        lines.append("from decimal import Decimal")
    typing = sorted(
        _when(ctx.meta, "Annotated")
        | _when(ctx.any or any(s.open for s in structs), "Any")
        | _when(has_messages, "Final")
    )
    if any(s.open for s in structs):
        lines.append("from collections.abc import Mapping")
    if typing:
        lines.append(import_line("typing", typing))
    lines.append("")
    msgspec_names = sorted(
        _when(ctx.meta, "Meta")
        | _when(any(f.default == "UNSET" for s in structs for f in s.fields), "UNSET", "UnsetType")
        | _when(any(f.python_name != f.wire_name for s in structs for f in s.fields), "field")
    )
    if msgspec_names:
        lines.append(import_line("msgspec", msgspec_names))
    lines.append("")
    package = base.rsplit(".", 1)[0]
    if checks:
        lines.append(import_line(f"{package}.runtime.checks", checks))
    payload = sorted(
        _when(any(s.open for s in structs), "OpenFields", "OpenObject")
        | _when(any(not s.open for s in structs), "Payload")
        | _when(has_messages, "MessageInfo")
    )
    if payload:
        lines.append(import_line(f"{package}.runtime.payload", payload))
    if used_types:
        lines.append(import_line(f"{base}.datatypes", used_types))
    if used_enums:
        lines.append(import_line(f"{base}.enums", used_enums))
    return lines


MODULE_DOCS = {
    "datatypes": "Object types of OCPP {version} shared by its messages.",
    "messages": "Request and response payloads of OCPP {version}, one struct per schema file.",
}


def _message_line(m: Message) -> str:
    """A row of ``MESSAGES`` (inside its tuple), laid out as black does: on one line, or its
    arguments on one line, or (too long for that) one argument per line with a trailing comma,
    which is how black splits a call whose arguments are plain literals and names."""
    text = [json.dumps(v, ensure_ascii=False) for v in (m.action, m.kind, m.file)]
    args = [text[0], text[1], m.type_name, text[2], str(m.integral_floats)]
    line = wrap_call(4, "MessageInfo(", ", ".join(args), "),")
    if "\n" in line or len(line) + 4 <= WIDTH or not line.isascii():
        return line
    return "\n".join(["MessageInfo(", *(f"        {a}," for a in args), "    ),"])


def render_version(ir: VersionIR, package: str) -> dict[str, str]:
    """The modules of one version subpackage, keyed by path relative to the package root."""
    return format_all(render_version_sources(ir, package))


def render_version_sources(ir: VersionIR, package: str) -> dict[str, str]:
    """``render_version`` before black."""
    env = _environment()
    enums = {e.name: e for e in ir.enums}
    banner = _banner(f"the OCPP {ir.version} JSON schemas\n# (schema set sha256 {ir.schema_digest})", package)
    base = f"{package}.{ir.key}"
    out: dict[str, str] = {}

    enum_views = [
        EnumView(e.name, docstring(e.description) or f"{e.name} (the schema gives no description).",
                 [(m.python_name, m.value) for m in e.members])
        for e in ir.enums
    ]
    out["enums.py"] = env.get_template("enums.py.jinja").render(banner=banner, ir=ir, enums=enum_views)

    messages_by_type = {m.type_name: m for m in ir.messages}
    for module in ("datatypes", "messages"):
        ctx = _Ctx()
        structs = []
        for s in ir.structs:
            if s.module != module:
                continue
            view = _struct_view(s, enums, ctx)
            if not view.doc:
                m = messages_by_type.get(s.name)
                view.doc = (
                    f"Payload of the {m.action} {m.kind} (schema {m.file})." if m
                    else f"{s.name} (the schema gives no description)."
                )
            structs.append(view)
        assert ctx.names is not None
        used_enums = sorted(n for n in ctx.names if n in enums)
        local = {s.name for s in ir.structs if s.module == module}
        used_types = sorted(n for n in ctx.names if n not in enums and n not in local)
        has_messages = module == "messages" and bool(ir.messages)
        out[f"{module}.py"] = env.get_template("structs.py.jinja").render(
            banner=banner,
            module_doc=MODULE_DOCS[module].format(version=ir.version),
            imports=_imports(module, base, ctx, structs, used_enums, used_types, has_messages),
            structs=structs,
            messages=[_message_line(m) for m in ir.messages] if has_messages else (),
        )
    out["__init__.py"] = env.get_template("version_init.py.jinja").render(banner=banner, ir=ir, package=package)
    out.update(_render_routing(env, ir, package, base, banner))
    return {f"{ir.key}/{path}": src for path, src in out.items()}


@dataclass
class ActionView:
    name: str
    method: str
    constant: str
    request: str
    response: str | None
    send: bool
    initiator: str
    integral_floats: bool
    doc: str

    @property
    def method_doc(self) -> str:
        """``doc`` indented for a method's docstring, as black re-indents a docstring; the
        closing quotes on a line of their own where black puts them there (a docstring of
        several lines whose last line is too long for them)."""
        doc = indent_doc(self.doc, 8)
        last = doc.rsplit("\n", 1)[-1]
        breaks = not set(doc) & set("\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")  # black's lines: str.splitlines()
        if "\n" in doc and doc != self.doc and breaks and len(last) + 3 > WIDTH and doc[-1] not in "\"\\":
            return f"{doc}\n        "
        return doc

    @property
    def route(self) -> str:
        """The route constant's assignment, laid out as black does: black makes redundant
        parentheses around the value invisible and puts them back where the line needs them,
        so wrapping the call in them (when its first line is too long) changes no output."""
        head = f"{self.constant}: Final[Route[{self.request}, {self.response or 'None'}]] = "
        args = [
            f"Action.{self.name}", self.request, self.response or "None", _INITIATORS[self.initiator],
            f"send={self.send}", f"integral_floats={self.integral_floats}",
        ]
        route = f"Route[{self.request}, {self.response or 'None'}]"
        if len(head) + len("Route(") <= WIDTH or not head.isascii():
            first = f"{head}Route("
        elif len(head) + 1 <= WIDTH:
            return "\n".join([f"{head}(", "    Route(", *(f"        {a}," for a in args), "    )", ")"])
        elif 4 + len(route) <= WIDTH:  # the annotation's subscript on a line of its own
            first = f"{self.constant}: Final[\n    {route}\n] = Route("
        else:
            first = f"{head}Route("  # black's to lay out
        return "\n".join([first, *(f"    {a}," for a in args), ")"])


_INITIATORS = {"ChargingStation": "_FROM_STATION", "CSMS": "_FROM_CSMS", "Both": "_FROM_BOTH"}


def indent_doc(doc: str, width: int) -> str:
    """A docstring body re-indented as black re-indents a docstring: the first line stripped,
    the common indentation of the others replaced by ``width`` spaces, blank lines empty. Not
    where black leaves the string as it is (a line that ends in a backslash) or expands tabs."""
    if re.search(r"\\\s*\n", doc) or "\t" in doc:
        return doc
    lines = doc.split("\n")
    rest = [line for line in lines[1:] if line.strip()]
    common = min((len(line) - len(line.lstrip()) for line in rest), default=0)
    out = [lines[0].strip()]
    for line in lines[1:]:
        text = line[common:].rstrip()
        out.append(" " * width + text if text else "")
    return "\n".join(out)


def def_layout(line: str) -> str:
    """A ``def`` line (with its indentation, parameters in the first parentheses, none in the
    return annotation) as black lays it out: too long, it splits at the parameters' brackets."""
    text = line.rstrip("\n")
    newlines = line[len(text) :]
    indent = len(text) - len(text.lstrip(" "))
    text = text[indent:]
    start, end = text.index("("), text.rindex(")")
    return " " * indent + wrap_call(indent, text[: start + 1], text[start + 1 : end], text[end:]) + newlines


@dataclass
class RoleView:
    module: str
    title: str
    peer_title: str
    handler: str
    client: str
    receives_from: tuple[str, ...]  # initiators whose requests this role receives
    enum: str  # the runtime Role member


ROLES = (
    RoleView("csms", "CSMS", "charging station", "CsmsHandler", "ChargingStationClient", ("ChargingStation", "Both"), "CSMS"),
    RoleView(
        "station", "charging station", "CSMS", "StationHandler", "CsmsClient", ("CSMS", "Both"), "CHARGING_STATION"
    ),
)
_SENDER = {"ChargingStation": "the charging station", "CSMS": "the CSMS", "Both": "either side"}


def _render_routing(env: jinja2.Environment, ir: VersionIR, package: str, base: str, banner: str) -> dict[str, str]:
    """routing.py (every action) and one module per role."""
    views = [
        ActionView(
            a.name, a.method, a.constant, a.request, a.response, a.send, a.initiator, a.integral_floats,
            docstring(f"{a.name}{' (SEND, no response)' if a.send else ''}, sent by {_SENDER[a.initiator]}. {a.cite}."),
        )
        for a in ir.actions
    ]
    out = {}
    out["routing.py"] = env.get_template("routing.py.jinja").render(
        banner=banner,
        ir=_IRView(ir.version, views),
        package=package,
        base=base,
        message_types=sorted({t for v in views for t in (v.request, v.response) if t}),
        secrets=_Secrets(secret_paths(ir), secret_variables(ir.version), secret_keys(ir.version)),
    )
    for role in ROLES:
        receives = [v for v in views if v.initiator in role.receives_from]
        sends = [v for v in views if v.initiator not in role.receives_from or v.initiator == "Both"]
        types = sorted({t for v in receives + sends for t in (v.request, v.response) if t})
        out[f"{role.module}.py"] = env.get_template("role.py.jinja").render(
            banner=banner, ir=ir, package=package, base=base, role=role, receives=receives, sends=sends,
            message_types=types,
        )
    return out


@dataclass
class _Secrets:
    paths: dict[str, list[tuple[str, ...]]]
    variables: list[tuple[str, str]]
    keys: list[str]


@dataclass
class _IRView:
    version: str
    actions: list[ActionView]


def render_package(package: str, versions: list[VersionIR]) -> dict[str, str]:
    """The files shared by all versions: package init, py.typed, notice, the runtime copy."""
    env = _environment()
    banner = _banner("its templates", package)
    out = {
        "__init__.py": format_all(
            {"__init__.py": env.get_template("package_init.py.jinja").render(banner=banner, package=package)}
        )["__init__.py"],
        "py.typed": "",
        "NOTICE.md": env.get_template("NOTICE.md.jinja").render(),
    }
    runtime = _runtime_dir()
    for name in runtime_files():
        out[f"runtime/{name}"] = (runtime / name).read_text(encoding="utf-8")
    return out
