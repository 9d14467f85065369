"""Building: turn one verified schema set into IR (types still per file, names still unset).

Only local ``#/definitions/...`` references are resolved, which is all the OCA sets use; every
keyword outside the supported list is an error that names the file and JSON pointer.
"""

from __future__ import annotations

from typing import Any

from .diagnostics import BuildError, Diagnostic
from .ir import (
    AnyType,
    ArrayType,
    BooleanType,
    EnumDef,
    EnumMember,
    Field,
    IntegerType,
    Message,
    NamedType,
    NumberType,
    Source,
    StringType,
    StructDef,
    TypeExpr,
    VersionIR,
)
from .load import VERSIONS, SchemaFile, SchemaSet
from .naming16 import INLINE_NAMES_16

__all__ = ["build_version"]

DRAFTS = {
    "http://json-schema.org/draft-04/schema#": False,  # 1.0 is not an integer
    "http://json-schema.org/draft-06/schema#": True,  # 1.0 is an integer
}
# Keywords with no effect on validation, or none on what this generator emits.
ANNOTATIONS = {"description", "javaType", "comment", "$comment", "title", "tsEnumNames"}
# Keywords that only constrain objects (or arrays) and so do nothing on other types; the OCA
# 1.6 schemas put additionalProperties on their string enums.
NO_EFFECT = {"additionalProperties", "additionalItems"}
ROOT_ONLY = {"$schema", "$id", "id", "definitions"}
SUPPORTED = {
    "object": {"type", "properties", "required", "additionalProperties"},
    "string": {"type", "maxLength", "minLength", "format", "enum", "default"},
    "integer": {"type", "minimum", "maximum", "default"},
    "number": {"type", "minimum", "maximum", "multipleOf", "default"},
    "boolean": {"type", "default"},
    # additionalItems only applies when items is a list of schemas; OCPP always uses one schema.
    "array": {"type", "items", "minItems", "maxItems", "additionalItems"},
}
FORMATS = {"date-time", "uri"}


