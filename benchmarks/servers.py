"""The servers the end-to-end, idle and storm benchmarks compare, each run in its own process:

    python -m benchmarks.servers ocppgen|ocppgen-def|incumbent|floor PORT [--uvloop] [--no-deflate]
                                 [--tls CERT KEY] [--admission RATE,BURST,BOOTS]

ocppgen: the ocppgen CSMS (2.0.1) answering BootNotification, Heartbeat, TransactionEvent with
``async def`` handlers; ocppgen-def: the same answers from plain ``def`` handlers (answered by
the connection's reader, without a task).
incumbent: the same answers from a CSMS built on the `ocpp` package (ocpp==2.1.0).
floor: a bare websockets server answering every frame with a canned reply (no parsing beyond
the message id): what the WebSocket layer alone costs. All use websockets' default
permessage-deflate unless --no-deflate, so compression costs the same everywhere.

--tls: security profile 2 (TLS, server certificate only, and HTTP Basic auth: every station
``S<n>``/``I<n>``/``W<n>`` has the password ``benchmark-password``; the floor compares the
header, ocppgen runs its authenticator). --admission: ocppgen only, a ConnectionLimiter of RATE
new connections per second (BURST stored) and a BootPacer of BOOTS concurrent boots.
--uvloop: run on uvloop. The process raises its descriptor limit to the hard limit and prints
READY when listening.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import hmac
import resource
import ssl
from typing import Any

NOW = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
CANNED = {
    "BootNotification": '{"currentTime":"2024-01-01T00:00:00Z","interval":300,"status":"Accepted"}',
    "Heartbeat": '{"currentTime":"2024-01-01T00:00:00Z"}',
    "TransactionEvent": "{}",
}
PASSWORD = "benchmark-password"
PROFILER: Any = None  # a cProfile.Profile (--profile), enabled once the server listens


def ready() -> None:
    if PROFILER is not None:
        PROFILER.enable()
    print("READY", flush=True)


def _ssl(args: argparse.Namespace) -> ssl.SSLContext | None:
    if not args.tls:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.tls[0], args.tls[1])
    return ctx


async def ocppgen_server(args: argparse.Namespace) -> None:
    from ocppgen.generated.runtime.admission import BootPacer, ConnectionLimiter
    from ocppgen.generated.runtime.config import ServerOptions
    from ocppgen.generated.runtime.security import Credentials
    from ocppgen.generated.runtime.server import CsmsServer
    from ocppgen.generated.v201 import csms, enums, messages

    class Csms(csms.CsmsHandler):
        async def on_boot_notification(self, request: messages.BootNotificationRequest, context: csms.Context) -> messages.BootNotificationResponse:
            return messages.BootNotificationResponse(current_time=NOW, interval=300, status=enums.RegistrationStatusEnumType.Accepted)

        async def on_heartbeat(self, request: messages.HeartbeatRequest, context: csms.Context) -> messages.HeartbeatResponse:
            return messages.HeartbeatResponse(current_time=NOW)

        async def on_transaction_event(self, request: messages.TransactionEventRequest, context: csms.Context) -> messages.TransactionEventResponse:
            return messages.TransactionEventResponse()

    class PlainCsms(csms.CsmsHandler):  # the same answers from plain def handlers
        def on_boot_notification(self, request: messages.BootNotificationRequest, context: csms.Context) -> messages.BootNotificationResponse:
            return messages.BootNotificationResponse(current_time=NOW, interval=300, status=enums.RegistrationStatusEnumType.Accepted)

        def on_heartbeat(self, request: messages.HeartbeatRequest, context: csms.Context) -> messages.HeartbeatResponse:
            return messages.HeartbeatResponse(current_time=NOW)

        def on_transaction_event(self, request: messages.TransactionEventRequest, context: csms.Context) -> messages.TransactionEventResponse:
            return messages.TransactionEventResponse()

    async def one_password(credentials: Credentials) -> bool:
        """Profile 2's Basic auth: one password for all, compared as StaticPasswords does."""
        return credentials.password is not None and hmac.compare_digest(credentials.password, PASSWORD.encode())

    limiter = pacer = None
    if args.admission:
        rate, burst, boots = (float(x) for x in args.admission.split(","))
        limiter = ConnectionLimiter(rate, int(burst))
        pacer = BootPacer(int(boots), boots_per_second=rate, min_interval=1, max_interval=60)
    options = ServerOptions(
        ping_interval=None, compression=not args.no_deflate, connection_limiter=limiter, boot_pacer=pacer,
        authenticator=one_password if args.tls else None, open_timeout=120,
    )
    server = CsmsServer(options)
    server.handle(csms.BINDING, PlainCsms() if args.kind == "ocppgen-def" else Csms())
    async with server.serve("127.0.0.1", args.port, ssl=_ssl(args), backlog=4096):
        ready()
        await asyncio.Future()


