"""The CSMS server: handshake, identity, authentication, subprotocol, sessions (asyncio).

    server = CsmsServer(ServerOptions(authenticator=StaticPasswords({...})))
    server.handle(v21.csms.BINDING, Csms21())                          # in preference order
    server.handle(v201.csms.BINDING, lambda session: Csms201(db))      # one handler per station
    async with server.serve("0.0.0.0", 9000):                          # ws://host:9000/<path>/<id>
        session = await server.registry.wait_for("CS-1", timeout=60, registered=True)
        await server.registry.client("CS-1", v201.csms.BINDING).reset(ResetRequest(...))

One port serves every OCPP version given to ``handle``; a station offering several gets the
first in that order (``ServerOptions.choose_subprotocol`` may decide per station). The station
identity is the last path segment, percent-decoded. A new connection for a station that is
connected already replaces the old one at once: the old one's pending calls fail, its close
runs in the background (a half-open old TCP path does not delay the new connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import urllib.parse
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from .config import ServerOptions
from .connection import Connection, WebSocketLike, log
from .routing import Role, RoleBinding, lifecycle_method
from .security import Credentials, parse_basic_auth, websockets_logger
from .session import Session
from .tls import limit_read_buffer
from .registry import LocalRegistry

__all__ = ["Admission", "CsmsServer", "is_identifier_string", "station_id_from_path"]

H = TypeVar("H")
MAX_ID_CHARS = 48  # OCPP 2.x identity: identifierString[48]; 1.6 identities are shorter
# identifierString (2.x Part 2 primitive datatypes) without the colon (2.1 Part 4 section 3.1.1:
# the identity is also the Basic-auth user name, which the colon ends)
_IDENTITY = re.compile(r"[A-Za-z0-9*\-_=+|@.]{1,48}\Z")
_CHALLENGE = (("WWW-Authenticate", 'Basic realm="OCPP", charset="UTF-8"'),)


class _DroppedHeaders(Headers):
    """What an open connection's handshake request and response hold as headers: none. The
    server reads what it needs from the handshake while admitting the station (credentials,
    offered versions, the path); keeping the headers after that costs ~3 KiB per connection,
    about a fifth of an idle station's memory (decision 0019). One shared, read-only instance."""

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise TypeError("an open connection's handshake headers were dropped after admission (ocppgen CsmsServer)")

    __setitem__ = __delitem__ = clear = _refuse  # (update and pop go through them)


_NO_HEADERS = _DroppedHeaders()


@dataclass(frozen=True)
class Admission:
    """The decision on one opening handshake (``CsmsServer.admit``), for any transport.

    Admitted (``status`` is None): complete the handshake with ``subprotocol`` when the station
    offered it (None, or one it did not offer: complete it without one; ``run_connection``
    then closes with 1002 unless it is the ``default_subprotocol`` of a station that offered
    none), then serve the socket with ``run_connection``. Refused: answer HTTP ``status``
    with ``body`` and ``headers`` instead of upgrading.

    Attributes:
        station_id: The identity from the path (None when the path held no valid one).
        subprotocol: The OCPP version's subprotocol chosen for the station (``ocpp2.0.1``).
        credentials: What the station presented, as given to the authenticator.
        status: None when admitted; else the HTTP status of the refusal.
        body: The refusal's body.
        headers: The refusal's extra headers (401: ``WWW-Authenticate``; 503: ``Retry-After``).
        offered: The subprotocols the station offered, in its order.
    """

    station_id: str | None
    subprotocol: str | None
    credentials: Credentials | None
    status: int | None = None
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    offered: tuple[str, ...] = ()


def station_id_from_path(path: str) -> str | None:
    """The station identity of ``path`` (a URL or its path): the last segment, percent-decoded,
    validated (1-48 printable characters, no slash); None when it is not a valid identity."""
    raw = urllib.parse.urlsplit(path).path.rstrip("/").rsplit("/", 1)[-1]
    try:
        ident = urllib.parse.unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return None
    if not 1 <= len(ident) <= MAX_ID_CHARS or not ident.isprintable() or "/" in ident:
        return None
    return ident


