"""Which values a frame log must never show: a reviewed list, not a word match.

``SECRET_FIELDS``: schema fields that carry a secret, by the definition that declares them and
the property's wire name, each with the reason (the section that says what the field holds).
Names that look secret but are not stay out: 1.6 ``ChangeConfiguration.key`` and
``KeyValue.key`` name a configuration key; ``issuerKeyHash`` and ``publicKey`` are public;
``idToken`` identifies a driver (personal data, but OCPP exchanges it in clear by design and a
log without it is useless for support).

Secret device-model variables (2.x) and configuration keys (1.6) come from the device-model
tables (``devicemodel_v201``, ``devicemodel_v21``, ``configuration_v16``, their ``SECRETS``).

``secret_paths`` finds every path from an action's request or response down to a secret field,
so the runtime can blank them in logs knowing the action of a frame.
"""

from __future__ import annotations

from . import configuration_v16, devicemodel_v21, devicemodel_v201
from .ir import ArrayType, NamedType, StructDef, TypeExpr, VersionIR

__all__ = ["SECRET_FIELDS", "secret_keys", "secret_paths", "secret_variables"]

_NETWORK_2X = {
    ("VPNType", "key"): "the VPN shared secret (Part 2 SetNetworkProfile, VPNType)",
    ("VPNType", "password"): "the VPN user's password (VPNType)",
    ("APNType", "apnPassword"): "the APN password (APNType)",
    ("APNType", "simPin"): "the SIM card's PIN (APNType)",
}

SECRET_FIELDS: dict[str, dict[tuple[str, str], str]] = {
    "1.6": {},  # 1.6 carries its secret (AuthorizationKey) only as a configuration value
    "2.0.1": dict(_NETWORK_2X),
    "2.1": {
        **_NETWORK_2X,
        ("NetworkConnectionProfileType", "basicAuthPassword"): "the Basic-auth password of a network profile (2.1 Part 2 B09)",
    },
}


def secret_variables(version: str) -> list[tuple[str, str]]:
    """The secret (component, variable) pairs of a 2.x version's device model, sorted."""
    table = {"2.0.1": devicemodel_v201.SECRETS, "2.1": devicemodel_v21.SECRETS}.get(version, {})
    return sorted(table)


def secret_keys(version: str) -> list[str]:
    """The secret 1.6 configuration keys, sorted."""
    return sorted(configuration_v16.SECRETS) if version == "1.6" else []


def secret_paths(ir: VersionIR) -> dict[str, list[tuple[str, ...]]]:
    """``{"<Action>" or "<Action>/response": [path, ...]}``: wire-name paths to secret fields,
    ``"*"`` standing for every element of an array."""
    secrets = SECRET_FIELDS.get(ir.version, {})
    structs: dict[str, StructDef] = {d.name: d for d in ir.structs}
    found: dict[str, list[tuple[str, ...]]] = {}
    for message in ir.messages:
        paths: list[tuple[str, ...]] = []
        _walk(structs.get(message.type_name), structs, secrets, (), paths, set())
        if paths:
            key = message.action if message.kind == "request" else f"{message.action}/response"
            found[key] = sorted(paths)
    return dict(sorted(found.items()))


def _walk(
    struct: StructDef | None,
    structs: dict[str, StructDef],
    secrets: dict[tuple[str, str], str],
    prefix: tuple[str, ...],
    out: list[tuple[str, ...]],
    seen: set[str],
) -> None:
    if struct is None or struct.name in seen:
        return
    seen = seen | {struct.name}
    for field in struct.fields:
        path = (*prefix, field.wire_name)
        if (struct.name, field.wire_name) in secrets:
            out.append(path)
            continue
        _walk_type(field.type, structs, secrets, path, out, seen)


def _walk_type(
    t: TypeExpr, structs: dict[str, StructDef], secrets: dict[tuple[str, str], str], prefix: tuple[str, ...],
    out: list[tuple[str, ...]], seen: set[str],
) -> None:
    if isinstance(t, ArrayType):
        _walk_type(t.items, structs, secrets, (*prefix, "*"), out, seen)
    elif isinstance(t, NamedType):
        _walk(structs.get(t.name), structs, secrets, prefix, out, seen)