async def incumbent_server(args: argparse.Namespace) -> None:
    from ocpp.routing import on
    from ocpp.v201 import ChargePoint, call_result
    from ocpp.v201.enums import Action
    from websockets.asyncio.server import serve

    class Csms(ChargePoint):  # type: ignore[misc]
        @on(Action.boot_notification)
        def on_boot(self, **kwargs: Any) -> Any:
            return call_result.BootNotification(current_time="2024-01-01T00:00:00Z", interval=300, status="Accepted")

        @on(Action.heartbeat)
        def on_heartbeat(self) -> Any:
            return call_result.Heartbeat(current_time="2024-01-01T00:00:00Z")

        @on(Action.transaction_event)
        def on_transaction_event(self, **kwargs: Any) -> Any:
            return call_result.TransactionEvent()

    async def handler(ws: Any) -> None:
        cp = Csms(ws.request.path.rsplit("/", 1)[-1], ws)
        try:
            await cp.start()
        except Exception:
            pass

    async with serve(handler, "127.0.0.1", args.port, subprotocols=["ocpp2.0.1"], ping_interval=None,  # type: ignore[list-item]
                     compression=None if args.no_deflate else "deflate", ssl=_ssl(args), backlog=4096, open_timeout=120):
        ready()
        await asyncio.Future()


async def floor_server(args: argparse.Namespace) -> None:
    from websockets.asyncio.server import serve
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    async def handler(ws: Any) -> None:
        async for message in ws:
            parts = message.split('"', 4)  # [2,"<id>","<action>",...
            await ws.send(f'[3,"{parts[1]}",{CANNED.get(parts[3], "{}")}]')

    def check_password(connection: Any, request: Any) -> Response | None:
        header = request.headers.get("Authorization", "")
        try:
            _, password = base64.b64decode(header.removeprefix("Basic ")).decode().split(":", 1)
        except ValueError:
            password = ""
        if password != PASSWORD:
            return Response(401, "Unauthorized", Headers())
        return None

    async with serve(handler, "127.0.0.1", args.port, subprotocols=["ocpp2.0.1"], ping_interval=None,  # type: ignore[list-item]
                     compression=None if args.no_deflate else "deflate", ssl=_ssl(args), backlog=4096, open_timeout=120,
                     process_request=check_password if args.tls else None):
        ready()
        await asyncio.Future()


SERVERS = {"ocppgen": ocppgen_server, "ocppgen-def": ocppgen_server, "incumbent": incumbent_server, "floor": floor_server}


def main() -> None:
    import logging

    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=sorted(SERVERS))
    parser.add_argument("port", type=int)
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--no-deflate", action="store_true")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--admission", default=None, help="RATE,BURST,BOOTS (ocppgen only)")
    parser.add_argument("--profile", default=None, help="write cProfile stats to this file at SIGTERM")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    from ocppgen.generated.runtime.loop import run

    if args.profile:
        import cProfile
        import signal

        global PROFILER
        PROFILER = profiler = cProfile.Profile()

        def dump(*_: object) -> None:
            profiler.disable()
            profiler.dump_stats(args.profile)
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, dump)
    run(SERVERS[args.kind](args), uvloop=args.uvloop)


if __name__ == "__main__":
    main()
