"""Golden snapshots: the IR and the generated modules for small fixture schemas, one feature each.

The full output is guarded by ``ocppgen build --check``; these snapshots make a change to one
feature's rendering visible in review. Update with ``pytest --snapshot-update``.
"""

from __future__ import annotations

import ast
from typing import Any

import msgspec
import pytest

from ocppgen.load import SchemaFile, SchemaSet
from ocppgen.pipeline import build_ir
from ocppgen.render import render_version

D4 = "http://json-schema.org/draft-04/schema#"
D6 = "http://json-schema.org/draft-06/schema#"


def obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": props, **extra}
    if required:
        out["required"] = required
    return out


def message(props: dict[str, Any], required: list[str] | None = None, draft: str = D6, **extra: Any) -> dict[str, Any]:
    return {"$schema": draft, **obj(props, required, **extra)}


FEATURES: dict[str, tuple[str, dict[str, Any]]] = {
    "constraints": (
        "2.0.1",
        {
            "LimitsRequest.json": message(
                {
                    "name": {"type": "string", "maxLength": 20, "minLength": 1},
                    "count": {"type": "integer", "minimum": 0.5, "maximum": 10},
                    "ratio": {"type": "number", "minimum": -1.5},
                    "flag": {"type": "boolean"},
                    "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}, "minItems": 1, "maxItems": 4},
                },
                ["name"],
            )
        },
    ),
    "enum_and_ref": (
        "2.0.1",
        {
            "ColorRequest.json": message(
                {"color": {"$ref": "#/definitions/ColorEnumType"}, "where": {"$ref": "#/definitions/SpotType"}},
                ["color"],
                definitions={
                    "ColorEnumType": {"type": "string", "enum": ["Red", "Power.Active.Import", "L1-N", "class"]},
                    "SpotType": obj({"x": {"type": "integer"}}, ["x"], description="A place."),
                },
            )
        },
    ),
    "inline_names_1_6": (
        "1.6",
        {
            "Reset.json": message(
                {"type": {"type": "string", "enum": ["Hard", "Soft"]}}, ["type"], draft=D4
            ),
        },
    ),
    "open_object": (
        "2.1",
        {
            "ExtRequest.json": message(
                {"customData": {"$ref": "#/definitions/CustomDataType"}},
                definitions={
                    "CustomDataType": {
                        "type": "object",
                        "properties": {"vendorId": {"type": "string", "maxLength": 255}},
                        "required": ["vendorId"],
                    }
                },
            )
        },
    ),
    "exact_checks": (
        "1.6",
        {
            "Fetch.json": message(
                {
                    "location": {"type": "string", "format": "uri"},
                    "limit": {"type": "number", "multipleOf": 0.1},
                    "steps": {"type": "array", "items": {"type": "number", "multipleOf": 0.1}},
                    "at": {"type": "string", "format": "date-time"},
                },
                ["location", "limit"],
                draft=D4,
            )
        },
    ),
    "defaults_untyped_keywords": (
        "2.1",
        {
            "MiscRequest.json": message(
                {
                    "tbc": {"type": "boolean", "default": False},
                    "mode": {"$ref": "#/definitions/ModeEnumType", "default": "Fast"},
                    "data": {"description": "Anything at all."},
                    "from": {"type": "integer"},
                    "limit_L2": {"type": "number"},
                    "prioritizedEMAIDs": {"type": "array", "items": {"type": "string"}},
                },
                definitions={"ModeEnumType": {"type": "string", "enum": ["Fast", "Slow"], "default": "Fast"}},
            )
        },
    ),
    "hostile_descriptions": (
        "2.0.1",
        {
            "DocRequest.json": message(
                {"a": {"type": "string", "description": 'ends with a quote "'}},
                description='Tries to escape: """ + __import__("os").system("x") + """ and \\ backslash\x00',
            )
        },
    ),
}


def _set(version: str, files: dict[str, Any]) -> SchemaSet:
    # Fixtures have request schemas only: declare each action a SEND from the station.
    actions = {n[: -len(".json")].removesuffix("Request") for n in files}
    return SchemaSet(
        version=version,
        folder="fixture",
        files=tuple(SchemaFile(name=n, doc=d) for n, d in sorted(files.items())),
        digest="0" * 64,
        manifest={},
        directions={a: {"initiator": "ChargingStation", "send": True, "cite": "fixture"} for a in actions},
    )


@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_ir_snapshot(feature: str, snapshot: Any) -> None:
    version, files = FEATURES[feature]
    ir, warnings = build_ir(_set(version, files))
    assert msgspec.json.format(msgspec.json.encode(ir), indent=2).decode() == snapshot
    assert [str(w) for w in warnings] == snapshot(name="warnings")


@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_module_snapshot(feature: str, snapshot: Any) -> None:
    version, files = FEATURES[feature]
    ir, _ = build_ir(_set(version, files))
    rendered = render_version(ir, "fixture")
    for path in ("enums.py", "datatypes.py", "messages.py"):
        assert rendered[f"{ir.key}/{path}"] == snapshot(name=path)


def test_hostile_description_stays_inside_its_docstring() -> None:
    version, files = FEATURES["hostile_descriptions"]
    ir, _ = build_ir(_set(version, files))
    tree = ast.parse(render_version(ir, "fixture")["v201/messages.py"])
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "DocRequest")
    assert ast.get_docstring(cls, clean=False) == (
        'Tries to escape: """ + __import__("os").system("x") + """ and \\ backslash\x00'
    )
    field_doc = cls.body[2]
    assert isinstance(field_doc, ast.Expr) and field_doc.value.value == 'ends with a quote "'  # type: ignore[attr-defined]
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert calls == {"MessageInfo"}  # nothing from the description became code


def test_routing_and_role_modules_snapshot(snapshot: Any) -> None:
    files = {
        "PingRequest.json": message({"n": {"type": "integer"}}),
        "PingResponse.json": message({}),
        "PokeRequest.json": message({}),
        "PokeResponse.json": message({}),
        "ShareRequest.json": message({"data": {}}),
        "ShareResponse.json": message({}),
        "Stream.json": message({"v": {"type": "number"}}),
    }
    directions = {
        "Ping": {"initiator": "ChargingStation", "cite": "fixture §1"},
        "Poke": {"initiator": "CSMS", "cite": "fixture §2"},
        "Share": {"initiator": "Both", "cite": "fixture §3"},
        "Stream": {"initiator": "ChargingStation", "send": True, "cite": "fixture §4"},
    }
    schema_set = SchemaSet(
        version="2.1",
        folder="fixture",
        files=tuple(SchemaFile(name=n, doc=d) for n, d in sorted(files.items())),
        digest="0" * 64,
        manifest={},
        directions=directions,
    )
    ir, _ = build_ir(schema_set)
    rendered = render_version(ir, "fixture")
    for path in ("routing.py", "csms.py", "station.py"):
        assert rendered[f"v21/{path}"] == snapshot(name=path)
