"""Differential fidelity: the generated decoders accept exactly what the official schemas accept.

For every schema file of every version, every constraint site gets accepted and rejected
instances (tests/fidelity.py); each goes through the reference validator (jsonschema with real
format checking) and the generated decoder, and the two must agree. Valid instances must also
re-encode to JSON the schema accepts and that equals the input up to key order, timestamp
spelling and fields equal to their default. Documented exceptions are tested below by name.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from functools import lru_cache
from typing import Any

import jsonschema
import msgspec
import pytest

from ocppgen.generated.runtime.payload import codec
from ocppgen.generated.v16 import messages as m16
from ocppgen.generated.v201 import messages as m201
from ocppgen.generated.v21 import messages as m21
from ocppgen.load import default_schema_root
from tests import fidelity

MODULES = {"v16": m16, "v201": m201, "v21": m21}
FILES = [(key, info.schema) for key, mod in MODULES.items() for info in mod.MESSAGES]
RANDOM_PER_FILE = 4
_RESULTS: dict[tuple[str, str], dict[str, Any]] = {}


def exact_multiple(value: Any, step: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return True  # multipleOf ignores non-numbers
    return Decimal(repr(value)) % Decimal(repr(step)) == 0


def _exact_multiple_of(validator: Any, step: Any, instance: Any, schema: Any) -> Any:
    if not exact_multiple(instance, step):
        yield jsonschema.ValidationError(f"{instance!r} is not a multiple of {step}")


@lru_cache(maxsize=None)
def _reference_class(draft: str) -> Any:
    """The draft's jsonschema validator, with multipleOf decided on exact decimal values.

    Documented exception: stock jsonschema decides a float multipleOf with float division
    (0.3 / 0.1 = 2.9999999999999996) and so rejects 0.3 as a multiple of 0.1; OCPP 1.6 means
    decimal steps of 0.1. Everything else is the stock validator, formats included.
    """
    base = jsonschema.validators.validator_for({"$schema": draft})
    return jsonschema.validators.extend(base, {"multipleOf": _exact_multiple_of})


@lru_cache(maxsize=None)
def validators(key: str, name: str) -> tuple[Any, Any]:
    """(reference, stock) validators of one file, built once."""
    schema = load_schema(key, name)
    return reference_validator(schema), stock_validator(schema)


@lru_cache(maxsize=None)
def part_validators(key: str, name: str, pointer: str) -> tuple[Any, Any]:
    """(reference, stock) validators of the schema node at ``pointer``, refs resolving in its file."""
    schema = load_schema(key, name)
    part = dict(fidelity.node_at(schema, pointer))
    part["$schema"] = schema["$schema"]
    part["definitions"] = schema.get("definitions", {})
    return reference_validator(part), stock_validator(part)


def stock_validator(schema: dict[str, Any]) -> Any:
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def reference_validator(schema: dict[str, Any]) -> Any:
    cls = _reference_class(schema["$schema"])
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@lru_cache(maxsize=None)
def load_schema(key: str, name: str) -> dict[str, Any]:
    return json.loads((default_schema_root() / key / name).read_text(encoding="utf-8"))


def info_for(key: str, name: str) -> Any:
    return next(i for i in MODULES[key].MESSAGES if i.schema == name)


def decodes(key: str, name: str, data: bytes) -> tuple[bool, Any]:
    info = info_for(key, name)
    try:
        return True, codec(info.type, info.integral_floats).decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return False, exc


def normalized(schema: dict[str, Any], node: dict[str, Any], value: Any) -> Any:
    """``value`` with timestamps parsed and fields equal to their default removed."""
    node, _ = fidelity.resolve(schema, node, "")
    if node.get("format") == "date-time" and isinstance(value, str):
        return datetime.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    if node.get("type") == "object" and isinstance(value, dict):
        props = node.get("properties", {})
        out = {}
        for k, v in value.items():
            sub = props.get(k)
            if sub is None:
                out[k] = v
                continue
            sub_node, _ = fidelity.resolve(schema, sub, "")
            if "default" in sub_node and v == sub_node["default"]:
                continue
            out[k] = normalized(schema, sub, v)
        return out
    if node.get("type") == "array" and isinstance(value, list):
        return [normalized(schema, node["items"], v) for v in value]
    return value


def check_round_trip(
    key: str, name: str, schema: dict[str, Any], instance: Any, decoded: Any, validate: bool
) -> str | None:
    info = info_for(key, name)
    encoded = json.loads(codec(info.type, info.integral_floats).encode(decoded))
    if validate and not validators(key, name)[0].is_valid(encoded):
        return f"re-encoded JSON is invalid: {encoded}"
    if normalized(schema, schema, encoded) != normalized(schema, schema, instance):
        return f"re-encoded JSON differs: {instance} -> {encoded}"
    return None


def run_file(key: str, name: str) -> dict[str, Any]:
    if (key, name) in _RESULTS:
        return _RESULTS[(key, name)]
    schema = load_schema(key, name)
    has_multiple_of = "multipleOf" in json.dumps(schema)
    fc = fidelity.enumerate_cases(name, schema)
    divergences: list[str] = []
    covered: dict[fidelity.Site, set[bool]] = {s: set() for s in fc.sites}
    counts = {"cases": 0, "agree": 0, "accepted": 0, "rejected": 0, "jsonschema_multipleof_wrong": 0}
    instances = [(c, fidelity.apply(fc.base, c.instance_path, c.value)) for c in fc.cases]
    for n, inst in enumerate(fidelity.random_instances(schema, f"{key}/{name}", RANDOM_PER_FILE)):
        instances.append((fidelity.Case(fidelity.Site(name, "", "random"), (), inst, f"random #{n}", True), inst))
    for case, instance in instances:
        # The base instance is valid, so the whole is valid iff the changed part is: validate
        # just that part against its schema node (refs still resolve against the file root).
        part = fidelity.get(instance, case.scope_path)
        expected = part_validators(key, name, case.scope_pointer)[0].is_valid(part)
        if has_multiple_of:
            counts["jsonschema_multipleof_wrong"] += expected != part_validators(key, name, case.scope_pointer)[
                1
            ].is_valid(part)
        ok, decoded = decodes(key, name, fidelity.dumps(instance))
        counts["cases"] += 1
        if case.site.keyword != "random":
            covered[case.site].add(expected)
        if ok != expected:
            divergences.append(
                f"{name}#{case.site.pointer} [{case.site.keyword}] {case.note}: schema says "
                f"{'valid' if expected else 'invalid'}, decoder {'accepted' if ok else 'rejected: ' + str(decoded)}"
            )
            continue
        counts["agree"] += 1
        counts["accepted" if ok else "rejected"] += 1
        if ok:
            # Re-encoded output equal to the accepted input (up to key order, timestamp spelling
            # and default-valued fields) is valid as the input is; the reference validator
            # re-checks the output of the whole-message cases (base and random instances).
            full = case.site.keyword == "random" or case.note == "valid value" and not case.instance_path
            problem = check_round_trip(key, name, schema, instance, decoded, full)
            if problem:
                divergences.append(f"{name} {case.note}: {problem}")
    result = {"counts": counts, "divergences": divergences, "covered": covered, "sites": len(fc.sites)}
    _RESULTS[(key, name)] = result
    return result


@pytest.mark.parametrize(("key", "name"), FILES, ids=[f"{k}/{n}" for k, n in FILES])
def test_decoder_agrees_with_reference_validator(key: str, name: str) -> None:
    result = run_file(key, name)
    assert result["divergences"] == []


@pytest.mark.parametrize(("key", "name"), FILES, ids=[f"{k}/{n}" for k, n in FILES])
def test_every_constraint_site_has_accepted_and_rejected_cases(key: str, name: str) -> None:
    result = run_file(key, name)
    # Sites that by nature have no rejected instance: an open object's extension properties,
    # and an untyped value (any JSON is valid).
    schema = load_schema(key, name)
    missing = []
    for site, outcomes in result["covered"].items():
        node, _ = fidelity.resolve(schema, fidelity.node_at(schema, site.pointer), site.pointer)
        # One-sided by nature: any JSON is valid for an untyped value (null included, so an
        # optional untyped property cannot be made invalid), and an open object admits extras.
        one_sided = (
            site.keyword == "untyped"
            or (site.keyword == "optional" and "type" not in node)
            or (site.keyword == "additionalProperties" and node.get("additionalProperties", True) is not False)
        )
        need = {True} if one_sided else {True, False}
        if not need <= outcomes:
            missing.append(f"{site.pointer} [{site.keyword}] has {sorted(outcomes)}")
    assert missing == []


def report_lines() -> list[str]:
    if not _RESULTS:
        return []
    lines = []
    for key in MODULES:
        rows = [r for (k, _), r in _RESULTS.items() if k == key]
        if not rows:
            continue
        total = {c: sum(r["counts"][c] for r in rows) for c in rows[0]["counts"]}
        sites = sum(r["sites"] for r in rows)
        div = sum(len(r["divergences"]) for r in rows)
        lines.append(
            f"{key}: {len(rows)} files, {sites} constraint sites, {total['cases']} cases, "
            f"{total['agree']} agree ({total['accepted']} accepted, {total['rejected']} rejected), "
            f"{div} divergences; jsonschema's float multipleOf overruled {total['jsonschema_multipleof_wrong']}x"
        )
    return lines


# --- the reference validator is tested first: it must really check what it is trusted for ---


@pytest.mark.parametrize(
    ("draft", "value", "valid"),
    [
        ("http://json-schema.org/draft-06/schema#", "2024-01-02T03:04:05Z", True),
        ("http://json-schema.org/draft-06/schema#", "yesterday", False),
        ("http://json-schema.org/draft-06/schema#", "2024-01-02T03:04:05", False),
        ("http://json-schema.org/draft-04/schema#", "2024-01-02", False),
    ],
)
def test_reference_validator_checks_date_time(draft: str, value: str, valid: bool) -> None:
    schema = {"$schema": draft, "type": "string", "format": "date-time"}
    assert reference_validator(schema).is_valid(value) is valid
    assert stock_validator(schema).is_valid(value) is valid


@pytest.mark.parametrize(("value", "valid"), [("ftp://host/file", True), ("no scheme here", False)])
def test_reference_validator_checks_uri(value: str, valid: bool) -> None:
    schema = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "string", "format": "uri"}
    assert reference_validator(schema).is_valid(value) is valid


@pytest.mark.parametrize(
    ("draft", "valid"),
    [("http://json-schema.org/draft-04/schema#", False), ("http://json-schema.org/draft-06/schema#", True)],
)
def test_reference_validator_integer_semantics_follow_the_draft(draft: str, valid: bool) -> None:
    assert reference_validator({"$schema": draft, "type": "integer"}).is_valid(1.0) is valid


def test_stock_jsonschema_float_multiple_of_is_wrong_and_the_reference_is_exact() -> None:
    schema = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "number", "multipleOf": 0.1}
    assert not stock_validator(schema).is_valid(0.3)  # why the reference overrides multipleOf
    assert reference_validator(schema).is_valid(0.3)
    assert not reference_validator(schema).is_valid(0.35)


# --- documented exception: timestamp spellings msgspec also accepts ---

LENIENT_TIMESTAMPS = [
    ("2024-01-02 03:04:05Z", "space instead of T (RFC 3339 section 5.6 NOTE allows it for readability)"),
    ("2024-01-02T03:04:05+0200", "offset without colon (not RFC 3339)"),
]


@pytest.mark.parametrize(("spelling", "why"), LENIENT_TIMESTAMPS)
def test_documented_exception_timestamp_spellings(spelling: str, why: str) -> None:
    """msgspec parses these unambiguous spellings that rfc3339-validator rejects; the decoded
    instant is exact and every re-encode is canonical RFC 3339. If msgspec ever tightens its
    parser, this test fails and the exception can be removed from the docs."""
    name = "HeartbeatResponse.json"
    schema = load_schema("v201", name)
    instance = {"currentTime": spelling}
    assert not reference_validator(schema).is_valid(instance)
    ok, decoded = decodes("v201", name, fidelity.dumps(instance))
    assert ok, why
    canonical = datetime.datetime.fromisoformat(spelling.upper().replace(" ", "T").replace("Z", "+00:00"))
    assert decoded.current_time == canonical
    assert reference_validator(schema).is_valid(json.loads(codec(type(decoded), True).encode(decoded)))
