"""Differential fidelity cases: for every constraint site of a schema file, instances the
official schema accepts and rejects, to run through both the reference validator and the
generated decoder.

A *site* is (file, JSON pointer of the schema node, keyword). Sites are enumerated by walking
the schema from its root, following ``$ref``; a definition used at several places yields a site
per place, because the decoder is reached through each of them.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

import msgspec

DELETE = object()
TIMESTAMP = "2024-01-02T03:04:05Z"
URI = "ftp://user@example.com:21/firmware/v1.bin?x=1#part"


@dataclass(frozen=True)
class Site:
    file: str
    pointer: str
    keyword: str


@dataclass
class Case:
    site: Site
    instance_path: tuple[Any, ...]
    value: Any  # the replacement at instance_path, or DELETE
    note: str
    expect_valid_by_design: bool  # what the case was built to be (sanity, not the oracle)
    # The smallest part of the instance whose validity decides the whole one (the rest of the
    # instance is the valid base): the schema node pointer and the instance path of that part.
    scope_pointer: str = ""
    scope_path: tuple[Any, ...] = ()


@dataclass
class FileCases:
    file: str
    schema: dict[str, Any]
    base: dict[str, Any]
    sites: set[Site] = field(default_factory=set)
    cases: list[Case] = field(default_factory=list)


def resolve(root: dict[str, Any], node: dict[str, Any], pointer: str) -> tuple[dict[str, Any], str]:
    while "$ref" in node:
        name = node["$ref"].split("/")[-1]
        node, pointer = root["definitions"][name], f"/definitions/{name}"
    return node, pointer


def valid_value(root: dict[str, Any], node: dict[str, Any], pointer: str, rng: random.Random | None = None,
                depth: int = 0) -> Any:
    """A value the node accepts; with ``rng``, a random one (optional properties may be left out)."""
    node, pointer = resolve(root, node, pointer)
    kind = node.get("type")
    if "enum" in node:
        return rng.choice(node["enum"]) if rng else node["enum"][0]
    if kind == "object":
        out = {}
        for name, sub in node.get("properties", {}).items():
            if rng and name not in node.get("required", []) and rng.random() < 0.5:
                continue
            out[name] = valid_value(root, sub, f"{pointer}/properties/{name}", rng, depth + 1)
        return out
    if kind == "array":
        lo = node.get("minItems", 0)
        hi = node.get("maxItems", max(lo, 3))
        n = rng.randint(lo, min(hi, lo + 3)) if rng else min(max(lo, 1), hi)
        return [valid_value(root, node["items"], f"{pointer}/items", rng, depth + 1) for _ in range(n)]
    if kind == "string":
        if node.get("format") == "date-time":
            return rng.choice([TIMESTAMP, "2023-12-31T23:59:59.5+05:30", "2024-02-29T00:00:00-00:00"]) if rng else TIMESTAMP
        if node.get("format") == "uri":
            return URI
        limit = node.get("maxLength", 10)
        n = rng.randint(node.get("minLength", 0), min(limit, 12)) if rng else min(limit, 5)
        return "".join(rng.choice("abcXYZ019-_é€ ") for _ in range(n)) if rng else "v" * n
    if kind == "integer":
        lo, hi = node.get("minimum"), node.get("maximum")
        lo = int(lo) if lo is not None else (-5 if rng else 1)
        hi = int(hi) if hi is not None else lo + 100
        return rng.randint(lo, hi) if rng else max(lo, min(1, hi))
    if kind == "number":
        if "multipleOf" in node:
            return rng.choice([0.3, 1.1, 16.0, 7.7]) if rng else 1.5
        lo, hi = node.get("minimum"), node.get("maximum")
        lo = lo if lo is not None else -5.0
        hi = hi if hi is not None else lo + 100.0
        return rng.uniform(lo, hi) if rng else lo + (hi - lo) / 2
    if kind == "boolean":
        return rng.random() < 0.5 if rng else True
    # untyped: any JSON value, kept untouched
    return {"any": [1, 2.0, "three", None, {"deep": True}]}


WRONG_TYPE = {
    "string": [123, None, ["x"]],
    "integer": ["1", 1.5, True, None],
    "number": ["1.5", True, None],
    "boolean": ["true", 1, None],
    "object": [[], "x", None],
    "array": [{}, "x", None],
}


def enumerate_cases(file: str, schema: dict[str, Any]) -> FileCases:
    base = valid_value(schema, schema, "")
    fc = FileCases(file=file, schema=schema, base=base)
    draft4 = "draft-04" in schema.get("$schema", "")

    def add(site: Site, path: tuple[Any, ...], value: Any, note: str, valid: bool,
            scope: tuple[str, tuple[Any, ...]] | None = None) -> None:
        fc.sites.add(site)
        scope_pointer, scope_path = scope if scope is not None else (site.pointer, path)
        fc.cases.append(Case(site, path, value, note, valid, scope_pointer, scope_path))

    def walk(node: dict[str, Any], pointer: str, path: tuple[Any, ...], stack: tuple[str, ...]) -> None:
        node, pointer = resolve(schema, node, pointer)
        if pointer in stack:  # recursive definition: its sites were reached already
            return
        stack = (*stack, pointer)
        kind = node.get("type")
        if kind is None:
            site = Site(file, pointer, "untyped")
            for value in ({"a": [1, None]}, "text", 1.25, None, [1, "x"]):
                add(site, path, value, "any JSON value", True)
            return
        tsite = Site(file, pointer, "type")
        add(tsite, path, valid_value(schema, node, pointer), "valid value", True)
        for wrong in WRONG_TYPE[kind]:
            add(tsite, path, wrong, f"wrong type {type(wrong).__name__}", False)
        if kind == "integer":
            add(tsite, path, 2.0, "integral float (draft-06 integer)", not draft4)
        if "enum" in node:
            esite = Site(file, pointer, "enum")
            for value in node["enum"]:
                add(esite, path, value, "enum value", True)
            add(esite, path, "NotAnEnumValue", "unknown value", False)
            add(esite, path, node["enum"][0].swapcase(), "wrong case", False)
        if "maxLength" in node:
            n = node["maxLength"]
            lsite = Site(file, pointer, "maxLength")
            add(lsite, path, "é" * n, "exactly maxLength code points", True)
            add(lsite, path, "x" * (n + 1), "maxLength + 1", False)
            add(lsite, path, "\U0001F50C" * (n + 1), "maxLength + 1 non-BMP code points", False)
        if "minLength" in node:
            n = node["minLength"]
            add(Site(file, pointer, "minLength"), path, "x" * n, "exactly minLength", True)
            if n:
                add(Site(file, pointer, "minLength"), path, "x" * (n - 1), "minLength - 1", False)
        if node.get("format") == "date-time":
            fsite = Site(file, pointer, "format")
            for ok in (TIMESTAMP, "2024-01-02T03:04:05.123456+02:00", "2024-01-02T03:04:05-00:00",
                       "2024-01-02t03:04:05z"):
                add(fsite, path, ok, "RFC 3339 timestamp", True)
            for bad in ("2024-01-02T03:04:05", "2024-13-02T03:04:05Z", "not a timestamp", "2024-01-02",
                        "2024-02-30T00:00:00Z", "2024-12-31T23:59:60Z", "2024-01-02T03:04:05+24:00"):
                add(fsite, path, bad, "not RFC 3339", False)
        if node.get("format") == "uri":
            usite = Site(file, pointer, "format")
            for ok in (URI, "https://example.com", "urn:isbn:0451450523", "http://[2001:db8::1]:80/a"):
                add(usite, path, ok, "URI", True)
            for bad in ("example.com/no-scheme", "http://exa mple.com/", "", "1http://x"):
                add(usite, path, bad, "not a URI", False)
        for key, step in (("minimum", -1), ("maximum", 1)):
            if key in node:
                bound = node[key]
                bsite = Site(file, pointer, key)
                add(bsite, path, bound, f"{key} itself", True)
                delta = step if kind == "integer" else step * 0.5
                add(bsite, path, bound + delta, f"beyond {key}", False)
        if "multipleOf" in node:
            msite = Site(file, pointer, "multipleOf")
            for ok in (0.3, 1.1, 2.7, 16, 1e3, 0.0):
                add(msite, path, ok, "multiple of 0.1", True)
            for bad in (0.15, 0.05, 1.01, 3.33):
                add(msite, path, bad, "not a multiple of 0.1", False)
        if kind == "object":
            props = node.get("properties", {})
            required = node.get("required", [])
            for name, sub in props.items():
                sub_ptr = f"{pointer}/properties/{name}"
                if name in required:
                    rsite = Site(file, pointer, f"required/{name}")
                    add(rsite, path, valid_value(schema, node, pointer), "required present", True)
                    add(rsite, (*path, name), DELETE, "required missing", False, (pointer, path))
                else:
                    osite = Site(file, sub_ptr, "optional")
                    add(osite, (*path, name), DELETE, "optional absent", True, (pointer, path))
                    add(osite, (*path, name), None, "optional null", False, (pointer, path))
                walk(sub, sub_ptr, (*path, name), stack)
            asite = Site(file, pointer, "additionalProperties")
            if node.get("additionalProperties", True) is False:
                add(asite, path, valid_value(schema, node, pointer), "declared properties only", True)
                add(asite, (*path, "unknownField"), 1, "unknown property", False, (pointer, path))
            else:
                add(asite, (*path, "vendorExtension"), {"k": [1, 2.5, "x"]}, "extension property", True,
                    (pointer, path))
                add(asite, (*path, "otherExtension"), 7.0, "extension property", True, (pointer, path))
        if kind == "array":
            lo, hi = node.get("minItems"), node.get("maxItems")
            item = valid_value(schema, node["items"], f"{pointer}/items")
            if lo is not None:
                s = Site(file, pointer, "minItems")
                add(s, path, [item] * lo, "exactly minItems", True)
                if lo > 0:
                    add(s, path, [item] * (lo - 1), "minItems - 1", False)
            if hi is not None:
                s = Site(file, pointer, "maxItems")
                add(s, path, [item] * hi, "exactly maxItems", True)
                add(s, path, [item] * (hi + 1), "maxItems + 1", False)
            walk(node["items"], f"{pointer}/items", (*path, 0), stack)

    walk(schema, "", (), ())
    return fc


def get(instance: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        instance = instance[key]
    return instance


def node_at(schema: dict[str, Any], pointer: str) -> Any:
    node = schema
    for token in filter(None, pointer.split("/")):
        node = node[token]
    return node


def _copy(value: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(value))


def apply(base: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A deep copy of ``base`` with ``value`` placed (or the key deleted) at ``path``."""
    if not path:
        return _copy(value)
    out = _copy(base)
    node = out
    for key in path[:-1]:
        node = node[key]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = _copy(value)
    return out


def random_instances(schema: dict[str, Any], seed: str, count: int) -> list[Any]:
    rng = random.Random(seed)
    return [valid_value(schema, schema, "", rng) for _ in range(count)]


def dumps(instance: Any) -> bytes:
    return json.dumps(instance, ensure_ascii=False).encode("utf-8")
