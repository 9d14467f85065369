"""The tester's side of the OCA test cases (2.0.1 Part 6): a test CSMS and a test station that
speak raw OCPP-J over real sockets, with the checks the test tool makes on every message.

Nothing here uses the project's runtime to speak OCPP: frames are built and read as JSON, and
every payload the system under test sends is checked against the official JSON schema of its
version (the project's vendored copies in ``schemas/``) with the reference validator
(``jsonschema``), independently of the generated decoders. A script reads like the test case:

    csms = TestCsms("2.0.1")                              # the OCTT as CSMS
    async with example_station_at("2.0.1", csms):         # tests/conformance/sut.py
        link = await csms.accepted()                      # the station connects
        boot = await link.expect("BootNotification")      # step 1
        await link.reply(boot, {"status": "Accepted", "currentTime": ..., "interval": 300})
        ...
        assert link.violations == []                      # no schema or frame violation

A ``Link`` is one WebSocket seen from the tester: CALLs from the system under test queue up
until a script ``expect``s them (or ``auto`` answers them, for messages a test case allows in
any order); ``call`` sends the tester's own CALL and returns the answer frame.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import itertools
import json
import re
import uuid
import ssl as _ssl
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import jsonschema  # type: ignore[import-untyped]
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Request, Response, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Response as HttpResponse

JSON = Union[dict[str, "JSON"], list["JSON"], str, int, float, bool, None]
Payload = dict[str, Any]  # a decoded JSON object as the tester reads it (the scripts index into it freely)
Answerer = Callable[[Payload], Payload]

SUBPROTOCOL = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1"}
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
TIMEOUT = 5.0


def now() -> str:
    """A 2.x date-time as the tester sends it (RFC 3339, milliseconds, UTC)."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- schema checks (the tool's message validation) -----------------------------------------------

_validators: dict[tuple[str, str], jsonschema.protocols.Validator] = {}


def schema_errors(version: str, action: str, payload: JSON, *, response: bool) -> list[str]:
    """What the official schema of ``action`` (request or response) finds wrong in ``payload``."""
    key = (version, f"{action}{'Response' if response else 'Request' if version != '1.6' else ''}")
    if key not in _validators:
        folder = {"1.6": "v16", "2.0.1": "v201", "2.1": "v21"}[version]
        path = SCHEMAS / folder / f"{key[1]}.json"
        if not path.exists():
            return [f"no schema {path.name} for {action}"]
        schema = json.loads(path.read_text())
        cls = jsonschema.validators.validator_for(schema)
        _validators[key] = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return [f"{action}: {e.message}" for e in _validators[key].iter_errors(payload)]


FRACTION = re.compile(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.(\d+)')


def frame_errors(version: str, text: str) -> list[str]:
    """Frame-level rules the tool checks on every message: a JSON array of the version's shape,
    a message id of at most 36 characters, 2.x date-times with at most 3 decimals (Part 2 §3.1)."""
    try:
        frame = json.loads(text)
    except ValueError:
        return [f"not JSON: {text[:80]}"]
    errors = []
    kinds = {2: 4, 3: 3, 4: 5} | ({5: 5, 6: 4} if version == "2.1" else {})
    if not isinstance(frame, list) or not frame or frame[0] not in kinds or len(frame) != kinds[frame[0]]:
        return [f"not an OCPP-J {version} frame: {text[:80]}"]
    if not isinstance(frame[1], str) or len(frame[1]) > 36:
        errors.append(f"bad message id {frame[1]!r}")
    if version != "1.6":
        errors += [f"date-time with {len(m)} decimals" for m in FRACTION.findall(text) if len(m) > 3]
    return errors


# -- one link -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """A CALL the system under test sent."""

    message_id: str
    action: str
    payload: Payload


@dataclass(frozen=True)
class Answer:
    """The answer to one of the tester's CALLs: a CALLRESULT (``error`` None) or a CALLERROR."""

    payload: Payload
    error: str | None = None


class Link:
    """One WebSocket between the tester and the system under test."""

    def __init__(self, ws: ServerConnection | ClientConnection, version: str) -> None:
        self.ws = ws
        self.version = version
        self.calls: asyncio.Queue[Call] = asyncio.Queue()
        self.received: list[Call] = []  # every CALL of the system under test, in order
        self.violations: list[str] = []
        self.auto: dict[str, Answerer] = {}
        self._pending: dict[str, tuple[str, asyncio.Future[Answer]]] = {}
        self._ids = itertools.count(1)
        self._prefix = uuid.uuid4().hex[:12]
        self.closed = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol

    async def _read(self) -> None:
        try:
            async for text in self.ws:
                text = text if isinstance(text, str) else text.decode()
                errors = frame_errors(self.version, text)
                if errors:
                    self.violations += errors
                    continue
                frame = json.loads(text)
                if frame[0] == 2:
                    call = Call(frame[1], frame[2], frame[3])
                    self.received.append(call)
                    self.violations += schema_errors(self.version, call.action, call.payload, response=False)
                    if call.action in self.auto:
                        await self.reply(call, self.auto[call.action](call.payload))
                    else:
                        self.calls.put_nowait(call)
                elif frame[0] in (3, 4):
                    action, future = self._pending.pop(frame[1], ("", None))
                    if future is None:
                        self.violations.append(f"answer to an unknown message id {frame[1]!r}")
                    elif frame[0] == 3:
                        self.violations += schema_errors(self.version, action, frame[2], response=True)
                        future.set_result(Answer(frame[2]))
                    else:
                        future.set_result(Answer(frame[4], error=frame[2]))
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()

    async def expect(self, action: str, timeout: float = TIMEOUT, *, allow: Mapping[str, Answerer] | None = None) -> Call:
        """The next CALL of the system under test, which must be ``action``; CALLs in ``allow``
        that come first are answered by its answerer (a test case's "in any order")."""
        allow = allow or {}
        while True:
            try:
                call = await asyncio.wait_for(self.calls.get(), timeout)
            except asyncio.TimeoutError:
                raise AssertionError(f"expected {action} within {timeout} s; received {[c.action for c in self.received]}") from None
            if call.action in allow and call.action != action:
                await self.reply(call, allow[call.action](call.payload))
                continue
            assert call.action == action, f"expected {action}, got {call.action} {call.payload}"
            return call

    async def nothing(self, seconds: float) -> None:
        """No CALL arrives for ``seconds`` (a test case's "is not allowed to send")."""
        with contextlib.suppress(asyncio.TimeoutError):
            call = await asyncio.wait_for(self.calls.get(), seconds)
            raise AssertionError(f"unexpected {call.action} {call.payload}")

    async def reply(self, call: Call, payload: Payload) -> None:
        await self.ws.send(json.dumps([3, call.message_id, payload]))

    async def reply_error(self, call: Call, code: str, description: str = "") -> None:
        await self.ws.send(json.dumps([4, call.message_id, code, description, {}]))

    async def call(self, action: str, payload: Payload, timeout: float = TIMEOUT) -> Answer:
        """Send the tester's CALL and wait for its answer."""
        message_id = f"octt-{self._prefix}-{next(self._ids)}"  # unique across connections (2.1: a reused id is a retry)
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = (action, future)
        await self.ws.send(json.dumps([2, message_id, action, payload]))
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"no answer to {action} within {timeout} s") from None

    async def send_raw(self, text: str) -> None:
        await self.ws.send(text)

    async def close(self) -> None:
        await self.ws.close()
        await self.closed.wait()


