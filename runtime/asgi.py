"""A CSMS endpoint for any ASGI application (Starlette, FastAPI, ...), beside its REST API.

    server = CsmsServer(ServerOptions(authenticator=StaticPasswords({...})))
    server.handle(v201.csms.BINDING, MyCsms())
    endpoint = CsmsEndpoint(server)                      # an ASGI application
    app = Starlette(routes=[WebSocketRoute("/ocpp/{station_id}", endpoint)])
    # a REST handler of the same app: server.registry.client("CS-1", v201.csms.BINDING).reset(...)

The endpoint is the websockets server's handshake and connection life on another transport:
``CsmsServer.admit`` decides the handshake (identity, subprotocol, identity rules,
authentication, security-profile floor) and ``CsmsServer.run_connection`` serves the socket
(sessions, registry, hooks, the protocol core), so both transports behave alike. What ASGI
cannot carry, and what the endpoint does instead (docs/asgi.md):

- A refusal before the upgrade (HTTP 401 with its ``WWW-Authenticate`` challenge, 404, or the
  authenticator's status) needs the ``websocket.http.response`` extension; where the server
  offers it (uvicorn, Hypercorn) the station gets that HTTP answer. Elsewhere the
  endpoint accepts and closes at once with ``REFUSED_CLOSE_BASE + status`` (4401, 4404, ...)
  and the body as the reason.
- ASGI servers do not expose the TLS client certificate: security profile 3 needs a
  TLS-terminating proxy that verifies the certificate and forwards it in a header, trusted only
  when configured (``ForwardedCertificate``); otherwise profile 3 is unavailable (stations
  connect with profile 1 or 2 and a ``CertificateAuthenticator`` refuses them).
- TLS (profile 2) is what the ASGI scope says (``scheme`` ``wss``; behind a proxy, the
  server's proxy-header handling, e.g. uvicorn ``--proxy-headers``).
- Ping interval and timeout, permessage-deflate and the largest message are the ASGI server's
  settings (uvicorn: ``ws_ping_interval``, ``ws_ping_timeout``, ``ws_per_message_deflate``,
  ``ws_max_size``); the endpoint's connections do not ping themselves.

Nothing here imports a web framework: ASGI is plain callables.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import urllib.parse
from collections.abc import Awaitable, Callable, Collection, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from websockets.exceptions import ConnectionClosed
from websockets.frames import Close

from .connection import log
from .server import Admission, CsmsServer

__all__ = [
    "AsgiWebSocket", "CsmsEndpoint", "ForwardedCertificate", "FrameworkWebSocket", "REFUSED_CLOSE_BASE", "parse_certificate",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

class FrameworkWebSocket(Protocol):
    """A web framework's WebSocket object that exposes its ASGI triple (Starlette, FastAPI)."""

    @property
    def scope(self) -> Scope: ...

    async def receive(self) -> Message: ...

    async def send(self, message: Message) -> None:
        """Send an ASGI ``message``."""
        ...


#: Without the ``websocket.http.response`` extension a refused handshake is accepted and closed
#: at once with this plus the HTTP status (4401 unauthorized, 4404 unknown identity, ...).
REFUSED_CLOSE_BASE = 4000


