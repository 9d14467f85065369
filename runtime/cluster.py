"""One CSMS across processes and nodes: the cluster registry (decision 0013).

    backplane = RedisBackplane("redis://127.0.0.1:6379/0", ttl=15)
    registry = ClusterRegistry(backplane)
    server = CsmsServer(options, registry=registry)                  # a node: holds WebSockets
    async with registry, server.serve("0.0.0.0", 9000):
        station = registry.client("CS-1", v201.csms.BINDING)        # wherever CS-1 is connected
        await station.reset(ResetRequest(type=ResetEnumType.Immediate))

    async with ClusterRegistry(RedisBackplane(url)) as registry:     # an API process: no sockets
        await registry.client("CS-1", v201.csms.BINDING).reset(...)

``ClusterRegistry`` is a ``LocalRegistry`` (the stations connected to this process) that also
knows every station connected elsewhere (as a session whose link is a ``RemoteCaller``), so
``session``, ``sessions``, ``client``, ``wait_for``, ``events`` and ``listen`` work as on one
node. What it shares through the ``Backplane``:

- presence: the node holding each station, renewed every ``ttl / 3`` seconds while connected;
- CALLs: routed into the holding node's inbox, sent there, answered on the caller's channel;
- events: every node publishes its stations' events to every process;
- session state: registration, 2.1 answer cache, security-profile floor (A05.FR.07), saved when
  it changes and loaded when a station connects, so a station moving to another node is not
  asked to boot again and a 2.1 retry on another node is answered from the cache;
- replacement: a newer connection on another node makes the old node close its socket and fail
  its pending calls at once.

Delivery: a CALL is sent at most once. It returns the typed response or raises the error a
local call raises, or: ``NotConnected`` (connected nowhere, at once), ``NotSent`` (the node was
gone before it took the CALL, or the CALL expired first), ``OutcomeUnknown`` (the node took it
and died or never answered), ``ClusterUnavailable`` (the backplane is down). Redis outages never
close station connections; when Redis is back each node restores its presence and session state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar

import msgspec

from .backplane import (
    Backplane,
    BackplaneDown,
    CallReply,
    CallRequest,
    ClusterEvent,
    Presence,
    Replace,
    decode_event,
    decode_inbound,
    decode_reply,
    encode,
    error_from_wire,
    error_to_wire,
)
from .connection import Connection
from .errors import ClusterUnavailable, InvalidMessage, NotConnected, NotSent, OcppError, OutcomeUnknown, VersionMismatch
from .loop import end_tasks
from .registry import LocalRegistry, SessionStore, StationEvent
from .routing import Role, RoleBinding, Route
from .session import Registration, Session, SessionState, canonical_identity

__all__ = ["ClusterRegistry", "RemoteCaller"]

C = TypeVar("C")
Req = TypeVar("Req")
Res = TypeVar("Res")
log = logging.getLogger("ocppgen.cluster")
_state = msgspec.msgpack.Decoder(SessionState)


def _state_name(key: str) -> str:
    """The backplane name of a station's shared session state (``s/`` + its canonical identity;
    identities never contain a slash)."""
    return "s/" + key


class RemoteCaller:
    """The link of a station connected to another process: a ``Caller`` whose CALLs travel
    through the backplane to the node holding the station."""

    def __init__(self, registry: ClusterRegistry, identity: str) -> None:
        """Link ``registry`` to ``identity``.

        Args:
            registry: the cluster registry whose backplane carries the CALLs.
            identity: the station, connected to another process.
        """
        self.registry = registry
        self.identity = identity

    async def call(self, route: Route[Req, Res], request: Req, timeout: float | None) -> Res:
        """Send a CALL to the station through its node and return the typed response.

        Args:
            route: the action's route (request and response codecs).
            request: the request message.
            timeout: seconds to wait for the station's answer, None for the registry's ``call_timeout``.
        """
        reply = await self.registry._remote(self.identity, route, request, timeout, send=False)
        codec = route.response_codec
        if reply is None or codec is None:
            raise InvalidMessage(f"{route.action} is a SEND: it has no response")
        return codec.decode(reply)

    async def send(self, route: Route[Req, Any], message: Req) -> None:
        """Send a 2.1 SEND (no answer) to the station through its node.

        Args:
            route: the action's route.
            message: the message to send.
        """
        await self.registry._remote(self.identity, route, message, None, send=True)


class ClusterRegistry(LocalRegistry):
    """A registry shared by every process on one backplane (see the module docstring)."""

    def __init__(
        self,
        backplane: Backplane,
        *,
        session_ttl: float | None = 24 * 3600.0,
        store: SessionStore | None = None,
        call_timeout: float = 30.0,
        grace: float = 2.0,
        replaced_close_timeout: float = 2.0,
    ) -> None:
        """``call_timeout``: the CALL timeout when a call names none (as ``Options.call_timeout``);
        ``grace``: seconds a caller waits beyond the CALL timeout for the node's answer before
        the outcome counts as unknown; ``store``: a durable store beside the backplane (e.g.
        PostgreSQL), used when the backplane knows nothing of a station.

        Args:
            backplane: the engine every process of the cluster shares (``RedisBackplane``).
            session_ttl: seconds a disconnected station's session is kept (as ``LocalRegistry``).
            store: a durable store beside the backplane (``PostgresSessionStore``).
            call_timeout: the CALL timeout when a call names none.
            grace: seconds beyond the CALL timeout before the outcome counts as unknown.
            replaced_close_timeout: seconds a node waits for the socket of a station replaced by a
                connection on another node to close.
        """
        super().__init__(session_ttl=session_ttl, store=store)
        self.backplane = backplane
        self.node = backplane.node
        self.call_timeout = call_timeout
        self.grace = grace
        self.replaced_close_timeout = replaced_close_timeout
        #: Whether the backplane answered the last time this process used it.
        self.available = False
        self._proxies: dict[str, Session] = {}  # stations connected to other processes
        self._proxy_node: dict[str, str] = {}
        self._held: dict[str, Presence] = {}  # stations connected here, as recorded in presence
        self._pending: dict[str, asyncio.Future[CallReply]] = {}
        self._replaced: set[str] = set()  # replaced by a connection on another node
        self._dirty: set[str] = set()
        self._save_queued = False
        self._event_seq = 0  # events handled so far; _touched: the last one per station
        self._touched: dict[str, int] = {}
        self._ops: asyncio.Queue[Callable[[], Awaitable[None]]] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._started = False

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Join the cluster: subscribe, learn which stations are connected where. Raises
        ``BackplaneDown`` if the backplane cannot be reached now."""
        if self._started:
            return
        self._started = True
        self._ops = asyncio.Queue()
        self._spawn(self._run_ops())
        await self.backplane.start(self._on_inbound, self._on_reply, self._on_event, self._reestablish)
        await self._refresh()  # this node's liveness key, before any station claims presence
        await self._sync_proxies()
        self._spawn(self._refresh_loop())

    async def close(self) -> None:
        """Leave the cluster (close the server first: its stations are released as they go)."""
        if self._ops is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._ops.join(), 2.0)
        await end_tasks(list(self._tasks))
        await self.backplane.close()
        self._started = False

    async def __aenter__(self) -> ClusterRegistry:
        await self.start()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _queue(self, op: Callable[[], Awaitable[None]]) -> None:
        """Backplane writes of this process, one after the other in the order things happened."""
        if self._ops is not None:
            self._ops.put_nowait(op)

    async def _run_ops(self) -> None:
        assert self._ops is not None
        while True:
            op = await self._ops.get()
            try:
                await op()
            except BackplaneDown as exc:
                self.available = False
                log.debug("%s: backplane write failed: %s", self.node, exc)
            except Exception:
                log.exception("%s: backplane write failed", self.node)
            finally:
                self._ops.task_done()

    async def _refresh_loop(self) -> None:
        """Renew presence every ttl/3; restore what the backplane lost; close connections that
        another node took over; now and then relearn where the other stations are."""
        period = max(self.backplane.ttl / 3, 0.05)
        rounds = 0
        while True:
            await asyncio.sleep(period)
            rounds += 1
            try:
                was = self.available
                await self._refresh()
                if not was:
                    await self._reestablish()
                elif rounds % 3 == 0:
                    await self._sync_proxies()
            except BackplaneDown as exc:
                if self.available:
                    log.warning("%s: backplane unavailable (%s); station connections stay", self.node, exc)
                self.available = False
            except Exception:  # a bug must not stop the renewal of this node's presence
                log.exception("%s: presence refresh failed", self.node)

    async def _refresh(self) -> None:
        held = {key: p for key, p in self._held.items() if self._local(key) is not None}
        lost, restored = await self.backplane.refresh(held)
        self.available = True
        for key in lost:
            self._give_up(key, "a newer connection of this station opened on another node")
        if restored:  # Redis forgot them (restart): their session state too, most likely
            log.info("%s: restored the presence of %d stations", self.node, len(restored))
            self._dirty.update(restored)
            await self._save_dirty()

    async def _reestablish(self) -> None:
        """After a backplane outage (Redis may have lost everything): presence, session state
        and the view of the other nodes' stations, from what this process holds."""
        await self._refresh()
        self._mark_dirty([key for key in self._held if self._local(key) is not None])
        await self._sync_proxies()

    async def _sync_proxies(self) -> None:
        """Relearn where the other stations are from the presence keys. Events that arrive
        while the scan runs are newer than it: the stations they touched keep what the events
        said."""
        mark = self._event_seq
        present = await self.backplane.present()

        def stale(key: str) -> bool:
            return self._touched.get(key, -1) > mark

        for key in list(self._proxies):
            where = present.get(key)
            if (where is None or where.node == self.node) and not stale(key):
                self._drop_proxy(key)
        missing = [
            k for k, p in present.items()
            if p.node != self.node and not stale(k) and (self._proxy_node.get(k) != p.node or not self._proxies[k].registered)
        ]
        states = await self.backplane.load([_state_name(k) for k in missing]) if missing else []
        for key, data in zip(missing, states):
            if stale(key):
                continue
            presence = present[key]
            proxy = self._proxy(key, key, presence.version, presence.node)
            if data is not None:
                state = _state.decode(data)
                proxy.identity = state.identity
                proxy.registration = Registration(state.registration)
            self._resolve(proxy)  # a wait_for that missed the station's events

    # -- the application's side -----------------------------------------------------------------

    def _local(self, key: str) -> Session | None:
        session = self._sessions.get(key)
        return session if session is not None and session.connected else None

    def session(self, identity: str) -> Session | None:
        """The session of ``identity``: connected here, connected elsewhere (its link a
        ``RemoteCaller``), or known here and disconnected; None otherwise.

        Args:
            identity: the station.
        """
        key = canonical_identity(identity)
        local = self._local(key)
        if local is not None:
            return local
        proxy = self._proxies.get(key)
        if proxy is not None and proxy.connected:
            return proxy
        return super().session(identity)

    def sessions(self) -> list[Session]:
        local = super().sessions()
        here = {s.key for s in local if s.connected}
        return [s for s in local if s.connected or s.key not in self._proxies] + [
            p for k, p in self._proxies.items() if p.connected and k not in here
        ]

    def __contains__(self, identity: object) -> bool:
        if not isinstance(identity, str):
            return False
        session = self.session(identity)
        return session is not None and session.connected

    def __len__(self) -> int:
        return sum(1 for s in self.sessions() if s.connected)

    def client(self, identity: str, binding: RoleBinding[Any, C]) -> C:
        """The typed client of ``identity`` wherever it is connected: calls go straight to the
        socket when it is here, through the backplane otherwise. NotConnected at once when it is
        connected nowhere; VersionMismatch when it speaks another version.

        Args:
            identity: the station.
            binding: the role binding of its OCPP version (``v201.csms.BINDING``).
        """
        key = canonical_identity(identity)
        session: Session | None = self._local(key) or self._proxies.get(key)
        if session is None or not session.connected:
            raise NotConnected("-", "-", f"station {identity!r} is connected nowhere in the cluster")
        return session.client(binding)

    async def wait_for(self, identity: str, *, timeout: float | None = None, registered: bool = False) -> Session:
        """Wait until ``identity`` is connected on any node.

        Args:
            identity: the station.
            timeout: seconds to wait, None for no limit.
            registered: wait until its registration is Accepted too.
        """
        proxy = self._proxies.get(canonical_identity(identity))
        if proxy is not None and proxy.connected and (proxy.registered or not registered):
            return proxy
        return await super().wait_for(identity, timeout=timeout, registered=registered)

    # -- the server's side ----------------------------------------------------------------------

    async def open(self, identity: str, make: Callable[[str], Session]) -> Session:
        """The station's session, its state taken from the backplane when it was not connected
        here (it may have been served by another node since).

        Args:
            identity: the station, as it connected.
            make: builds a new session for an identity never seen here.
        """
        self._expire()
        key = canonical_identity(identity)
        session: Session | None = self._sessions.get(key)
        if session is None or not session.connected:
            state = await self._load(key)
            if session is None:
                session = make(identity)
                if state is None and self.store is not None:
                    state = await self.store.load(key)
                self._sessions[key] = session
            if state is not None:
                session.restore(state)
        session.identity = identity
        session.on_answer = self._answer_changed
        self._gone.pop(key, None)
        return session

    async def _load(self, key: str) -> SessionState | None:
        try:
            data = (await self.backplane.load([_state_name(key)]))[0]
        except BackplaneDown:
            return None
        return None if data is None else _state.decode(data)

    def connected(self, session: Session, hook: Callable[[], Any] | None) -> None:
        """The server's hook when a station's connection opened: claims its presence (a
        holder on another node is told to close) and shares its state.

        Args:
            session: the station's session.
            hook: the application's ``on_connect`` callback, or None.
        """
        key = session.key
        self._replaced.discard(key)
        presence = Presence(self.node, session.version or "", time.time())
        self._held[key] = presence
        self._drop_proxy(key)

        async def claim() -> None:
            previous = await self.backplane.claim(key, presence, newest_wins=False)
            if previous is not None and previous.node != self.node:  # decision 0006, across nodes
                await self.backplane.push(previous.node, encode(Replace(identity=key, node=self.node, since=presence.since)))

        self._queue(claim)
        self._mark_dirty([key])
        super().connected(session, hook)

    def registration_changed(self, session: Session, hook: Callable[[], Any] | None) -> None:
        """The server's hook when a registration changed: shares the new state.

        Args:
            session: the station's session.
            hook: the application's callback, or None.
        """
        self._mark_dirty([session.key])
        super().registration_changed(session, hook)

    def disconnected(
        self, session: Session, code: int | None, reason: str, replaced: bool, hook: Callable[[], Any] | None
    ) -> None:
        """The server's hook when a station's connection closed: releases its presence.

        Args:
            session: the station's session.
            code: the WebSocket close code, None when there was none.
            reason: the close reason.
            replaced: whether a newer connection of the station replaced this one.
            hook: the application's ``on_disconnect`` callback, or None.
        """
        key = session.key
        if key in self._replaced and not session.connected:
            replaced = True
            self._replaced.discard(key)
        if not session.connected:
            presence = self._held.pop(key, None)
            if presence is not None:
                self._queue(lambda: self.backplane.release(key, presence))
        self._mark_dirty([key])
        super().disconnected(session, code, reason, replaced, hook)

    async def security_floor(self, identity: str) -> tuple[int, bool]:
        """A05.FR.07 across nodes: the highest profile any node saw the station connect with.

        Args:
            identity: the station.
        """
        key = canonical_identity(identity)
        local = self._local(key)
        if local is not None:
            return local.security_floor, local.allow_downgrade
        state = await self._load(key)
        floor, allow = await super().security_floor(identity)
        if state is not None and state.security_floor > floor:
            return state.security_floor, False
        return floor, allow

    def _answer_changed(self, session: Session) -> None:
        self._mark_dirty([session.key])

    def _mark_dirty(self, keys: list[str]) -> None:
        self._dirty.update(keys)
        if self._dirty and not self._save_queued:
            self._save_queued = True
            self._queue(self._save_dirty)

    async def _save_dirty(self) -> None:
        self._save_queued = False
        keys, self._dirty = self._dirty, set()
        items = {}
        for key in keys:
            session = self._sessions.get(key)
            if session is not None:
                items[_state_name(key)] = encode(session.snapshot())
        try:
            await self.backplane.save(items, self.session_ttl)
        except BackplaneDown:
            self._dirty |= keys  # saved again when the backplane is back (_reestablish)
            raise

    def _publish(self, event: StationEvent) -> None:
        super()._publish(event)
        session = self._sessions.get(canonical_identity(event.identity))
        registration = session.registration.value if session is not None else Registration.UNKNOWN.value
        message = encode(ClusterEvent(origin=self.node, registration=registration, **msgspec.structs.asdict(event)))
        self._queue(lambda: self.backplane.publish(message))

    # -- what arrives from the backplane --------------------------------------------------------

    def _on_event(self, data: bytes) -> None:
        try:
            self._event(decode_event(data))
        except Exception:  # one bad message must not stop the others
            log.exception("%s: a cluster event could not be handled", self.node)

    def _event(self, event: ClusterEvent) -> None:
        if event.origin == self.node:
            return
        key = canonical_identity(event.identity)
        self._event_seq += 1
        self._touched[key] = self._event_seq
        if event.kind == "connected" and event.version is not None:
            proxy = self._proxy(key, event.identity, event.version, event.origin)
            proxy.registration = Registration(event.registration)
        elif event.kind == "registered":
            held = self._proxies.get(key)
            if held is not None:
                held.registration = Registration.ACCEPTED
        elif event.kind == "disconnected" and self._proxy_node.get(key) == event.origin:
            self._drop_proxy(key)
        fields = msgspec.structs.asdict(event)
        del fields["origin"], fields["registration"]
        LocalRegistry._publish(self, StationEvent(**fields))
        known = self._proxies.get(key)
        if known is not None:
            self._resolve(known)

    def _proxy(self, key: str, identity: str, version: str, node: str) -> Session:
        proxy = self._proxies.get(key)
        if proxy is None:
            proxy = self._proxies[key] = Session(identity, Role.CSMS)
        link = proxy.link
        proxy.attach(link if isinstance(link, RemoteCaller) else RemoteCaller(self, key), version)
        self._proxy_node[key] = node
        return proxy

    def _drop_proxy(self, key: str) -> None:
        proxy = self._proxies.pop(key, None)
        self._proxy_node.pop(key, None)
        if proxy is not None and proxy.link is not None:
            proxy.detach(proxy.link)

    def _on_reply(self, data: bytes) -> None:
        try:
            reply = decode_reply(data)
        except msgspec.DecodeError:
            log.exception("%s: an undecodable reply", self.node)
            return
        future = self._pending.get(reply.id)
        if future is not None and not future.done():
            future.set_result(reply)

    def _on_inbound(self, data: bytes) -> None:
        try:
            message = decode_inbound(data)
        except msgspec.DecodeError:
            log.exception("%s: an undecodable message in the inbox", self.node)
            return
        if isinstance(message, Replace):
            self._replace(message)
        else:
            self._spawn(self._serve(message))

    def _replace(self, message: Replace) -> None:
        presence = self._held.get(message.identity)
        if presence is not None and presence.since <= message.since:
            self._give_up(message.identity, f"replaced by a new connection on node {message.node}")

    def _give_up(self, key: str, reason: str) -> None:
        """Another node holds the station now: close ours at once, failing its pending calls."""
        session = self._local(key)
        self._held.pop(key, None)
        if session is None:
            return
        link = session.link
        if isinstance(link, Connection):
            log.info("%s: %s", session.identity, reason, extra={"ocpp_station": session.identity})
            self._replaced.add(key)
            link.abandon(reason, self.replaced_close_timeout)

    async def _serve(self, request: CallRequest) -> None:
        """A CALL from another process for a station connected here."""
        try:
            payload = await self._execute(request)
            reply = CallReply(id=request.id, payload=payload)
        except OcppError as exc:
            reply = CallReply(id=request.id, error=error_to_wire(exc))
        except Exception as exc:  # a bug here must still answer the caller
            log.exception("%s: serving a remote %s failed", self.node, request.action)
            reply = CallReply(id=request.id, error=error_to_wire(exc))
        try:
            await self.backplane.reply(request.reply_to, encode(reply))
        except BackplaneDown as exc:
            log.warning("%s: the answer to a remote %s was lost: %s", self.node, request.action, exc)

    async def _execute(self, request: CallRequest) -> bytes | None:
        session = self._local(request.identity)
        if session is None:
            raise NotConnected(request.id, request.action, f"{request.identity} is no longer connected to node {self.node}")
        if time.time() > request.deadline:
            raise NotSent(request.id, request.action, "the call expired before the node could send it")
        binding: RoleBinding[Any, Any] | None = getattr(session.link, "binding", None)
        route = None if binding is None else binding.routes.get(request.action)
        if route is None:
            raise VersionMismatch(f"OCPP {session.version} has no {request.action}")
        try:
            message = route.request_codec.decode(request.payload)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise InvalidMessage(f"{request.action}: {exc}") from None
        if request.send:
            await session.send(route, message)
            return None
        response = await session.call(route, message, request.timeout)
        assert route.response_codec is not None
        return route.response_codec.encode(response)

    # -- calls to stations on other nodes -------------------------------------------------------

    async def _remote(
        self, identity: str, route: Route[Req, Any], request: Req, timeout: float | None, *, send: bool
    ) -> bytes | None:
        local = self._local(identity)
        if local is not None:  # it moved here meanwhile
            if send:
                await local.send(route, request)
                return None
            return route.response_codec.encode(await local.call(route, request, timeout)) if route.response_codec else None
        loop = asyncio.get_running_loop()
        wait = self.call_timeout if timeout is None else timeout
        call_id = uuid.uuid4().hex
        message = encode(CallRequest(
            id=call_id, reply_to=self.node, identity=identity, action=route.action,
            payload=route.request_codec.encode(request), timeout=timeout, deadline=time.time() + wait, send=send,
        ))
        future: asyncio.Future[CallReply] = loop.create_future()
        self._pending[call_id] = future
        try:
            try:
                presence = await self.backplane.route(identity, message)
            except BackplaneDown as exc:
                raise ClusterUnavailable(call_id, route.action, str(exc), sent=exc.maybe_applied) from None
            if presence is None:
                self._drop_proxy(identity)
                raise NotConnected(call_id, route.action, f"{identity} is connected nowhere in the cluster")
            reply = await self._await(future, presence.node, message, call_id, route.action, loop.time() + wait + self.grace)
        finally:
            self._pending.pop(call_id, None)
        if reply.error is not None:
            raise error_from_wire(reply.error)
        return reply.payload

    async def _await(
        self, future: asyncio.Future[CallReply], node: str, message: bytes, call_id: str, action: str, deadline: float
    ) -> CallReply:
        """The node's answer; while waiting, watch that the node lives (its liveness key has the
        presence TTL), so a dead node's calls fail within that TTL."""
        loop = asyncio.get_running_loop()
        check = max(self.backplane.ttl / 3, 0.05)
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                why = "no answer from node " + node + " in time"
                break
            done, _ = await asyncio.wait({future}, timeout=min(check, remaining))
            if done:
                return future.result()
            try:
                alive = await self.backplane.node_alive(node)
            except BackplaneDown as exc:
                raise ClusterUnavailable(call_id, action, f"{exc}; the call may have been sent", sent=True) from None
            if not alive:
                why = f"node {node} died"
                break
        try:
            untaken = await self.backplane.retract(node, message)
        except BackplaneDown as exc:
            raise ClusterUnavailable(call_id, action, f"{why}; {exc}", sent=True) from None
        if untaken:
            raise NotSent(call_id, action, f"{why} before it took the call")
        raise OutcomeUnknown(call_id, action, f"{why} after it took the call: the station may have received it")

