"""Station credentials on the CSMS side: salted password hashes, rotation, brute-force limits.

``HashedPasswords`` is an authenticator (pass it as ``ServerOptions.authenticator``) that keeps
only salted hashes (2.x A01.FR.08; 1.6 security whitepaper A01.FR.08), in memory or in one
SQLite file, and implements the password life cycle of use case A01:

- ``begin_rotation(identity, new)`` before the CSMS sends the new password (SetVariables
  SecurityCtrlr.BasicAuthPassword on 2.x, ChangeConfiguration AuthorizationKey on 1.6); while
  the change is open both the old and the new password are accepted (the station may reconnect
  with the new one before the CSMS has read its answer);
- ``commit_rotation`` once the station answered Accepted: the old password is no longer
  accepted (A01.FR.03); ``abort_rotation`` otherwise: the old one stays (A01.FR.04).
  ``security.change_station_password`` runs the whole exchange.

Brute force: more than ``max_failures`` failed attempts for one identity within
``failure_window`` seconds refuse that identity for ``lockout`` seconds (every attempt, right or
wrong, gets 401 meanwhile), then it may try again: the legitimate station is delayed, never
locked out for ever. An optional limit per source address is off by default (whole fleets sit
behind one carrier NAT address).

Passwords are bytes: on 1.6 the AuthorizationKey is a binary key sent as raw bytes (OCPP-J 1.6
section 6.2.2 example, identity AL1000) or as its hexadecimal text (whitepaper A00.FR.205); a
stored binary key accepts both spellings. On 2.x passwords are UTF-8 text (A00.FR.205).

The KDF is scrypt (n=4096, r=8: about 15 ms per check here); after one successful check per
process a connection of the same station is verified from memory, so a reconnection storm
costs one KDF per station and restart. ``kdf="sha256"`` (salted, one round) suits fleets whose
passwords are random keys (A01.FR.07) when even that is too slow.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from typing import Literal

import msgspec

from .errors import NotConnected
from .security import Credentials
from .session import Session, canonical_identity

__all__ = ["HashedPasswords", "PasswordHash", "change_station_password", "hash_password", "verify_password"]


class PasswordHash(msgspec.Struct, frozen=True):
    """One salted hash: the ``kdf`` (``scrypt`` or ``sha256``), its ``cost`` (scrypt's n),
    the ``salt`` and the ``digest`` (both hex)."""

    kdf: str
    cost: int
    salt: str
    digest: str


def _derive(password: bytes, kdf: str, cost: int, salt: bytes) -> bytes:
    if kdf == "scrypt":
        return hashlib.scrypt(password, salt=salt, n=cost, r=8, p=1, dklen=32)
    if kdf == "sha256":
        return hashlib.sha256(salt + password).digest()
    raise ValueError(f"unknown KDF {kdf!r}")


def hash_password(password: str | bytes, *, kdf: Literal["scrypt", "sha256"] = "scrypt", cost: int = 4096) -> PasswordHash:
    """A new salted hash of ``password`` (text is UTF-8 encoded) with ``kdf`` (``scrypt``:
    n = ``cost``, r = 8; ``sha256``: one salted round, ``cost`` unused)."""
    raw = password.encode() if isinstance(password, str) else password
    salt = os.urandom(16)
    return PasswordHash(kdf, cost, salt.hex(), _derive(raw, kdf, cost, salt).hex())


def verify_password(password: bytes, stored: PasswordHash) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time comparison)."""
    digest = _derive(password, stored.kdf, stored.cost, bytes.fromhex(stored.salt))
    return hmac.compare_digest(digest, bytes.fromhex(stored.digest))


class _Entry(msgspec.Struct):
    current: list[PasswordHash] = []
    pending: PasswordHash | None = None
    binary: bool = False  # a 1.6 binary key: its hex spelling is accepted too


class HashedPasswords:
    """An authenticator over salted password hashes, with rotation and brute-force limits."""

    def __init__(
        self,
        path: str | None = None,
        *,
        kdf: Literal["scrypt", "sha256"] = "scrypt",
        cost: int = 4096,
        max_failures: int = 5,
        failure_window: float = 60.0,
        lockout: float = 60.0,
        max_failures_per_address: int | None = None,
        unknown_status: int = 401,
        clock: Callable[[], float] = time.monotonic,
        on_failure: Callable[[Credentials, str], None] | None = None,
    ) -> None:
        """``path``: a SQLite file (None: memory only). ``max_failures`` failed attempts for
        one identity within ``failure_window`` seconds lock it for ``lockout`` seconds;
        ``max_failures_per_address`` does the same per source address (None: off).
        ``unknown_status``: 401 (default, tells a prober nothing) or 404 for an unknown
        identity. ``on_failure(credentials, why)`` hears every refusal (never the password).
        ``kdf`` and ``cost``: how new passwords are hashed (see ``hash_password``). ``clock``:
        monotonic seconds, for the failure window and lockout (injectable for tests)."""
        self.kdf = kdf
        self.cost = cost
        self.max_failures = max_failures
        self.failure_window = failure_window
        self.lockout = lockout
        self.max_failures_per_address = max_failures_per_address
        self.unknown_status = unknown_status
        self.on_failure = on_failure
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._failures: dict[str, deque[float]] = {}
        self._locked: dict[str, float] = {}
        self._verified: dict[str, bytes] = {}  # identity -> keyed digest of a password checked before
        self._key = os.urandom(32)
        self._db: sqlite3.Connection | None = None
        if path is not None:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS passwords (identity TEXT PRIMARY KEY, entry BLOB NOT NULL)")
            for identity, blob in self._db.execute("SELECT identity, entry FROM passwords"):
                self._entries[identity] = msgspec.msgpack.decode(blob, type=_Entry)

    # -- managing passwords -------------------------------------------------------------------

    def set_password(self, identity: str, password: str | bytes) -> None:
        """Set (replace) the ``password`` of the station ``identity``; ``bytes`` is a 1.6
        binary AuthorizationKey."""
        entry = _Entry([self._hash(password)], None, isinstance(password, bytes))
        self._store(canonical_identity(identity), entry)

    def remove(self, identity: str) -> None:
        """Forget the station ``identity``: it can no longer authenticate."""
        key = canonical_identity(identity)
        self._entries.pop(key, None)
        self._verified.pop(key, None)
        if self._db is not None:
            self._db.execute("DELETE FROM passwords WHERE identity = ?", (key,))

    def begin_rotation(self, identity: str, new_password: str | bytes) -> None:
        """The CSMS is about to send ``new_password`` to the station ``identity``: accept it besides the
        current one until ``commit_rotation`` or ``abort_rotation``."""
        key = canonical_identity(identity)
        entry = self._entries.get(key) or _Entry()
        self._store(key, _Entry(entry.current, self._hash(new_password), isinstance(new_password, bytes)))

    def commit_rotation(self, identity: str) -> None:
        """The station ``identity`` answered Accepted: only the new password is accepted now
        (A01.FR.03)."""
        key = canonical_identity(identity)
        entry = self._entries.get(key)
        if entry is None or entry.pending is None:
            return
        self._verified.pop(key, None)
        self._store(key, _Entry([entry.pending], None, entry.binary))

    def abort_rotation(self, identity: str) -> None:
        """The station ``identity`` did not accept the new password: the old one stays (A01.FR.04)."""
        key = canonical_identity(identity)
        entry = self._entries.get(key)
        if entry is not None and entry.pending is not None:
            self._store(key, _Entry(entry.current, None, entry.binary))

    def knows(self, identity: str) -> bool:
        """Whether the station ``identity`` has a password here."""
        return canonical_identity(identity) in self._entries

    def _hash(self, password: str | bytes) -> PasswordHash:
        return hash_password(password, kdf=self.kdf, cost=self.cost)

    def _store(self, key: str, entry: _Entry) -> None:
        self._entries[key] = entry
        if self._db is not None:
            self._db.execute(
                "INSERT INTO passwords (identity, entry) VALUES (?, ?) ON CONFLICT(identity) DO UPDATE SET entry = excluded.entry",
                (key, msgspec.msgpack.encode(entry)),
            )

    # -- checking ------------------------------------------------------------------------------

    async def __call__(self, credentials: Credentials) -> bool | int:
        key = canonical_identity(credentials.station_id)
        address = credentials.remote_host
        now = self._clock()
        if self._locked_out(key, now) or (address is not None and self._locked_out("@" + address, now)):
            self._refused(credentials, "locked out after repeated failures")
            return False
        entry = self._entries.get(key)
        if entry is None:
            hmac.compare_digest(b"x" * 32, b"y" * 32)
            self._fail(key, address, now)
            self._refused(credentials, "unknown identity")
            return False if self.unknown_status == 401 else self.unknown_status
        password = credentials.password
        if password is None or not self._matches(key, entry, password):
            self._fail(key, address, now)
            self._refused(credentials, "wrong or missing password")
            return False
        self._failures.pop(key, None)
        return True

    def _matches(self, key: str, entry: _Entry, password: bytes) -> bool:
        tag = hmac.new(self._key, password, hashlib.sha256).digest()
        known = self._verified.get(key)
        if known is not None and hmac.compare_digest(known, tag) and entry.pending is None:
            return True
        candidates = [password]
        if entry.binary:  # 1.6: the key as raw bytes, or its hexadecimal spelling (A00.FR.205)
            try:
                candidates.append(bytes.fromhex(password.decode("ascii")))
            except (UnicodeDecodeError, ValueError):
                pass
        for stored in [*entry.current, *([entry.pending] if entry.pending else [])]:
            if any(verify_password(c, stored) for c in candidates):
                if entry.pending is None:
                    self._verified[key] = tag
                return True
        return False

    def _locked_out(self, key: str, now: float) -> bool:
        until = self._locked.get(key)
        if until is None:
            return False
        if now >= until:
            del self._locked[key]
            self._failures.pop(key, None)
            return False
        return True

    def _fail(self, key: str, address: str | None, now: float) -> None:
        self._count(key, now, self.max_failures)
        if address is not None and self.max_failures_per_address is not None:
            self._count("@" + address, now, self.max_failures_per_address)

    def _count(self, key: str, now: float, limit: int) -> None:
        failures = self._failures.setdefault(key, deque())
        failures.append(now)
        while failures and failures[0] < now - self.failure_window:
            failures.popleft()
        if len(failures) > limit:
            self._locked[key] = now + self.lockout

    def _refused(self, credentials: Credentials, why: str) -> None:
        if self.on_failure is not None:
            self.on_failure(credentials, why)


async def change_station_password(
    session: Session, store: HashedPasswords, new_password: str | bytes, *, timeout: float | None = None
) -> bool:
    """Run use case A01 from the CSMS for the station of ``session``, with ``store`` the
    ``HashedPasswords`` that authenticates it: send ``new_password`` (2.x SetVariables
    SecurityCtrlr.BasicAuthPassword, A01.FR.02; 1.6 ChangeConfiguration AuthorizationKey, a
    binary key as 40 hex digits), then stop accepting the old password if the station answered
    Accepted (A01.FR.03) or keep it otherwise (A01.FR.04), waiting up to ``timeout`` seconds
    for the answer (None: the link's ``call_timeout``). Returns whether it was accepted.
    Raises what the CALL raises (the rotation is then aborted)."""
    link = session.link
    routes = getattr(getattr(link, "binding", None), "routes", None)
    if link is None or routes is None:
        raise NotConnected("-", "SetVariables", f"{session.identity} is not connected")
    store.begin_rotation(session.identity, new_password)
    payload: dict[str, object]
    try:
        if session.version == "1.6":
            route = routes["ChangeConfiguration"]
            value = new_password.hex() if isinstance(new_password, bytes) else new_password
            payload = {"key": "AuthorizationKey", "value": value}
        else:
            route = routes["SetVariables"]
            value = new_password.decode() if isinstance(new_password, bytes) else new_password
            payload = {"setVariableData": [{"attributeValue": value, "component": {"name": "SecurityCtrlr"},
                                             "variable": {"name": "BasicAuthPassword"}}]}
        request = route.request_codec.decode(msgspec.json.encode(payload))
        response = await session.call(route, request, timeout)
    except BaseException:
        store.abort_rotation(session.identity)
        raise
    if session.version == "1.6":
        status = getattr(response, "status", None)
    else:
        results = getattr(response, "set_variable_result", [])
        status = getattr(results[0], "attribute_status", None) if results else None
    accepted = str(getattr(status, "value", status)) == "Accepted"
    if accepted:
        store.commit_rotation(session.identity)
    else:
        store.abort_rotation(session.identity)
    return accepted
