"""Authentication and redaction (the registration rules are in ``session``).

Security profiles (2.x Part 2 A00; 1.6 security whitepaper): profile 1 is HTTP Basic auth on
ws://, profile 2 the same over TLS, profile 3 TLS with a client certificate and no Basic auth
(A00.FR.401). The server tells the authenticator which profile a connection uses
(``Credentials.security_profile``) and refuses a station below the highest profile it has
connected with (2.x A05.FR.07; 1.6 whitepaper A05.FR.09).

Passwords are bytes as sent: on 1.6 the AuthorizationKey is a binary key sent raw (OCPP-J 1.6
section 6.2.2; its example, identity AL1000, is not UTF-8), on 2.x a UTF-8 string (A00.FR.205).
They are compared in constant time and never logged; ``redact`` removes secrets from frames
before they are logged. ``credentials.HashedPasswords`` keeps salted hashes and rotates them.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Authenticator",
    "CertificateAuthenticator",
    "Redaction",
    "Credentials",
    "StaticPasswords",
    "parse_basic_auth",
    "redact",
    "websockets_logger",
]


@dataclass(frozen=True)
class Credentials:
    """What a station presented, as the authenticator gets it.

    Attributes:
        station_id: The identity from the URL path.
        password: The Basic-auth password as raw bytes (None: no or unusable Basic auth, or a
            user other than the identity).
        certificate: The TLS client certificate in the shape of ``ssl.SSLSocket.getpeercert()``
            (profile 3), or None.
        version: The OCPP version the handshake agreed on, when known.
        security_profile: 1 (``ws://``), 2 (TLS) or 3 (TLS with a client certificate).
        remote_host: The peer's address, when known.
        attributes: Free-form values for a custom authenticator; the runtime itself leaves it
            empty.
    """

    station_id: str
    password: bytes | None
    certificate: Mapping[str, Any] | None
    version: str | None = None
    security_profile: int = 1
    remote_host: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)

    @property
    def password_text(self) -> str | None:
        """The password as UTF-8 text (2.x), or None when it is none or not UTF-8."""
        if self.password is None:
            return None
        try:
            return self.password.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def _subject(self, name: str) -> str | None:
        if not self.certificate:
            return None
        for rdn in self.certificate.get("subject", ()):
            for key, value in rdn:
                if key == name:
                    return str(value)
        return None

    @property
    def certificate_cn(self) -> str | None:
        """The subject CN of the client certificate (profile 3): the station's serial number
        (A00.FR.405, A00.FR.511)."""
        return self._subject("commonName")

    @property
    def certificate_organization(self) -> str | None:
        """The subject O of the client certificate: the CSO's name (A00.FR.404)."""
        return self._subject("organizationName")


Authenticator = Callable[[Credentials], Awaitable["bool | int"]]
"""Checks a station's credentials before the WebSocket upgrade: True accepts; False answers
HTTP 401; an int answers that HTTP status, e.g. 404 for an identity the CSMS does not know
(Part 4 sections 3.2/3.3: SHOULD be 404; it tells a prober which identities exist, so whether
to use it is the operator's choice)."""


def _password_matches(presented: bytes, expected: str | bytes) -> bool:
    """Constant-time match; a binary 1.6 key also matches its hexadecimal spelling."""
    if isinstance(expected, str):
        return hmac.compare_digest(presented, expected.encode())
    if hmac.compare_digest(presented, expected):
        return True
    return hmac.compare_digest(presented.lower(), expected.hex().encode())


class StaticPasswords:
    """An authenticator from a mapping of station id to password (constant-time comparison;
    identities compared case-insensitively, as identifierString is). A ``bytes`` password is a
    1.6 binary AuthorizationKey: the raw key and its hexadecimal spelling both match."""

    def __init__(
        self, passwords: Mapping[str, str | bytes], *, require_certificate: bool = False, unknown_status: int = 401
    ) -> None:
        """``unknown_status``: the HTTP status for an identity not in ``passwords`` (401, the
        default, does not tell a prober whether the identity exists; 404 is what Part 4
        sections 3.2/3.3 say a CSMS SHOULD answer). ``require_certificate``: also require a
        client certificate whose CN is the identity (profile 3 with Basic auth, 1.6 fleets)."""
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
        return _password_matches(credentials.password, expected)


class CertificateAuthenticator:
    """Security profile 3: the station authenticates with its TLS client certificate only
    (A00.FR.401; the TLS context verifies the chain, A00.FR.403). Which station a certificate
    belongs to (``binding``):

    - ``serial_number`` (the spec): the CN is the station's serial number (A00.FR.405/511); it
      is checked against the BootNotification's serialNumber, and a mismatch closes the
      connection (B01.FR.11/12; the server does it, see ``ServerOptions.certificate_binding``);
    - ``identity``: the CN is the station identity of the URL (common in 1.6 fleets).

    ``organization``: when given, the subject O must contain it (the CSO name, A00.FR.404).
    """

    def __init__(
        self, *, binding: Literal["serial_number", "identity"] = "serial_number", organization: str | None = None,
        allowed: Callable[[str], bool] | None = None,
    ) -> None:
        """``allowed(identity)``: whether the identity may connect at all (None: any)."""
        self.binding = binding
        self.organization = organization
        self.allowed = allowed

    async def __call__(self, credentials: Credentials) -> bool | int:
        cn = credentials.certificate_cn
        if credentials.security_profile < 3 or cn is None:
            return False
        if self.organization is not None and self.organization not in (credentials.certificate_organization or ""):
            return False
        if self.binding == "identity" and cn.casefold() != credentials.station_id.casefold():
            return False
        if self.allowed is not None and not self.allowed(credentials.station_id):
            return 404
        return True


def parse_basic_auth(header: str | None, station_id: str) -> bytes | None:
    """The password (raw bytes) of a Basic ``Authorization`` ``header`` whose user is
    ``station_id`` (compared case-insensitively); None when there is none or it does not fit."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True)
    except binascii.Error:
        return None
    user, sep, password = decoded.partition(b":")
    try:
        name = user.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not sep or not hmac.compare_digest(name.casefold().encode(), station_id.casefold().encode()):
        return None
    return password


REDACTED = "***"


class Redaction:
    """What a version's frame logs blank (generated per version as ``routing.REDACTION`` from
    reviewed tables, see ``generator/secrets.py``): secret fields of message payloads by
    action (``paths``, wire names, ``"*"`` for every array element), the values of secret
    device-model variables (2.x, ``variables`` as (component, variable)), and the values of
    secret configuration keys (1.6, ``keys``)."""

    __slots__ = ("paths", "variables", "keys")

    def __init__(
        self,
        *,
        paths: Mapping[str, Sequence[tuple[str, ...]]] | None = None,
        variables: frozenset[tuple[str, str]] = frozenset(),
        keys: frozenset[str] = frozenset(),
    ) -> None:
        self.paths = dict(paths or {})
        self.variables = variables
        self.keys = frozenset(k.casefold() for k in keys)

    def frame(self, frame: str) -> str:
        """``frame`` with every secret value replaced by ``***`` (an unreadable frame is cut)."""
        try:
            obj = json.loads(frame)
        except ValueError:
            return frame if len(frame) < 200 else frame[:200] + "..."
        if not isinstance(obj, list) or len(obj) < 3:
            return frame
        changed = False
        if obj[0] in (2, 6) and len(obj) > 3 and isinstance(obj[2], str):
            action = obj[2]
            if action.endswith("-Signed") and isinstance(obj[3], dict):
                changed = self._signed(obj[3], action[: -len("-Signed")])
            else:
                changed = self.payload(obj[3], action)
        elif obj[0] == 3:
            changed = self.payload(obj[2], None)
        if not changed:
            return frame
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)

    def payload(self, payload: Any, action: str | None) -> bool:
        """Blank the secrets of one decoded JSON ``payload`` of ``action`` (None: a CALLRESULT,
        whose action the frame does not say) in place; whether anything was blanked."""
        changed = False
        if action is not None:
            for path in self.paths.get(action, ()):
                changed |= _blank(payload, path)
        if self.variables or self.keys:
            changed |= self._structural(payload)
        return changed

    def _signed(self, jws: dict[str, Any], action: str) -> bool:
        """A signed message's JWS payload is base64 of the ordinary one: dropped when it holds
        a secret."""
        encoded = jws.get("payload")
        if not isinstance(encoded, str):
            return False
        try:
            inner = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
        except (ValueError, binascii.Error):
            return False
        if self.payload(inner, action):
            jws["payload"] = REDACTED
            return True
        return False

    def _structural(self, node: Any) -> bool:
        changed = False
        if isinstance(node, list):
            for item in node:
                changed |= self._structural(item)
            return changed
        if not isinstance(node, dict):
            return False
        component, variable = node.get("component"), node.get("variable")
        if isinstance(component, dict) and isinstance(variable, dict):
            pair = (component.get("name"), variable.get("name"))
            if pair in self.variables:
                if "attributeValue" in node:
                    node["attributeValue"] = REDACTED
                    changed = True
                for attribute in node.get("variableAttribute", ()) if isinstance(node.get("variableAttribute"), list) else ():
                    if isinstance(attribute, dict) and "value" in attribute:
                        attribute["value"] = REDACTED
                        changed = True
        key = node.get("key")
        if isinstance(key, str) and key.casefold() in self.keys and "value" in node:
            node["value"] = REDACTED
            changed = True
        for value in node.values():
            if isinstance(value, (dict, list)):
                changed |= self._structural(value)
        return changed


def _blank(node: Any, path: tuple[str, ...]) -> bool:
    if not path:
        return False
    head, rest = path[0], path[1:]
    if head == "*":
        return any([_blank(item, rest) for item in node]) if isinstance(node, list) else False
    if not isinstance(node, dict) or head not in node:
        return False
    if not rest:
        node[head] = REDACTED
        return True
    return _blank(node[head], rest)


NO_REDACTION = Redaction()


def redact(frame: str, redaction: Redaction | None = None) -> str:
    """``frame`` made safe to log under ``redaction`` (a binding's ``redaction``: the version's
    reviewed secret fields, variables and keys)."""
    return (redaction or NO_REDACTION).frame(frame)


class _HeaderSecrets(logging.Filter):
    """Hides the value of Authorization headers in websockets' handshake debug logs (websockets
    logs every header line at DEBUG; the Basic-auth header is base64 of identity:password)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and isinstance(args[0], str) and args[0].lower() in (
            "authorization", "proxy-authorization"
        ):
            record.args = (args[0], REDACTED)
        return True


def websockets_logger(side: str) -> logging.Logger:
    """The logger ocppgen hands to websockets for ``side`` ``"server"`` or ``"client"``
    (``ocppgen.websockets.server``/``.client``):
    everything websockets logs, with Authorization header values replaced by ``***``."""
    logger = logging.getLogger(f"ocppgen.websockets.{side}")
    if not any(isinstance(f, _HeaderSecrets) for f in logger.filters):
        logger.addFilter(_HeaderSecrets())
    return logger
