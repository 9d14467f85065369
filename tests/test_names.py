"""The naming owner: readable, deterministic, collision-checked, and exact on the wire."""

from __future__ import annotations

import json

import msgspec
import pytest

from ocppgen.generated.v16 import messages as m16
from ocppgen.generated.v201 import messages as m201
from ocppgen.generated.v21 import messages as m21
from ocppgen.load import default_schema_root
from ocppgen.names import class_name_problem, enum_member_name, field_name


@pytest.mark.parametrize(
    ("wire", "python"),
    [
        ("idTag", "id_tag"),
        ("EVSEId", "evse_id"),
        ("limit_L2", "limit_l2"),
        ("fixedPF", "fixed_pf"),
        ("prioritizedEMAIDs", "prioritized_emaids"),
        ("soC", "so_c"),
        ("iso15118SchemaVersion", "iso15118_schema_version"),
        ("OCSPRequestData", "ocsp_request_data"),
        ("responderURL", "responder_url"),
        ("from", "from_"),
        ("type", "type"),
    ],
)
def test_field_names(wire: str, python: str) -> None:
    assert field_name(wire) == python


@pytest.mark.parametrize(
    ("value", "member"),
    [("Power.Active.Import", "Power_Active_Import"), ("L1-N", "L1_N"), ("kWh", "kWh"), ("name", "name_"),
     ("None", "None_"), ("15118", "_15118")],
)
def test_enum_member_names(value: str, member: str) -> None:
    assert enum_member_name(value) == member
    assert member.isidentifier()


@pytest.mark.parametrize(("name", "problem"), [("list", "builtin"), ("class", "keyword"), ("Meta", "import"),
                                               ("A-B", "identifier"), ("IdTokenType", None)])
def test_class_name_problems(name: str, problem: str | None) -> None:
    found = class_name_problem(name)
    assert (found is None) if problem is None else (problem in (found or ""))


def _schema_properties(node: object, out: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                out.update(value)
            _schema_properties(value, out)
    elif isinstance(node, list):
        for item in node:
            _schema_properties(item, out)


@pytest.mark.parametrize(("key", "module"), [("v16", m16), ("v201", m201), ("v21", m21)])
def test_every_schema_property_is_exactly_one_encode_name(key: str, module: object) -> None:
    """Each wire name in the schemas appears as a field's exact encode name, and no encode name
    exists that the schemas do not declare."""
    declared: set[str] = set()
    for path in (default_schema_root() / key).glob("*.json"):
        if path.name != "MANIFEST.json":
            _schema_properties(json.loads(path.read_text()), declared)
    encoded: set[str] = set()
    seen: set[type] = set()

    def visit(t: object) -> None:
        info = msgspec.inspect.type_info(t)
        stack = [info]
        while stack:
            node = stack.pop()
            if isinstance(node, msgspec.inspect.StructType):
                if node.cls in seen:
                    continue
                seen.add(node.cls)
                for f in node.fields:
                    encoded.add(f.encode_name)
                    stack.append(f.type)
            elif isinstance(node, (msgspec.inspect.ListType,)):
                stack.append(node.item_type)
            elif isinstance(node, msgspec.inspect.CustomType):
                stack.append(msgspec.inspect.type_info(node.cls.__ocpp_fields__))

    for info in module.MESSAGES:  # type: ignore[attr-defined]
        visit(info.type)
    assert encoded == declared