def is_identifier_string(identity: str) -> bool:
    """Whether ``identity`` is a valid 2.1 station identity (identifierString, no colon, 1-48)."""
    return _IDENTITY.match(identity) is not None


class CsmsServer:
    """One CSMS server for every OCPP version it is given handlers for.

    Args:
        options: The server's options (``ServerOptions()`` when None).
        registry: Where sessions live and application code finds them (``server.registry``);
            a ``LocalRegistry`` built from the options' ``session_ttl`` and ``session_store``
            when None.
    """

    def __init__(self, options: ServerOptions | None = None, *, registry: LocalRegistry | None = None) -> None:
        self.options = options or ServerOptions()
        if registry is None:  # not "registry or ...": an empty registry is falsy (it has a length)
            registry = LocalRegistry(session_ttl=self.options.session_ttl, store=self.options.session_store)
        self.registry = registry
        self.bindings: dict[str, tuple[RoleBinding[Any, Any], object]] = {}
        self.server: Server | None = None
        self._connections: set[Connection] = set()
        self._abandoned: set[Connection] = set()  # replaced; closing in the background
        # bound once: every connection holds these two, not two bound methods of its own
        self._on_registration = self._registration_changed
        self._on_security = self._security

    def handle(self, binding: RoleBinding[H, Any], handler: H | Callable[[Session], H]) -> None:
        """Serve ``binding``'s OCPP version with ``handler``: one handler object for every
        station, or a factory called with each station's session (once per session: the
        handler lives as long as the session, across reconnects). Call once per version, in
        order of preference."""
        if binding.role is not Role.CSMS:
            raise TypeError(f"{binding!r} is the charging station's side: the server needs a csms BINDING")
        if binding.subprotocol in self.bindings:
            raise ValueError(f"OCPP {binding.version} is served already")
        if not isinstance(handler, binding.handler_type) and not callable(handler):
            raise TypeError(f"{handler!r} is neither a {binding.handler_type.__name__} nor a factory of one")
        self.bindings[binding.subprotocol] = (binding, handler)

    @property
    def preference(self) -> list[str]:
        return list(self.bindings)

    # -- handshake ------------------------------------------------------------------------

    def _select(self, connection: ServerConnection, offered: Sequence[str]) -> str | None:
        station = station_id_from_path(connection.request.path) if connection.request else None
        return self._choose(station, offered)

    def _choose(self, station: str | None, offered: Sequence[str]) -> str | None:
        choose = self.options.choose_subprotocol
        if choose is not None and station is not None:
            chosen = choose(station, offered)
            if chosen is not None and chosen in offered and chosen in self.bindings:
                return chosen
        for candidate in self.bindings:
            if candidate in offered:
                return candidate
        return None  # complete the handshake without a subprotocol, then close (Part 4)

    async def admit(
        self,
        path: str,
        headers: Iterable[tuple[str, str]],
        *,
        tls: bool = False,
        certificate: Mapping[str, Any] | None = None,
        peer: object = None,
    ) -> Admission:
        """Decide an opening handshake, whatever the transport (websockets here, ASGI in
        ``asgi``): the station identity of ``path`` (percent-encoded, as sent), the subprotocol
        from the ``Sec-WebSocket-Protocol`` entries of ``headers`` (the request's header
        name/value pairs), the identity rules, the authenticator with
        the ``Authorization`` header, ``tls`` and the client ``certificate`` (a ``peercert()``
        mapping; profile 3), and the security-profile floor. ``peer``: the client's address
        (host, port), for logs and ``Credentials.remote_host``. Refusals are logged and
        reported to the registry here; the caller answers ``Admission.status``."""
        where = _address_text(peer)
        limiter = self.options.connection_limiter
        if limiter is not None:  # admission control: refuse before any authentication or session work
            host = peer[0] if isinstance(peer, tuple) and peer else None
            retry_after = limiter.admit(host if isinstance(host, str) else None, asyncio.get_running_loop().time())
            if retry_after is not None:
                return Admission(None, None, None, status=503, body="Busy: try again later\n",
                                 headers=(("Retry-After", str(retry_after)),))
        station_id = station_id_from_path(path)
        if station_id is None:
            log.warning("refused %s: not a valid station identity", where)
            return Admission(None, None, None, status=404, body="Unknown or invalid charging station identity\n")
        pairs = list(headers)
        offered = [p.strip() for k, v in pairs if k.lower() == "sec-websocket-protocol" for p in v.split(",") if p.strip()]
        chosen = self._choose(station_id, offered) or (self.options.default_subprotocol if not offered else None)
        binding = self.bindings.get(chosen or "", (None, None))[0]
        if (self.options.strict_identity or (binding is not None and binding.version == "2.1")) and not is_identifier_string(station_id):
            log.warning("refused %r (%s): not an identifierString of at most 48 characters without a colon",
                        station_id, where, extra={"ocpp_station": station_id})
            return Admission(station_id, None, None, status=404, body="Invalid charging station identity\n")
        profile = 3 if certificate else 2 if tls else 1
        address = peer[0] if isinstance(peer, tuple) and peer else None
        authorizations = [v for k, v in pairs if k.lower() == "authorization"]
        authorization = authorizations[0] if len(authorizations) == 1 else None  # two: no credentials
        credentials = Credentials(
            station_id=station_id,
            password=parse_basic_auth(authorization, station_id),
            certificate=certificate,
            version=binding.version if binding is not None else None,
            security_profile=profile,
            remote_host=address,
        )
        authenticator = self.options.authenticator
        if authenticator is not None:
            verdict = await authenticator(credentials)
            if verdict is not True:
                status = 401 if verdict is False else int(verdict)
                log.warning("%s: authentication failed, HTTP %d (%s)", station_id, status, where,
                            extra={"ocpp_station": station_id})
                self.registry.security(station_id, credentials.version, "authentication_failed", f"HTTP {status} from {where}")
                if status != 401:
                    return Admission(station_id, None, credentials, status=status,
                                     body="Unknown charging station\n" if status == 404 else "Refused\n")
                return Admission(station_id, None, credentials, status=401, body="Unauthorized\n", headers=_CHALLENGE)
        floor, allow_downgrade = await self.registry.security_floor(station_id)
        if profile < floor and not (credentials.version == "2.1" and allow_downgrade and floor == 3 and profile == 2):
            log.warning("%s: security profile %d refused: it connected with profile %d before (A05.FR.07)", station_id,
                        profile, floor, extra={"ocpp_station": station_id})
            self.registry.security(station_id, credentials.version, "profile_downgrade", f"profile {profile} after {floor}")
            return Admission(station_id, None, credentials, status=401, body="Unauthorized\n", headers=_CHALLENGE)
        return Admission(station_id, chosen, credentials, offered=tuple(offered))

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        transport = connection.transport
        certificate = transport.get_extra_info("peercert") if transport is not None else None
        tls = transport is not None and transport.get_extra_info("ssl_object") is not None
        admission = await self.admit(
            request.path, request.headers.raw_items(), tls=tls, certificate=certificate, peer=connection.remote_address
        )
        if admission.status is not None:
            response = connection.respond(admission.status, admission.body)
            for name, value in admission.headers:
                response.headers[name] = value
            return response
        connection.ocpp_credentials = admission.credentials  # type: ignore[attr-defined]
        return None

    # -- a connection's life ----------------------------------------------------------------

    def _handler(self, websocket: ServerConnection) -> Coroutine[Any, Any, None]:
        """websockets' connection handler: a plain function that returns the coroutine serving
        the connection (``_serve``, as ``run_connection`` does), so an open connection's task
        holds no frame of this function (memory per idle connection)."""
        request = websocket.request
        station_id = station_id_from_path(request.path if request else "")
        subprotocol: str | None = websocket.subprotocol
        offered = request.headers.get_all("Sec-WebSocket-Protocol") if request else []
        default = self.options.default_subprotocol
        if subprotocol is None and not offered and default in self.bindings:
            subprotocol = default
        credentials: Credentials | None = getattr(websocket, "ocpp_credentials", None)
        if credentials is not None:  # off the socket: only the session's floor and serial outlive the handshake
            del websocket.ocpp_credentials  # type: ignore[attr-defined]
        if request is not None:  # the handshake is over and read: its headers go (memory per connection)
            request.headers = _NO_HEADERS
        if websocket.response is not None:
            websocket.response.headers = _NO_HEADERS
        # websockets binds the subprotocol callback to the protocol with a closure over the
        # connection: a reference cycle that would leave every closed connection (its buffers,
        # the handshake) to the cyclic garbage collector. The handshake has used it: it goes.
        vars(websocket.protocol).pop("select_subprotocol", None)
        return self._serve(self._open(websocket, station_id, subprotocol, credentials, offered, True))

    async def run_connection(
        self,
        websocket: WebSocketLike,
        station_id: str | None,
        subprotocol: str | None,
        credentials: Credentials | None,
        *,
        offered: Sequence[str] = (),
        keepalive: bool = True,
    ) -> None:
        """Serve one opened ``websocket`` of any transport (websockets here, ASGI in ``asgi``) until
        it closes: open the session of ``station_id``, replace its previous connection, attach,
        run. ``station_id``, ``subprotocol``, ``credentials`` and ``offered`` are the
        ``Admission``'s; ``subprotocol``: the version agreed in the handshake (``Admission.subprotocol``);
        ``keepalive``: whether the connection pings (off where the ASGI server pings)."""
        await self._serve(self._open(websocket, station_id, subprotocol, credentials, offered, keepalive))

    async def _serve(self, opening: Coroutine[Any, Any, Connection | None]) -> None:
        """Run the connection ``opening`` gives (``_open``) until it closes, then report its end.
        This frame, ``Connection.run``'s and websockets' own are all an open connection's task
        holds."""
        connection = await opening
        del opening  # a finished coroutine keeps its frame's memory (and the credentials in it)
        if connection is None:
            return
        try:
            await connection.run()
        finally:
            self._connections.discard(connection)
            self._abandoned.discard(connection)
            self._disconnected(connection, replaced=False)

    async def _open(
        self,
        websocket: WebSocketLike,
        station_id: str | None,
        subprotocol: str | None,
        credentials: Credentials | None,
        offered: Sequence[str],
        keepalive: bool,
    ) -> Connection | None:
        """``run_connection``'s setup (its own frame, gone once the connection runs): the
        attached, announced connection, or None when the socket was closed instead."""
        if station_id is None or subprotocol is None or subprotocol not in self.bindings:
            log.warning(
                "%s: no supported OCPP version offered (%s); closing", station_id, ", ".join(offered) or "none",
                extra={"ocpp_station": station_id},
            )
            await websocket.close(1002, "no supported OCPP version offered")
            return None
        binding, spec = self.bindings[subprotocol]
        options = self.options
        session = await self.registry.open(
            station_id,
            lambda identity: Session(
                identity, Role.CSMS, registration_gate=options.registration_gate,
                unknown_registration=options.unknown_registration, answer_cache_size=options.answer_cache_size,
            ),
        )
        old = session.link
        if isinstance(old, Connection):  # decision 0006: the new connection replaces the old one
            log.info("%s: a new connection replaces the previous one", station_id, extra={"ocpp_station": station_id})
            old.abandon("replaced by a new connection", options.replaced_close_timeout)
            self._abandoned.add(old)
            self._disconnected(old, replaced=True)
        connection = Connection(
            websocket, binding, session, None, options, on_registration=self._on_registration, on_security=self._on_security
        )
        if not keepalive:
            connection.ping_interval = None
        session.attach(connection, binding.version)
        if credentials is not None:
            if credentials.security_profile > session.security_floor:
                session.security_floor = credentials.security_profile  # A05.FR.07: never lower again
            cn = credentials.certificate_cn
            session.certificate_serial = cn if credentials.security_profile == 3 and options.certificate_binding == "serial_number" else None
        if session.handler is None or not isinstance(session.handler, binding.handler_type):
            session.handler = binding.make_handler(spec, session)
        connection.handler = session.handler
        session.remote_address = websocket.remote_address
        self._connections.add(connection)
        log.info(
            "%s: connected (OCPP %s, %s, registration %s)", station_id, binding.version, _peer(websocket),
            session.registration.value, extra={"ocpp_station": station_id, "ocpp_version": binding.version},
        )
        self.registry.connected(session, _hook(session.handler, binding, "connected", session, connection.client))
        return connection

    def _disconnected(self, connection: Connection, *, replaced: bool) -> None:
        """Report a connection's end once: when it was replaced (before the new connection's
        ``connected``), or when its socket closed."""
        if connection.reported:
            return
        connection.reported = True
        session = connection.session
        station_id = session.identity
        log.info(
            "%s: disconnected (code %s%s)", station_id, connection.close_code,
            f", {connection.close_reason}" if connection.close_reason else "",
            extra={"ocpp_station": station_id, "ocpp_close_code": connection.close_code},
        )
        self.registry.disconnected(
            session, connection.close_code, connection.close_reason, replaced,
            _hook(connection.handler, connection.binding, "disconnected", session, connection.close_code, connection.close_reason),
        )

    def _security(self, connection: Connection, kind: str, detail: str) -> None:
        session = connection.session
        self.registry.security(session.identity, session.version, kind, detail)

    def _registration_changed(self, connection: Connection, registration: str) -> None:
        session = connection.session
        self.registry.registration_changed(session, _hook(connection.handler, connection.binding, "registered", session, connection.client))

    # -- serving --------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def serve(self, host: str, port: int, **kwargs: Any) -> AsyncIterator[Server]:
        """Listen on ``host`` and ``port`` (0: any free port; the yielded server's ``sockets``
        say which) until the block exits, then shut down gracefully (see ``stop``). Further
        keyword arguments go to ``websockets.asyncio.server.serve`` (e.g. ``ssl=``)."""
        if not self.bindings:
            raise RuntimeError("no OCPP version to serve: call handle(binding, handler) first")
        options = self.options
        if kwargs.get("ssl") is not None and options.tls_read_buffer is not None:
            limit_read_buffer(options.tls_read_buffer)  # ~290 KiB less per TLS station on asyncio's loop
        self.server = await serve(
            self._handler,
            host,
            port,
            subprotocols=list(self.bindings),  # type: ignore[arg-type]
            select_subprotocol=self._select,  # type: ignore[arg-type]
            process_request=self._process_request,
            max_size=options.max_size,
            ping_interval=None,  # the connection pings itself (Connection._keepalive)
            open_timeout=options.open_timeout,
            close_timeout=options.close_timeout,
            compression="deflate" if options.compression else None,
            logger=websockets_logger("server"),
            **kwargs,
        )
        try:
            yield self.server
        finally:
            await self.stop()

    async def stop(self) -> None:
        """Stop accepting, let running handlers finish (up to ``drain_timeout``), close every
        connection with 1001."""
        if self.server is None:
            return
        self.server.close(close_connections=False)
        await self.close_connections()
        await self.server.wait_closed()
        await self.registry.join_hooks()
        self.server = None

    async def close_connections(self) -> None:
        """Let running handlers finish (up to ``drain_timeout``), then close every connection
        this server serves, whatever its transport, with 1001 (``stop`` and the ASGI
        endpoint's shutdown)."""
        await asyncio.gather(*(c.drain(self.options.drain_timeout) for c in list(self._connections)))
        for connection in list(self._abandoned):
            connection.abort()  # replaced ones get no closing handshake at shutdown
        for connection in list(self._connections - self._abandoned):
            with contextlib.suppress(Exception):
                await connection.close(1001, "server shutting down")


def _hook(handler: object, binding: RoleBinding[Any, Any], name: str, *args: Any) -> Callable[[], Any] | None:
    method = lifecycle_method(handler, binding.handler_type, name)
    if method is None:  # none, or the generated class's empty default: nothing to run
        return None
    return lambda: method(*args)


def _peer(websocket: WebSocketLike) -> str:
    return _address_text(websocket.remote_address)


def _address_text(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)
