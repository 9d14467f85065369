"""The charging station's client (asyncio): connect, reconnect with back-off, the durable queue.

    station = StationClient("ws://csms:9000/ocpp/CS-1", v201.station.BINDING, MyStation(),
                            StationOptions(basic_auth=("CS-1", password), queue=SqliteStore("q.db")))
    async with station.running():
        await station.connected(timeout=60)
        boot = await station.csms.boot_notification(BootNotificationRequest(...))   # CsmsClient
        station.submit(v201.routing.TRANSACTION_EVENT, event)   # durable, delivered once Accepted

The client keeps one ``Session`` for its whole life: a registration Accepted once is kept
across reconnects (the station need not boot again, Part 4 2.x section 5.3, 1.6 section 5.4),
and the queue resumes as soon as the link is back. A restart of the process starts a new
session, so the station boots again (1.6 section 4.2, 2.x B01.FR.03).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import os
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Generic, TypeVar

import msgspec
from websockets.asyncio.client import connect
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from .config import StationOptions
from .connection import Connection, WebSocketLike, log
from .errors import CallFailure, ConnectFailed, LocalError, NotAllowed
from .loop import end_tasks
from .queue import Queued, TransactionSender
from .routing import Role, RoleBinding, Route, lifecycle_method
from .server import station_id_from_path
from .security import websockets_logger
from .session import Registration, Session

__all__ = ["StationClient"]

H = TypeVar("H")
C = TypeVar("C")
R = TypeVar("R")
Req = TypeVar("Req")
Resp = TypeVar("Resp")


class StationClient(Generic[H, C]):
    """A charging station's link to its CSMS for one OCPP version (``binding``), typed by it:
    ``csms`` is that version's ``CsmsClient``, ``handler`` must be its ``StationHandler`` (or a
    factory called with the session).

    Args:
        url: The CSMS's WebSocket URL, ``ws://`` or ``wss://``, ending in the station's identity
            (``ws://csms:9000/ocpp/CS-1``); ValueError if the last path segment is no valid identity.
        binding: ``station.BINDING`` of the OCPP version the station speaks.
        handler: The station's handler (a ``StationHandler`` of that version), or a factory
            called with the session.
        options: The station's options (``StationOptions()`` when None).
    """

    def __init__(
        self,
        url: str,
        binding: RoleBinding[H, C],
        handler: H | Callable[[Session], H],
        options: StationOptions | None = None,
    ) -> None:
        if binding.role is not Role.CHARGING_STATION:
            raise TypeError(f"{binding!r} is the CSMS side: a station client needs a station BINDING")
        self.url = url
        self.binding = binding
        self.options = options or StationOptions()
        identity = station_id_from_path(url)
        if identity is None:
            raise ValueError(f"{url!r} does not end in a valid station identity")
        self.station_id = identity
        self.session = Session(
            identity, Role.CHARGING_STATION, registration_gate=self.options.registration_gate,
            answer_cache_size=self.options.answer_cache_size,
        )
        self.session.version = binding.version
        self.handler: H = binding.make_handler(handler, self.session)
        self.session.handler = self.handler
        self.connection: Connection | None = None
        self.delays: list[float] = []
        self.last_error: str | None = None
        self._connected = asyncio.Event()
        self._failed = asyncio.Event()
        self._stopping = False
        self._hooks: asyncio.Queue[Callable[[], Any]] = asyncio.Queue()
        self._ping_interval = self.options.ping_interval or None
        self.sender: TransactionSender | None = None
        opts = self.options
        self._basic_auth = self._load_password()
        self._ssl = opts.ssl
        self._previous: tuple[str, ssl.SSLContext | None, tuple[str, str | bytes] | None] | None = None
        self._fallback_after: int | None = None
        self._failed_new = 0
        self._on_commit: Callable[[], Any] | None = None
        self._retry_after: float | None = None
        self._reported: set[str] = set()
        self._pending_events: list[Any] = []
        if opts.queue is not None:
            self.sender = TransactionSender(
                opts.queue, binding.routes, self._ready, reuse_ids=binding.version == "2.1",
                max_attempts=opts.queue_attempts, interval=opts.queue_interval, call_timeout=opts.call_timeout,
                sleep=opts.sleep, on_dead_letter=opts.on_dead_letter, id_factory=opts.id_factory,
                on_delivered=opts.on_delivered,
            )

    # -- what the application uses --------------------------------------------------------------

    @property
    def csms(self) -> C:
        """The typed client of the CSMS; its calls go over the current connection (NotConnected
        while there is none)."""
        return self.session.client(self.binding)

    @property
    def registered(self) -> bool:
        """Whether the CSMS Accepted this station's BootNotification (kept across reconnects)."""
        return self.session.registration is Registration.ACCEPTED

    @property
    def current(self) -> Connection | None:
        """The connection while connected, else None."""
        return self.connection if self._connected.is_set() else None

    async def connected(self, timeout: float | None = None) -> Connection:
        """Wait until connected; with ``timeout``, raise ConnectFailed carrying the cause of
        the last failed attempt (connection refused, HTTP 401, TLS, ...) when it passes."""
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except asyncio.TimeoutError:
            cause = self.last_error or "no attempt finished yet"
            raise ConnectFailed(f"not connected to {self.url} within {timeout} s; last attempt: {cause}") from None
        assert self.connection is not None
        return self.connection

    async def register(self, boot: Callable[[C], Awaitable[R]], *, timeout: float | None = None) -> R:
        """Boot until the CSMS accepts: ``boot(csms)`` sends the BootNotification (e.g.
        ``lambda csms: csms.boot_notification(request)``); a Pending or Rejected answer is
        followed by another boot after its interval (B02.FR.08, B03.FR.06), or after the
        back-off's minimum when the interval is 0 (B02.FR.07); a lost connection waits for the
        next one. Returns the Accepted answer; ``timeout`` bounds the whole registration."""

        async def loop() -> R:
            while True:
                await self.connected()
                try:
                    answer = await boot(self.csms)
                except (NotAllowed, CallFailure) as exc:  # too early after a Pending, or the link broke
                    wait = 0.2 if isinstance(exc, NotAllowed) else self.options.backoff.wait_minimum
                    await self.options.sleep(wait)
                    continue
                status = getattr(getattr(answer, "status", None), "value", None)
                if status == "Accepted":
                    return answer
                interval = getattr(answer, "interval", 0)
                wait = interval if isinstance(interval, int) and interval > 0 else self.options.backoff.wait_minimum
                log.info("%s: BootNotification %s: booting again in %s s", self.station_id, status, wait,
                         extra={"ocpp_station": self.station_id})
                await self.options.sleep(wait)

        return await asyncio.wait_for(loop(), timeout)

    def set_ping_interval(self, seconds: float | None) -> None:
        """Apply WebSocketPingInterval (1.6 OCPP-J section 7; 2.x Part 4 section 8.4): ``seconds``
        between pings, 0 or None to stop pinging. Takes effect on the current connection at once
        and on every later one (e.g. when the CSMS sets the variable)."""
        self._ping_interval = seconds or None
        if self.connection is not None:
            self.connection.ping_interval = self._ping_interval

    @property
    def ping_interval(self) -> float | None:
        return self._ping_interval

    def submit(self, route: Route[Req, Resp], request: Req, *, start: int | None = None) -> Queued[Resp]:
        """Queue a transaction-related message durably; it is delivered in order once the
        station is connected and registered (needs ``StationOptions(queue=...)``).

        Args:
            route: The message's route (``routing.TRANSACTION_EVENT``, ...), of this version.
            request: The typed request.
            start: 1.6: the number ``submit`` returned for the StartTransaction whose
                transactionId this StopTransaction or MeterValues must carry (the CSMS assigns
                it in StartTransaction.conf, maybe after this message was queued).

        Returns:
            Its sequence number, an ``int`` typed with the response: ``await
            client.response(queued)`` gives the CALLRESULT (e.g. the idTokenInfo of a
            TransactionEventResponse, which the station must act on, E05/E06).
        """
        if self.sender is None:
            raise LocalError("this StationClient has no queue: pass StationOptions(queue=SqliteStore(path))")
        if self.binding.routes.get(route.action) is not route:
            raise LocalError(f"{route!r} is not a route of OCPP {self.binding.version}")
        return self.sender.submit(route, request, start=start)

    async def response(self, queued: Queued[Resp], timeout: float | None = None) -> Resp:
        """The typed response to ``queued``, a message ``submit`` queued, once it is delivered (maybe after
        reconnects and retries). Raises DeadLettered when the queue gave up on it, TimeoutError
        after ``timeout`` seconds (None: no limit). Covers deliveries made by this process;
        ``StationOptions.on_delivered`` also sees those of messages queued before a restart."""
        if self.sender is None:
            raise LocalError("this StationClient has no queue: pass StationOptions(queue=SqliteStore(path))")
        future = self.sender.outcome(queued)
        result = await asyncio.wait_for(asyncio.shield(future), timeout)
        return result  # type: ignore[return-value]  # the route's response type (Queued[Resp])

    def transaction_id(self, start: int) -> int | None:
        """1.6: the transactionId the CSMS assigned to the StartTransaction queued as ``start``."""
        if self.sender is None:
            return None
        return self.sender.store.transaction_id(start)

    # -- running --------------------------------------------------------------------------

    def _ready(self) -> Connection | None:
        connection = self.current
        if connection is None or connection.closed or self.session.registration is not Registration.ACCEPTED:
            return None
        return connection

    def _headers(self) -> Headers:
        headers = Headers(dict(self.options.extra_headers))
        if self._basic_auth is not None:
            user, password = self._basic_auth
            secret = password if isinstance(password, bytes) else password.encode()
            token = base64.b64encode(user.encode() + b":" + secret).decode()
            headers["Authorization"] = f"Basic {token}"
        return headers

    def _load_password(self) -> tuple[str, str | bytes] | None:
        basic = self.options.basic_auth
        path = self.options.password_file
        if path is None or not os.path.exists(path):
            return basic
        with open(path, "rb") as f:
            stored = f.read()
        user = basic[0] if basic is not None else self.station_id
        if stored.startswith(b"hex:"):
            return user, bytes.fromhex(stored[4:].decode())
        return user, stored.decode("utf-8")

    def reconfigure(
        self,
        *,
        url: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        basic_auth: tuple[str, str | bytes] | None = None,
        fallback_after: int | None = 3,
        on_commit: Callable[[], Any] | None = None,
    ) -> None:
        """Connect with new settings, e.g. a higher security profile (2.x A05, 1.6 whitepaper
        A05): another ``url`` (``wss://``), a TLS context ``ssl_context`` (profile 2/3), other
        credentials ``basic_auth`` (``(identity, password)``); None keeps the current one. The
        current connection closes and the next attempts use the new settings. Once connected
        with them, ``on_commit()`` runs (2.x A05.FR.06: now update SecurityProfile and drop
        lower profiles); if ``fallback_after`` attempts in a row fail first, the previous
        settings come back (1.6 A05.FR.08; 2.x: the next NetworkConfigurationPriority entry).
        The station identity stays: a URL must end in the same identity."""
        if url is not None and station_id_from_path(url) != self.station_id:
            raise ValueError(f"{url!r} does not end in this station's identity {self.station_id!r}")
        self._previous = (self.url, self._ssl, self._basic_auth)
        self.url = url if url is not None else self.url
        self._ssl = ssl_context if ssl_context is not None else self._ssl
        self._basic_auth = basic_auth if basic_auth is not None else self._basic_auth
        self._fallback_after = fallback_after
        self._failed_new = 0
        self._on_commit = on_commit
        log.info("%s: reconnecting to %s with new settings", self.station_id, self.url, extra={"ocpp_station": self.station_id})
        self.security_event("ReconfigurationOfSecurityParameters", "connection settings changed", critical=False)
        if self.connection is not None and not self.connection.closed:
            self.connection.close_reason = "reconnecting with new settings"
            asyncio.get_running_loop().create_task(self.connection.close(1000, "new settings"))

    def _commit_settings(self) -> None:
        if self._previous is None:
            return
        self._previous = None
        if self._on_commit is not None:
            self._on_commit()

    def _settings_failed(self) -> None:
        if self._previous is None or self._fallback_after is None:
            return
        self._failed_new += 1
        if self._failed_new >= self._fallback_after:
            log.warning("%s: the new settings failed %d times: falling back to the previous ones", self.station_id,
                        self._failed_new, extra={"ocpp_station": self.station_id})
            self.url, self._ssl, self._basic_auth = self._previous
            self._previous = None

    def set_password(self, password: str | bytes, *, reconnect: bool = True) -> None:
        """A new Basic-auth ``password`` (use case A01: the CSMS sent it and the station answers
        Accepted; call this from ``context.after_response``): stored durably in
        ``password_file`` first, then the station reconnects with it (``reconnect``). A
        ``bytes`` password is a 1.6 binary AuthorizationKey. Never logged (A01.FR.12)."""
        path = self.options.password_file
        if path is not None:
            data = b"hex:" + password.hex().encode() if isinstance(password, bytes) else password.encode("utf-8")
            tmp = f"{path}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        user = self._basic_auth[0] if self._basic_auth is not None else self.station_id
        self._basic_auth = (user, password)
        log.info("%s: Basic-auth password changed", self.station_id, extra={"ocpp_station": self.station_id})  # A01.FR.11
        self.security_event("ReconfigurationOfSecurityParameters", "BasicAuthPassword changed", critical=False)
        if reconnect and self.connection is not None and not self.connection.closed:
            self.connection.close_reason = "reconnecting with the new password"
            asyncio.get_running_loop().create_task(self.connection.close(1000, "new credentials"))

    def security_event(self, kind: str, detail: str, *, critical: bool) -> None:
        """Report a security event to the CSMS (SecurityEventNotification, 2.x A04; 1.6
        security extension): ``kind`` is its type (e.g. ``FailedToAuthenticateAtCsms``),
        ``detail`` its techInfo (cut to 255 characters). ``critical`` ones go through the durable queue when there is one
        (A04.FR.02), others once the station is registered again. A kind already reported
        and not cleared by a success is not sent again (A00.FR.419's note)."""
        route = self.binding.routes.get("SecurityEventNotification")
        if not self.options.security_events or route is None or kind in self._reported:
            return
        self._reported.add(kind)
        now = datetime.datetime.now(datetime.timezone.utc)
        request = route.request_codec.decode(
            msgspec.json.encode({"type": kind, "timestamp": now.isoformat(), "techInfo": detail[:255]})
        )
        if critical and self.sender is not None:
            self.sender.submit(route, request)
        else:
            self._pending_events.append(request)
            self._flush_events()

    def _flush_events(self) -> None:
        route = self.binding.routes.get("SecurityEventNotification")
        if route is None or not self._pending_events or self._ready() is None:
            return
        events, self._pending_events = self._pending_events, []

        async def send() -> None:
            for request in events:
                try:
                    await self.session.call(route, request, None)
                except Exception as exc:  # best effort for non-critical events
                    log.info("%s: SecurityEventNotification not delivered: %s", self.station_id, exc)

        asyncio.get_running_loop().create_task(send())

    async def run(self) -> None:
        """Connect and reconnect until ``stop``/the end of ``running()``."""
        attempt = 0
        opts = self.options
        while not self._stopping:
            try:
                async with connect(
                    self.url,
                    subprotocols=[self.binding.subprotocol],  # type: ignore[list-item]
                    additional_headers=self._headers(),
                    ssl=self._ssl,
                    open_timeout=opts.open_timeout,
                    close_timeout=opts.close_timeout,
                    max_size=opts.max_size,
                    ping_interval=None,  # the connection pings itself, at an interval that may change
                    compression="deflate" if opts.compression else None,
                    logger=websockets_logger("client"),
                ) as websocket:
                    if websocket.subprotocol != self.binding.subprotocol:
                        await websocket.close(1002, "no supported OCPP version agreed")
                        raise _Refused(f"no common OCPP version (offered {self.binding.subprotocol})")
                    attempt = 0
                    self.last_error = None
                    self._commit_settings()
                    self._reported.difference_update({"FailedToAuthenticateAtCsms", "InvalidCsmsCertificate", "InvalidTLSVersion"})
                    await self._serve(websocket)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every cause of a failed attempt is logged and retried
                self.last_error = _cause(exc)
                log.warning("%s: connecting to %s failed: %s", self.station_id, self.url, self.last_error,
                            extra={"ocpp_station": self.station_id})
                self._event_for(exc)
                self._settings_failed()
            if self._stopping:
                break
            delay = opts.backoff.delay(attempt, opts.random)
            if self._retry_after is not None:  # the CSMS is admitting slowly (HTTP 503 Retry-After)
                delay, self._retry_after = max(delay, self._retry_after), None
            self.delays.append(delay)
            attempt += 1
            await opts.sleep(delay)

    async def serve(self, websocket: WebSocketLike) -> None:
        """Run one connection over ``websocket``, a WebSocket that is open already, of any transport (``run``
        opens its own with websockets; ``ocppgen.testing`` passes in-memory ones), until it
        closes. Use it inside ``running(connect=False)``, which runs the hooks and the queue."""
        await self._serve(websocket)

    async def _serve(self, websocket: Any) -> None:
        connection = Connection(
            websocket, self.binding, self.session, self.handler, self.options, on_registration=self._registration_changed
        )
        connection.ping_interval = self._ping_interval
        reconnect = self.options.reconnect_on_timeout
        connection.close_on_timeout = self.binding.version != "1.6" if reconnect is None else reconnect
        self.connection = connection
        self.session.attach(connection, self.binding.version)
        self._connected.set()
        log.info(
            "%s: connected to %s (OCPP %s, registration %s)", self.station_id, self.url, self.binding.version,
            self.session.registration.value, extra={"ocpp_station": self.station_id},
        )
        self._hook("connected", self.session, connection.client)
        if self.sender is not None:
            self.sender.wake()  # registered before: resume delivery without a new boot
        self._flush_events()
        try:
            await connection.run()
        finally:
            self._connected.clear()
            log.info(
                "%s: disconnected (code %s%s)", self.station_id, connection.close_code,
                f", {connection.close_reason}" if connection.close_reason else "",
                extra={"ocpp_station": self.station_id},
            )
            self._hook("disconnected", self.session, connection.close_code, connection.close_reason)
            await connection.stop_tasks()

    def _event_for(self, exc: BaseException) -> None:
        """The security event a failed connection attempt stands for, if any (and the
        Retry-After of a 503, RFC 9110 section 10.2.3)."""
        if isinstance(exc, InvalidStatus) and exc.response.status_code in (429, 503):
            after = exc.response.headers.get("Retry-After", "")
            self._retry_after = float(after) if after.isdigit() else None
        if isinstance(exc, InvalidStatus) and exc.response.status_code == 401:
            self.security_event("FailedToAuthenticateAtCsms", "HTTP 401", critical=False)
        elif isinstance(exc, ssl.SSLCertVerificationError):
            self.security_event("InvalidCsmsCertificate", str(exc.verify_message or exc), critical=True)  # A00.FR.413
        elif isinstance(exc, ssl.SSLError) and "VERSION" in str(exc.reason or "").upper():
            self.security_event("InvalidTLSVersion", str(exc.reason), critical=True)  # A00.FR.419

    def _registration_changed(self, connection: Connection, registration: str) -> None:
        if registration == Registration.ACCEPTED.value:
            self._hook("registered", self.session, connection.client)
            if self.sender is not None:
                self.sender.wake()
            self._flush_events()

    def _hook(self, name: str, *args: Any) -> None:
        method = lifecycle_method(self.handler, self.binding.handler_type, name)
        if method is not None:  # (None: none, or the generated class's empty default)
            self._hooks.put_nowait(lambda: method(*args))

    async def _run_hooks(self) -> None:
        while True:
            hook = await self._hooks.get()
            try:
                await hook()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: a lifecycle hook failed", self.station_id)

    @contextlib.asynccontextmanager
    async def running(self, *, connect: bool = True) -> AsyncIterator[StationClient[H, C]]:
        """Run the client (and its queue) for the duration of the block. ``connect=False``:
        do not connect to ``url``; the caller hands in open sockets with ``serve``."""
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(self._run_hooks())]
        if connect:
            tasks.insert(0, loop.create_task(self.run()))
        if self.sender is not None:
            tasks.append(loop.create_task(self.sender.run()))
        try:
            yield self
        finally:
            await self.stop(tasks)

    async def stop(self, tasks: list[asyncio.Task[None]] | None = None) -> None:
        """Stop reconnecting, close the current connection, and cancel and await ``tasks`` (the
        tasks ``running`` started; the end of the ``running()`` block calls this)."""
        self._stopping = True
        if self.connection is not None and not self.connection.closed:
            with contextlib.suppress(Exception):
                await self.connection.close()
        await end_tasks(tasks or [])


class _Refused(Exception):
    """The CSMS completed the handshake but agreed on no OCPP version of ours."""


def _cause(exc: BaseException) -> str:
    """A failed connection attempt in a few words."""
    if isinstance(exc, _Refused):
        return str(exc)
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        what = {401: "unauthorized", 403: "forbidden", 404: "unknown station identity"}.get(status, exc.response.reason_phrase)
        return f"HTTP {status} ({what})"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS: certificate verification failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {exc.reason or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionClosed):
        return f"connection closed during the handshake (code {exc.rcvd.code if exc.rcvd else 'none'})"
    if isinstance(exc, InvalidHandshake):
        return f"handshake failed: {exc}"
    if isinstance(exc, OSError):
        return f"network error: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"