@dataclass(frozen=True, kw_only=True)
class ForwardedCertificate:
    """Security profile 3 behind a TLS-terminating proxy: the proxy verifies the station's
    client certificate against the CSMS's CA and forwards it in ``header``; the endpoint
    believes that header only from ``trusted_proxies`` (peer addresses as the ASGI scope's
    ``client`` shows them; ``"*"``: any peer, when nothing but the proxy can reach the app).

    ``header``: the certificate as PEM, URL-escaped PEM or base64 DER (nginx:
    ``proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;``). ``verified_header``:
    where the proxy says whether verification succeeded (nginx: ``X-SSL-Client-Verify
    $ssl_client_verify``); a value other than ``SUCCESS`` means no certificate. None: the proxy
    forwards only verified certificates. A forwarded certificate marks the connection as TLS.
    The header from any other peer is ignored (and logged): a station could forge it.
    """

    trusted_proxies: Collection[str] | Literal["*"]
    header: str = "x-ssl-client-cert"
    verified_header: str | None = "x-ssl-client-verify"

    def certificate(self, headers: list[tuple[str, str]], peer: object) -> Mapping[str, Any] | None:
        """The certificate forwarded in the request's ``headers`` (name/value pairs) as a
        ``peercert()``-style mapping, or None (none, not verified, or ``peer``, the client
        address of the ASGI scope, is not a trusted proxy)."""
        name, verified = self.header.lower(), (self.verified_header or "").lower()
        value = next((v for k, v in headers if k.lower() == name), None)
        if value is None or not value.strip():
            return None
        host = peer[0] if isinstance(peer, tuple) and peer else None
        if self.trusted_proxies != "*" and host not in self.trusted_proxies:
            log.warning("ignored the %s header from %s: not a trusted proxy", self.header, host)
            return None
        if verified and next((v for k, v in headers if k.lower() == verified), "").strip().upper() != "SUCCESS":
            return None
        try:
            return parse_certificate(value)
        except ValueError as exc:
            log.warning("ignored the %s header from %s: %s", self.header, host, exc)
            return None


