"""Station passwords shared by every node of a cluster (decision 0013).

    passwords = SharedPasswords(backplane)           # the registry's backplane
    options = ServerOptions(authenticator=passwords)

``SharedPasswords`` is a ``HashedPasswords`` whose password hashes, failure counters and
lockouts live in the backplane, so:

- a password rotation committed on one node is seen by every node: the old password is refused
  everywhere (A01.FR.03), and an aborted rotation keeps the old one everywhere (A01.FR.04);
- failed attempts count across nodes: a brute force spread over the nodes behind a load
  balancer locks the identity out as it would on one node (more than ``max_failures`` failures
  within ``failure_window`` seconds of the first one lock it for ``lockout`` seconds).

Every check reads the station's entry and lock from the backplane (one round trip), so no node
relies on what it cached; the per-process cache of a verified password is dropped when the entry
changed. Changes (``set_password``, ``begin/commit/abort_rotation``) are written at once in the
background, in order; ``await passwords.flush()`` returns when they are in the backplane, and a
check on the same node waits for them first. While the backplane is down a node checks against
the entries it read last (it cannot learn of a revocation then; the failure counters are local
for that time).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import Callable
from typing import Literal

import msgspec

from .backplane import Backplane, BackplaneDown
from .credentials import HashedPasswords, _Entry
from .security import Credentials
from .session import canonical_identity

__all__ = ["SharedPasswords"]

log = logging.getLogger("ocppgen.cluster")
_entry = msgspec.msgpack.Decoder(_Entry)


class SharedPasswords(HashedPasswords):
    """``HashedPasswords`` kept in a cluster's backplane (see the module docstring)."""

    def __init__(
        self,
        backplane: Backplane,
        *,
        kdf: Literal["scrypt", "sha256"] = "scrypt",
        cost: int = 4096,
        max_failures: int = 5,
        failure_window: float = 60.0,
        lockout: float = 60.0,
        unknown_status: int = 401,
        on_failure: Callable[[Credentials, str], None] | None = None,
    ) -> None:
        """Passwords shared through ``backplane``; the other arguments as ``HashedPasswords``.

        Args:
            backplane: the backplane of the cluster's registry.
            kdf: the password hash (``"scrypt"`` or ``"sha256"``), as ``HashedPasswords``.
            cost: the scrypt cost parameter N.
            max_failures: failed attempts allowed within ``failure_window`` before a lockout.
            failure_window: seconds, from the first failure, over which failures count.
            lockout: seconds an identity is refused once locked out.
            unknown_status: the HTTP status for an unknown identity or a wrong password.
            on_failure: called with the credentials and the reason of every failed check.
        """
        super().__init__(
            None, kdf=kdf, cost=cost, max_failures=max_failures, failure_window=failure_window, lockout=lockout,
            unknown_status=unknown_status, on_failure=on_failure,
        )
        self.backplane = backplane
        self._writes: asyncio.Queue[tuple[str, bytes | None]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._seen: dict[str, bytes] = {}  # identity -> the entry as last read or written

    # -- writes -------------------------------------------------------------------------------

    def _store(self, key: str, entry: _Entry) -> None:
        super()._store(key, entry)
        self._write(key, msgspec.msgpack.encode(entry))

    def remove(self, identity: str) -> None:
        """Forget the station's password on every node.

        Args:
            identity: the station.
        """
        super().remove(identity)
        self._write(canonical_identity(identity), None)

    def _write(self, key: str, data: bytes | None) -> None:
        if data is not None:
            self._seen[key] = data
        else:
            self._seen.pop(key, None)
        self._writes.put_nowait((key, data))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while not self._writes.empty():
            key, data = self._writes.get_nowait()
            while True:
                try:
                    if data is None:
                        await self.backplane.delete(["p/" + key])
                    else:
                        await self.backplane.save({"p/" + key: data}, None)
                    break
                except BackplaneDown as exc:  # keep the order; retry until the backplane is back
                    log.warning("password change for %s not shared yet: %s", key, exc)
                    await asyncio.sleep(0.5)
            self._writes.task_done()

    async def flush(self) -> None:
        """Return once every change made so far is in the backplane."""
        await self._writes.join()

    # -- checks -------------------------------------------------------------------------------

    async def __call__(self, credentials: Credentials) -> bool | int:
        if self._writer is not None and not self._writer.done():
            await self.flush()  # this node's own changes first
        key = canonical_identity(credentials.station_id)
        now = time.time()
        try:
            stored, locked, failures = await self.backplane.load(["p/" + key, "l/" + key, "f/" + key])
            shared = True
        except BackplaneDown as exc:
            log.warning("%s: checked against the last known password (backplane down: %s)", key, exc)
            stored, locked, failures, shared = self._seen.get(key), None, None, False
        if shared:
            self._adopt(key, stored)
        if locked is not None or (not shared and self._locked_out(key, time.monotonic())):
            self._refused(credentials, "locked out after repeated failures")
            return False
        entry = self._entries.get(key)
        if entry is None:
            hmac.compare_digest(b"x" * 32, b"y" * 32)
            await self._failed(key, now, shared)
            self._refused(credentials, "unknown identity")
            return False if self.unknown_status == 401 else self.unknown_status
        password = credentials.password
        if password is None or not self._matches(key, entry, password):
            await self._failed(key, now, shared)
            self._refused(credentials, "wrong or missing password")
            return False
        if failures is not None:  # a success forgets earlier failures, as on one node
            with contextlib.suppress(BackplaneDown):
                await self.backplane.delete(["f/" + key])
        self._failures.pop(key, None)
        return True

    def _adopt(self, key: str, stored: bytes | None) -> None:
        """Take the backplane's entry; forget a password verified against an older one."""
        if stored == self._seen.get(key) and (stored is None) == (key not in self._entries):
            return
        self._verified.pop(key, None)
        if stored is None:
            self._entries.pop(key, None)
            self._seen.pop(key, None)
        else:
            self._entries[key] = _entry.decode(stored)
            self._seen[key] = stored

    async def _failed(self, key: str, now: float, shared: bool) -> None:
        if not shared:
            self._fail(key, None, time.monotonic())
            return
        try:
            count = await self.backplane.add("f/" + key, self.failure_window)
            if count > self.max_failures:
                await self.backplane.save({"l/" + key: b"1"}, self.lockout)
                await self.backplane.delete(["f/" + key])
        except BackplaneDown:
            self._fail(key, None, time.monotonic())