def _esc(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _unesc(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


class _FileBuilder:
    """Builds the types of one schema file; collects diagnostics instead of stopping."""

    def __init__(self, version: str, file: SchemaFile, diags: list[Diagnostic]) -> None:
        self.version = version
        self.file = file
        self.diags = diags
        self.enums: dict[str, EnumDef] = {}
        self.structs: dict[str, StructDef] = {}
        self._in_progress: set[str] = set()

    def error(self, pointer: str, message: str) -> None:
        self.diags.append(Diagnostic(level="error", file=self.file.name, pointer=pointer, message=message))

    def warn(self, pointer: str, message: str) -> None:
        self.diags.append(Diagnostic(level="warning", file=self.file.name, pointer=pointer, message=message))

    def source(self, pointer: str) -> Source:
        return Source(file=self.file.name, pointer=pointer)

    def inline_name(self, pointer: str, hint: str) -> str:
        key = f"{self.file.name}#{pointer}"
        name = INLINE_NAMES_16.get(key) if self.version == "1.6" else None
        if name is None:
            self.warn(pointer, f"inline type has no reviewed name; named {hint}")
            return hint
        return name

    def ref(self, node: dict[str, Any], pointer: str) -> TypeExpr:
        target = node["$ref"]
        ignored = sorted(set(node) - {"$ref"} - ANNOTATIONS)
        if ignored:
            self.warn(pointer, f"keywords next to $ref are ignored by draft-04/06 validators: {ignored}")
        prefix = "#/definitions/"
        if not isinstance(target, str) or not target.startswith(prefix) or "/" in target[len(prefix) :]:
            self.error(pointer, f"unresolvable $ref {target!r}: only '#/definitions/<name>' is supported")
            return AnyType()
        name = _unesc(target[len(prefix) :])
        definitions = self.file.doc.get("definitions", {})
        if name not in definitions:
            self.error(pointer, f"unresolvable $ref {target!r}: no such definition")
            return AnyType()
        if name not in self.enums and name not in self.structs and name not in self._in_progress:
            self._in_progress.add(name)
            self.named(definitions[name], f"/definitions/{_esc(name)}", name)
            self._in_progress.discard(name)
        return NamedType(name=name)

    def named(self, node: Any, pointer: str, name: str) -> TypeExpr:
        """Build a definition or inline object/enum that becomes a named type."""
        if not isinstance(node, dict):
            self.error(pointer, "schema must be an object")
            return AnyType()
        if node.get("type") == "object":
            self.struct(node, pointer, name)
            return NamedType(name=name)
        if "enum" in node:
            self.enum(node, pointer, name)
            return NamedType(name=name)
        self.error(pointer, "a definition must be an object or an enum")
        return AnyType()

    def check_keywords(self, node: dict[str, Any], pointer: str, kind: str, root: bool = False) -> None:
        allowed = SUPPORTED[kind] | ANNOTATIONS | NO_EFFECT | (ROOT_ONLY if root else set())
        for key in node:
            if key not in allowed:
                self.error(f"{pointer}/{_esc(key)}", f"unsupported keyword {key!r} for type {kind!r}")

    def enum(self, node: dict[str, Any], pointer: str, name: str) -> None:
        self.check_keywords(node, pointer, "string")
        values = node["enum"]
        if node.get("type") != "string" or not isinstance(values, list) or not values:
            self.error(pointer, "only non-empty enums of type string are supported")
            return
        if not all(isinstance(v, str) for v in values) or len(set(values)) != len(values):
            self.error(pointer, "enum values must be distinct strings")
            return
        if "default" in node and node["default"] not in values:
            self.error(pointer, "default is not one of the enum values")
        self.enums[name] = EnumDef(
            name=name,
            members=tuple(EnumMember(value=v) for v in values),
            description=node.get("description"),
            source=self.source(pointer),
        )

    def struct(self, node: dict[str, Any], pointer: str, name: str, root: bool = False) -> StructDef | None:
        self.check_keywords(node, pointer, "object", root=root)
        props = node.get("properties", {})
        required = node.get("required", [])
        if not isinstance(props, dict) or not isinstance(required, list):
            self.error(pointer, "properties must be an object and required a list")
            return None
        for missing in sorted(set(required) - set(props)):
            self.error(f"{pointer}/required", f"required property {missing!r} is not declared")
        additional = node.get("additionalProperties", True)
        if additional not in (True, False):
            self.error(f"{pointer}/additionalProperties", "only true or false is supported")
        fields = []
        for wire, sub in props.items():
            sub_ptr = f"{pointer}/properties/{_esc(wire)}"
            ftype = self.type_expr(sub, sub_ptr, name + wire[:1].upper() + wire[1:])
            has_default = isinstance(sub, dict) and "default" in sub
            fields.append(
                Field(
                    wire_name=wire,
                    type=ftype,
                    required=wire in required,
                    has_default=has_default,
                    default=sub.get("default") if has_default else None,
                    description=sub.get("description") if isinstance(sub, dict) else None,
                    source=self.source(sub_ptr),
                )
            )
        struct = StructDef(
            name=name,
            fields=tuple(fields),
            open=additional is not False,
            description=node.get("description"),
            source=self.source(pointer),
            module="messages" if root else "datatypes",
        )
        self.structs[name] = struct
        return struct

    def type_expr(self, node: Any, pointer: str, hint: str) -> TypeExpr:
        if not isinstance(node, dict):
            self.error(pointer, "schema must be an object")
            return AnyType()
        if "$ref" in node:
            return self.ref(node, pointer)
        kind = node.get("type")
        if kind is None:
            extra = sorted(set(node) - ANNOTATIONS)
            if extra:
                self.error(pointer, f"keywords {extra} without 'type' are not supported")
            return AnyType()
        if not isinstance(kind, str) or kind not in SUPPORTED:
            self.error(f"{pointer}/type", f"unsupported type {kind!r}")
            return AnyType()
        if kind == "object":
            return self.named(node, pointer, self.inline_name(pointer, hint))
        if "enum" in node:
            return self.named(node, pointer, self.inline_name(pointer, hint))
        self.check_keywords(node, pointer, kind)
        if kind == "string":
            fmt = node.get("format")
            if fmt is not None and fmt not in FORMATS:
                self.error(f"{pointer}/format", f"unsupported format {fmt!r}")
            return StringType(max_length=node.get("maxLength"), min_length=node.get("minLength"), format=fmt)
        if kind == "integer":
            return IntegerType(minimum=node.get("minimum"), maximum=node.get("maximum"))
        if kind == "number":
            step = node.get("multipleOf")
            return NumberType(
                minimum=node.get("minimum"),
                maximum=node.get("maximum"),
                multiple_of=None if step is None else repr(step),
            )
        if kind == "boolean":
            return BooleanType()
        items = node.get("items")
        if not isinstance(items, dict):
            self.error(f"{pointer}/items", "array items must be a single schema")
            return AnyType()
        item_hint = hint[:-1] if hint.endswith("s") else hint + "Item"
        return ArrayType(
            items=self.type_expr(items, f"{pointer}/items", item_hint),
            min_items=node.get("minItems"),
            max_items=node.get("maxItems"),
        )


def _message_of(version: str, file_name: str) -> tuple[str, str, str]:
    """(action, kind, type name) from a file name, following each version's naming."""
    stem = file_name[: -len(".json")]
    if stem.endswith("Response"):
        return stem[: -len("Response")], "response", stem
    if version == "1.6":
        return stem, "request", stem + "Request"
    if stem.endswith("Request"):
        return stem[: -len("Request")], "request", stem
    return stem, "request", stem  # a message without a response (2.1 SEND)


def build_version(schema_set: SchemaSet) -> tuple[list[VersionIR], list[Diagnostic]]:
    """Build the IR of one version: types per file, concatenated in file order.

    Returns the IR (split into one VersionIR per file, merged by the dedupe pass) and the
    warnings; raises BuildError if there is any error.
    """
    diags: list[Diagnostic] = []
    key, subprotocol = VERSIONS[schema_set.version]
    parts = []
    for file in schema_set.files:
        builder = _FileBuilder(schema_set.version, file, diags)
        doc = file.doc
        if not isinstance(doc, dict) or doc.get("type") != "object":
            builder.error("", "the root schema must be an object schema")
            continue
        draft = doc.get("$schema")
        if draft not in DRAFTS:
            builder.error("/$schema", f"unsupported $schema {draft!r}; expected one of {sorted(DRAFTS)}")
            continue
        action, kind, type_name = _message_of(schema_set.version, file.name)
        builder.struct(doc, "", type_name, root=True)
        parts.append(
            VersionIR(
                key=key,
                version=schema_set.version,
                subprotocol=subprotocol,
                schema_digest=schema_set.digest,
                enums=tuple(builder.enums.values()),
                structs=tuple(builder.structs.values()),
                messages=(
                    Message(
                        action=action,
                        kind=kind,  # type: ignore[arg-type]
                        type_name=type_name,
                        file=file.name,
                        integral_floats=DRAFTS[draft],
                    ),
                ),
            )
        )
    errors = [d for d in diags if d.level == "error"]
    if errors:
        raise BuildError(errors)
    return parts, diags
