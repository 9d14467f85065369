"""Authentication and redaction (the registration rules are in ``session``).

Authentication (OCPP security profiles): profile 1 is HTTP Basic auth on ws://, profile 2 the
same over TLS, profile 3 TLS with a client certificate whose subject CN must be the station's
identity. Passwords are compared in constant time and never logged; ``redact`` removes secrets
from frames before they are logged.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Authenticator", "Credentials", "StaticPasswords", "parse_basic_auth", "redact"]

@dataclass(frozen=True)
class Credentials:
    """What a station presented: its identity, Basic-auth password, TLS client certificate."""

    station_id: str
    password: str | None
    certificate: Mapping[str, Any] | None

    @property
    def certificate_cn(self) -> str | None:
        if not self.certificate:
            return None
        for rdn in self.certificate.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    return str(value)
        return None


Authenticator = Callable[[Credentials], Awaitable["bool | int"]]
"""Checks a station's credentials before the WebSocket upgrade: True accepts; False answers
HTTP 401; an int answers that HTTP status, e.g. 404 for an identity the CSMS does not know
(Part 4 sections 3.2/3.3: SHOULD be 404; it tells a prober which identities exist, so whether
to use it is the operator's choice)."""


class StaticPasswords:
    """An authenticator from a mapping of station id to password (constant-time comparison;
    identities compared case-insensitively, as identifierString is)."""

    def __init__(self, passwords: Mapping[str, str], *, require_certificate: bool = False, unknown_status: int = 401) -> None:
        """``unknown_status``: the HTTP status for an identity not in ``passwords`` (401, the
        default, does not tell a prober whether the identity exists; 404 is what Part 4
        sections 3.2/3.3 say a CSMS SHOULD answer)."""
        self._passwords = {k.casefold(): v for k, v in passwords.items()}
        self.require_certificate = require_certificate
        self.unknown_status = unknown_status

    async def __call__(self, credentials: Credentials) -> bool | int:
        cn = credentials.certificate_cn
        if self.require_certificate and (cn is None or cn.casefold() != credentials.station_id.casefold()):
            return False
        expected = self._passwords.get(credentials.station_id.casefold())
        if expected is None:
            hmac.compare_digest(b"x" * 32, b"y" * 32)  # same work whether the station exists or not
            return False if self.unknown_status == 401 else self.unknown_status
        if credentials.password is None:
            return False
        return hmac.compare_digest(credentials.password.encode(), expected.encode())


def parse_basic_auth(header: str | None, station_id: str) -> str | None:
    """The password of a Basic ``Authorization`` header whose user is ``station_id``."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep or not hmac.compare_digest(user.casefold().encode(), station_id.casefold().encode()):
        return None
    return password


_SECRET_KEY = re.compile(r"password|authorizationkey|secret|passphrase", re.I)
_SECRET_VARIABLES = {"BasicAuthPassword", "AuthorizationKey", "Password"}
REDACTED = "***"


def redact(frame: str) -> str:
    """A frame safe to log: Basic-auth passwords, AuthorizationKey and similar values removed
    (SetVariables values of secret variables, ChangeConfiguration values of secret keys, and
    any property whose name says password or secret)."""
    try:
        obj = json.loads(frame)
    except ValueError:
        return frame if len(frame) < 200 else frame[:200] + "..."
    return json.dumps(_scrub(obj), separators=(",", ":"), ensure_ascii=False)


def _scrub(node: Any) -> Any:
    if isinstance(node, list):
        return [_scrub(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        out[key] = REDACTED if _SECRET_KEY.search(key) and not isinstance(value, (dict, list)) else _scrub(value)
    variable = node.get("variable")
    if isinstance(variable, dict) and variable.get("name") in _SECRET_VARIABLES and "attributeValue" in out:
        out["attributeValue"] = REDACTED
    if isinstance(node.get("key"), str) and _is_secret_name(node["key"]) and "value" in out:
        out["value"] = REDACTED
    return out


def _is_secret_name(name: str) -> bool:
    return name in _SECRET_VARIABLES or bool(_SECRET_KEY.search(name))