# -- the tester as CSMS -------------------------------------------------------------------------


@dataclass
class TestCsms:
    """The test tool playing the CSMS: accepts stations on ``ws://127.0.0.1:<port>/<id>``.

    ``passwords``: Basic-auth passwords by identity (security profile 1); ``refuse``: how many
    of the next connection attempts get HTTP 503 (a "connection attempt not accepted")."""

    __test__ = False
    version: str
    passwords: Mapping[str, str] | None = None
    refuse: int = 0
    ssl: _ssl.SSLContext | None = None  # wss:// (security profiles 2 and 3)
    links: asyncio.Queue[Link] = field(default_factory=asyncio.Queue)
    attempts: list[tuple[float, str, Headers]] = field(default_factory=list)  # (loop time, path, headers)

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        self.attempts.append((asyncio.get_running_loop().time(), request.path, request.headers))
        if self.refuse > 0:
            self.refuse -= 1
            return connection.respond(503, "not now\n")
        if self.passwords is not None:
            identity = request.path.rstrip("/").rsplit("/", 1)[-1]
            expected = self.passwords.get(identity)
            header = request.headers.get("Authorization", "")
            wanted = "Basic " + base64.b64encode(f"{identity}:{expected}".encode()).decode()
            if expected is None or header != wanted:
                return connection.respond(401, "unauthorized\n")
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        link = Link(ws, self.version)
        self.links.put_nowait(link)
        await link.closed.wait()

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        """Serve on a free port; yields the base URL stations append their identity to."""
        async with serve(self._handler, "127.0.0.1", 0, subprotocols=[SUBPROTOCOL[self.version]],  # type: ignore[list-item]
                         process_request=self._process_request, ping_interval=None, ssl=self.ssl) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            yield f"{'wss' if self.ssl else 'ws'}://127.0.0.1:{port}/ocpp"

    async def accepted(self, timeout: float = TIMEOUT) -> Link:
        """The next station connection the tester accepted."""
        try:
            link = await asyncio.wait_for(self.links.get(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"no station connected within {timeout} s") from None
        assert link.subprotocol == SUBPROTOCOL[self.version], link.subprotocol
        return link


# -- the tester as station ----------------------------------------------------------------------


@contextlib.asynccontextmanager
async def octt_station(url: str, version: str, *, password: str | None = None,
                       identity: str | None = None, ssl: _ssl.SSLContext | None = None) -> AsyncIterator[Link]:
    """The test tool playing a charging station: one WebSocket to ``url`` (ending in the
    station's identity), Basic auth with ``identity`` (default: the URL's) and ``password``."""
    headers = {}
    if password is not None:
        user = identity or url.rstrip("/").rsplit("/", 1)[-1]
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    async with connect(url, subprotocols=[SUBPROTOCOL[version]], additional_headers=headers,  # type: ignore[list-item]
                       ping_interval=None, ssl=ssl) as ws:
        link = Link(ws, version)
        assert link.subprotocol == SUBPROTOCOL[version], link.subprotocol
        yield link
        await ws.close()


async def refused(url: str, version: str, headers: Mapping[str, str]) -> int:
    """Try an upgrade the system under test must refuse; returns the HTTP status it answered."""
    from websockets.exceptions import InvalidStatus

    try:
        async with connect(url, subprotocols=[SUBPROTOCOL[version]], additional_headers=dict(headers)):  # type: ignore[list-item]
            pass
    except InvalidStatus as exc:
        response: HttpResponse = exc.response
        return response.status_code
    raise AssertionError("the upgrade was accepted")