class CsmsEndpoint:
    """The ASGI application of a ``CsmsServer``: mount it on a WebSocket route (the station
    identity is the last path segment, as for the websockets server). It also answers a plain
    HTTP request with 426 and runs the lifespan protocol when it is the whole application.

    Args:
        server: The ``CsmsServer`` whose handlers, options and registry serve the stations
            (``handle`` must have been called).
        forwarded_certificate: Profile 3 behind a TLS-terminating proxy (None: no client
            certificates under ASGI).
    """

    def __init__(self, server: CsmsServer, *, forwarded_certificate: ForwardedCertificate | None = None) -> None:
        if not server.bindings:
            raise RuntimeError("no OCPP version to serve: call server.handle(binding, handler) first")
        self.server = server
        self.forwarded_certificate = forwarded_certificate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "http":
            body = b"OCPP-J needs a WebSocket upgrade\n"
            await send({"type": "http.response.start", "status": 426,
                        "headers": [(b"upgrade", b"websocket"), (b"content-type", b"text/plain"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
        elif kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.shutdown()
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    async def serve(self, websocket: FrameworkWebSocket) -> None:
        """Serve ``websocket``, a framework's WebSocket object that was not accepted yet (Starlette's and
        FastAPI's ``WebSocket``: its ``scope``, ``receive`` and ``send``), e.g. from a FastAPI
        ``@router.websocket`` function, after its dependencies ran."""
        await self(websocket.scope, websocket.receive, websocket.send)

    async def shutdown(self) -> None:
        """Let running handlers finish, close every connection with 1001 (``CsmsServer.stop``
        for this transport), wait for the lifecycle hooks. Call it from the application's
        lifespan; an ASGI server may close the sockets itself first (uvicorn: 1012)."""
        await self.server.close_connections()
        await self.server.registry.join_hooks()

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers") or ()]
        client = scope.get("client")
        peer = tuple(client) if client else None
        tls = scope.get("scheme") in ("wss", "https")
        certificate = None
        if self.forwarded_certificate is not None:
            certificate = self.forwarded_certificate.certificate(headers, peer)
            tls = tls or certificate is not None
        raw = scope.get("raw_path")
        path = raw.decode("latin-1") if raw else urllib.parse.quote(scope.get("path", ""))
        admission = await self.server.admit(path, headers, tls=tls, certificate=certificate, peer=peer)
        if admission.status is not None:
            await _refuse(scope, send, admission)
            return
        offered = list(scope.get("subprotocols") or admission.offered)
        agreed = admission.subprotocol if admission.subprotocol in offered else None
        await send({"type": "websocket.accept", "subprotocol": agreed})
        websocket = AsgiWebSocket(receive, send, peer, close_timeout=self.server.options.close_timeout)
        await self.server.run_connection(
            websocket, admission.station_id, admission.subprotocol, admission.credentials,
            offered=admission.offered, keepalive=False,
        )


async def _refuse(scope: Scope, send: Send, admission: Admission) -> None:
    status = admission.status or 403
    if "websocket.http.response" in (scope.get("extensions") or {}):
        body = admission.body.encode()
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in admission.headers]
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": REFUSED_CLOSE_BASE + status, "reason": admission.body.strip()[:120]})


class AsgiWebSocket:
    """An accepted ASGI WebSocket with the interface ``Connection`` uses (``WebSocketLike``):
    iteration yields text (and binary) messages until ``websocket.disconnect``; ``close`` sends
    ``websocket.close`` and waits, up to ``close_timeout``, for the peer's answer. ASGI cannot
    ping or abort a TCP connection: ``ping`` returns at once, ``abort`` stops reading so the
    application returns and the server drops the socket. ``receive`` and ``send`` are the
    ASGI callables of the connection, ``peer`` the client address of its scope."""

    def __init__(self, receive: Receive, send: Send, peer: object, *, close_timeout: float = 10.0) -> None:
        self._receive = receive
        self._send = send
        self.remote_address = peer
        self.close_timeout = close_timeout
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._done = asyncio.Event()
        self._close_sent = False
        self._aborted = False
        self._iterating = False
        self._reading: asyncio.Task[Any] | None = None

    @property
    def transport(self) -> AsgiWebSocket:
        return self

    def __aiter__(self) -> AsgiWebSocket:
        self._iterating = True
        return self

    async def __anext__(self) -> str | bytes:
        while not self._done.is_set():
            message = await self._read()
            if message is None:
                break
            kind = message["type"]
            if kind == "websocket.receive":
                if message.get("text") is not None:
                    return str(message["text"])
                if message.get("bytes") is not None:
                    return bytes(message["bytes"])
            elif kind == "websocket.disconnect":
                self._finish(int(message.get("code") or 1005), str(message.get("reason") or ""))
        self._iterating = False
        raise StopAsyncIteration

    async def _read(self) -> Message | None:
        """The next ASGI message; None when ``abort`` ended the reading."""
        task = self._reading = asyncio.current_task()
        try:
            return await self._receive()
        except asyncio.CancelledError:
            if self._aborted and task is not None and task.uncancel() == 0:
                self._finish(1006, "aborted")
                return None
            raise
        except Exception:  # the server's receive failed: the socket is gone
            self._finish(1006, "")
            return None
        finally:
            self._reading = None

    async def send(self, message: str, /) -> None:
        """Send the text ``message``; ConnectionClosed once the socket closed."""
        if self._done.is_set() or self._close_sent:
            raise ConnectionClosed(_close(self.close_code, self.close_reason), None)
        try:
            await self._send({"type": "websocket.send", "text": message})
        except Exception as exc:  # the server refuses once the client is gone (e.g. ClientDisconnected)
            self._finish(1006, "")
            raise ConnectionClosed(None, None) from exc

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close with ``code`` and ``reason`` and wait (up to ``close_timeout``) for the peer."""
        if not self._close_sent and not self._done.is_set():
            self._close_sent = True
            try:
                await self._send({"type": "websocket.close", "code": code, "reason": reason})
            except Exception:
                self._finish(1006, "")
        try:
            async with asyncio.timeout(self.close_timeout):
                if self._iterating:  # the connection's reader sees the disconnect
                    await self._done.wait()
                while not self._done.is_set():  # nobody reads (a close before serving): read here
                    message = await self._read()
                    if message is None:
                        break
                    if message["type"] == "websocket.disconnect":
                        self._finish(int(message.get("code") or 1005), str(message.get("reason") or ""))
        except TimeoutError:  # no answer to our close: given up, as websockets does
            self._finish(1006, "")

    async def ping(self) -> Awaitable[object]:
        done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        done.set_result(0.0)
        return done

    def is_closing(self) -> bool:
        return self._close_sent or self._done.is_set()

    def abort(self) -> None:
        if self._done.is_set():
            return
        self._aborted = True
        if self._reading is not None:
            self._reading.cancel()
        else:
            self._finish(1006, "aborted")

    def _finish(self, code: int, reason: str) -> None:
        if not self._done.is_set():
            self.close_code, self.close_reason = code, reason
            self._done.set()


def _close(code: int | None, reason: str | None) -> Close | None:
    return None if code is None else Close(code, reason or "")


# -- the forwarded client certificate ------------------------------------------------------

_NAMES = {
    "2.5.4.3": "commonName", "2.5.4.4": "surname", "2.5.4.5": "serialNumber", "2.5.4.6": "countryName",
    "2.5.4.7": "localityName", "2.5.4.8": "stateOrProvinceName", "2.5.4.9": "streetAddress",
    "2.5.4.10": "organizationName", "2.5.4.11": "organizationalUnitName", "2.5.4.12": "title",
    "2.5.4.42": "givenName", "0.9.2342.19200300.100.1.25": "domainComponent",
    "1.2.840.113549.1.9.1": "emailAddress",
}
_STRINGS = {0x0C: "utf-8", 0x13: "latin-1", 0x14: "latin-1", 0x16: "latin-1", 0x1A: "latin-1", 0x1E: "utf-16-be",
            0x1C: "utf-32-be"}


def parse_certificate(text: str) -> dict[str, Any]:
    """A forwarded X.509 certificate ``text`` (PEM, URL-escaped PEM, or base64 DER; the first
    of a chain) as the mapping ``ssl.SSLSocket.getpeercert()`` gives: ``subject``, ``issuer``,
    ``serialNumber``, ``version``. Only the names are read: the proxy verified the
    certificate. Raises ValueError for anything else."""
    text = urllib.parse.unquote(text.strip())
    if "-----BEGIN CERTIFICATE-----" in text:
        text = text.split("-----BEGIN CERTIFICATE-----", 1)[1].split("-----END CERTIFICATE-----", 1)[0]
    else:
        text = text.split(",", 1)[0]
    try:
        der = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not a PEM or base64 DER certificate") from None
    try:
        _, start, _ = _tlv(der, 0)  # Certificate
        _, start, _ = _tlv(der, start)  # tbsCertificate
        items: list[tuple[int, int, int]] = []
        at = start
        while len(items) < 6:
            item = _tlv(der, at)
            items.append(item)
            at = item[2]
        if items[0][0] == 0xA0:  # [0] version
            version = der[_tlv(der, items[0][1])[1]] + 1
            items = items[1:]
        else:
            version = 1
        serial, issuer, subject = items[0], items[2], items[4]
        return {
            "subject": _name(der, subject[1], subject[2]),
            "issuer": _name(der, issuer[1], issuer[2]),
            "serialNumber": der[serial[1]:serial[2]].lstrip(b"\x00").hex().upper() or "00",
            "version": version,
        }
    except (IndexError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not an X.509 certificate ({exc})") from None


def _tlv(der: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at ``at``."""
    tag, length = der[at], der[at + 1]
    at += 2
    if length & 0x80:
        n = length & 0x7F
        if not 1 <= n <= 4:
            raise ValueError("bad DER length")
        length = int.from_bytes(der[at:at + n], "big")
        at += n
    if at + length > len(der):
        raise ValueError("truncated DER")
    return tag, at, at + length


def _name(der: bytes, start: int, end: int) -> tuple[tuple[tuple[str, str], ...], ...]:
    """An X.501 Name as ``getpeercert()`` spells it: RDNs of (attribute, value) pairs."""
    rdns = []
    while start < end:
        _, set_start, set_end = _tlv(der, start)
        pairs = []
        while set_start < set_end:
            _, seq_start, seq_end = _tlv(der, set_start)
            _, oid_start, oid_end = _tlv(der, seq_start)
            value_tag, value_start, value_end = _tlv(der, oid_end)
            oid = _oid(der[oid_start:oid_end])
            value = der[value_start:value_end].decode(_STRINGS.get(value_tag, "latin-1"))
            pairs.append((_NAMES.get(oid, oid), value))
            set_start = seq_end
        rdns.append(tuple(pairs))
        start = set_end
    return tuple(rdns)


def _oid(body: bytes) -> str:
    parts: list[int] = []
    value = 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    if not parts:
        raise ValueError("empty OID")
    first = parts[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(p) for p in head + parts[1:])
