"""The CSMS as an ASGI endpoint under a real uvicorn (in process, 127.0.0.1), all three versions:
the project's StationClient and raw WebSocket clients against it, a REST route of the same
Starlette app reaching a station through the typed registry, subprotocol negotiation, Basic
auth and identity refusals with and without the ``websocket.http.response`` extension, the
security-profile floor, profile 3 through a trusted proxy's certificate header, replacement of a
station's connection, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import socket
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI, WebSocket  # module level: FastAPI resolves the string annotations
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from ocppgen.generated.runtime.asgi import REFUSED_CLOSE_BASE, CsmsEndpoint, ForwardedCertificate, parse_certificate
from ocppgen.generated.runtime.config import ServerOptions
from ocppgen.generated.runtime.registry import StationEvent
from ocppgen.generated.runtime.security import CertificateAuthenticator, Credentials, StaticPasswords
from ocppgen.generated.runtime.server import CsmsServer
from ocppgen.generated.v16 import csms as csms16, enums as e16, messages as m16, station as station16
from ocppgen.generated.v201 import csms as csms201, enums as e201, messages as m201, station as station201
from ocppgen.generated.v21 import csms as csms21, datatypes as d21, enums as e21, messages as m21, station as station21
from tests.helpers import NOW, boot201, eventually, run, station

VERSIONS = ["1.6", "2.0.1", "2.1"]


class Csms16(csms16.CsmsHandler):
    async def on_boot_notification(self, request: m16.BootNotificationRequest, context: csms16.Context) -> m16.BootNotificationResponse:
        return m16.BootNotificationResponse(current_time=NOW, interval=300, status=e16.RegistrationStatus.Accepted)

    async def on_heartbeat(self, request: m16.HeartbeatRequest, context: csms16.Context) -> m16.HeartbeatResponse:
        return m16.HeartbeatResponse(current_time=NOW)


class Csms201(csms201.CsmsHandler):
    async def on_boot_notification(self, request: m201.BootNotificationRequest, context: csms201.Context) -> m201.BootNotificationResponse:
        return m201.BootNotificationResponse(current_time=NOW, interval=300, status=e201.RegistrationStatusEnumType.Accepted)

    async def on_heartbeat(self, request: m201.HeartbeatRequest, context: csms201.Context) -> m201.HeartbeatResponse:
        return m201.HeartbeatResponse(current_time=NOW)


class Csms21(csms21.CsmsHandler):
    async def on_boot_notification(self, request: m21.BootNotificationRequest, context: csms21.Context) -> m21.BootNotificationResponse:
        return m21.BootNotificationResponse(current_time=NOW, interval=300, status=e21.RegistrationStatusEnumType.Accepted)

    async def on_heartbeat(self, request: m21.HeartbeatRequest, context: csms21.Context) -> m21.HeartbeatResponse:
        return m21.HeartbeatResponse(current_time=NOW)


class Station16(station16.StationHandler):
    async def on_reset(self, request: m16.ResetRequest, context: station16.Context) -> m16.ResetResponse:
        return m16.ResetResponse(status=e16.ResetStatus.Accepted)


class Station201(station201.StationHandler):
    async def on_reset(self, request: m201.ResetRequest, context: station201.Context) -> m201.ResetResponse:
        return m201.ResetResponse(status=e201.ResetStatusEnumType.Accepted)


class Station21(station21.StationHandler):
    async def on_reset(self, request: m21.ResetRequest, context: station21.Context) -> m21.ResetResponse:
        return m21.ResetResponse(status=e21.ResetStatusEnumType.Scheduled)


SIDES: dict[str, Any] = {
    "1.6": (csms16, Csms16, station16, Station16),
    "2.0.1": (csms201, Csms201, station201, Station201),
    "2.1": (csms21, Csms21, station21, Station21),
}


def boot(version: str) -> Any:
    if version == "1.6":
        return m16.BootNotificationRequest(charge_point_model="M", charge_point_vendor="V")
    if version == "2.0.1":
        return boot201()
    return m21.BootNotificationRequest(
        reason=e21.BootReasonEnumType.PowerUp, charging_station=d21.ChargingStationType(model="M", vendor_name="V")
    )


def reset(version: str) -> Any:
    if version == "1.6":
        return m16.ResetRequest(type=e16.ResetType.Soft)
    if version == "2.0.1":
        return m201.ResetRequest(type=e201.ResetEnumType.Immediate)
    return m21.ResetRequest(type=e21.ResetEnumType.OnIdle)


def all_versions(**options: Any) -> CsmsServer:
    server = CsmsServer(ServerOptions(**options))
    for version in reversed(VERSIONS):  # preference: 2.1, 2.0.1, 1.6
        module, handler, _, _ = SIDES[version]
        server.handle(module.BINDING, handler())
    return server


def app_for(server: CsmsServer, **endpoint_options: Any) -> Starlette:
    """A Starlette app: the OCPP endpoint and a REST route that resets a station."""
    endpoint = CsmsEndpoint(server, **endpoint_options)

    async def reset_station(request: Request) -> JSONResponse:
        identity = request.path_params["identity"]
        session = server.registry.session(identity)
        if session is None or session.version is None:
            return JSONResponse({"error": "unknown station"}, status_code=404)
        binding = SIDES[session.version][0].BINDING
        answer = await server.registry.client(identity, binding).reset(reset(session.version))
        return JSONResponse({"version": session.version, "status": answer.status.value})

    return Starlette(
        routes=[
            WebSocketRoute("/ocpp/{identity}", endpoint),
            Route("/api/stations/{identity}/reset", reset_station, methods=["POST"]),
        ]
    )


@contextlib.asynccontextmanager
async def uvicorn_serving(app: Any, **config: Any) -> AsyncIterator[int]:
    """uvicorn serving ``app`` on a free loopback port, in this event loop."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config.setdefault("log_level", "warning")
    server = uvicorn.Server(uvicorn.Config(app, **config))
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started or task.done(), what="uvicorn start")
        yield port
    finally:
        server.should_exit = True
        await task


def without_http_response(app: Any) -> Any:
    """The app behind a server that lacks the ``websocket.http.response`` extension."""

    async def stripped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            scope = {**scope, "extensions": {}}
        await app(scope, receive, send)

    return stripped


# -- all three versions, a REST route in the same app -------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_a_station_boots_and_a_rest_route_reaches_it_through_the_registry(version: str) -> None:
    server = all_versions()
    events: list[StationEvent] = []
    server.registry.listen(events.append)
    _, _, station_module, station_handler = SIDES[version]

    async def body() -> None:
        async with uvicorn_serving(app_for(server)) as port:
            client = station(f"ws://127.0.0.1:{port}/ocpp/CS-{version}", station_module.BINDING, station_handler())
            async with client.running():
                await client.connected(timeout=5)
                answer = await client.csms.boot_notification(boot(version))
                assert answer.status.value == "Accepted" and answer.interval == 300
                session = await server.registry.wait_for(f"cs-{version}", timeout=5, registered=True)
                assert session.version == version and session.remote_address[0] == "127.0.0.1"
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                    response = await http.post(f"/api/stations/CS-{version}/reset")
                expected = "Scheduled" if version == "2.1" else "Accepted"
                assert response.json() == {"version": version, "status": expected}
            await eventually(lambda: any(e.kind == "disconnected" for e in events), what="disconnect event")
        assert [e.kind for e in events] == ["connected", "registered", "disconnected"]
        assert events[0].version == version and events[-1].code == 1000

    run(body())


def test_one_endpoint_negotiates_the_subprotocol_like_the_websockets_server() -> None:
    server = all_versions(default_subprotocol="ocpp1.6")

    async def body() -> None:
        async with uvicorn_serving(app_for(server)) as port:
            url = f"ws://127.0.0.1:{port}/ocpp/RAW-1"
            async with connect(url, subprotocols=["ocpp2.0.1", "ocpp2.1"]) as ws:  # type: ignore[list-item]
                assert ws.subprotocol == "ocpp2.1"  # the server's preference order wins
                await ws.send('[2,"m1","Heartbeat",{}]')
                frame = await asyncio.wait_for(ws.recv(), 5)
                assert frame == '[3,"m1",{"currentTime":"2024-01-01T00:00:00Z"}]'
            async with connect(url, subprotocols=["ocpp1.5"]) as ws:  # type: ignore[list-item]
                assert ws.subprotocol is None
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 5)
                assert ws.close_code == 1002
            async with connect(url) as ws:  # nothing offered: the default version serves it
                assert ws.subprotocol is None
                await ws.send('[2,"m2","Heartbeat",{}]')
                assert (await asyncio.wait_for(ws.recv(), 5)).startswith('[3,"m2",{"currentTime"')
            async with httpx.AsyncClient() as http:  # a plain GET to the OCPP URL
                response = await http.get(f"http://127.0.0.1:{port}/ocpp/RAW-1")
            assert response.status_code in (403, 404, 426)  # Starlette routes plain HTTP away from a WebSocket route

    run(body())


def test_the_endpoint_as_the_whole_app_answers_plain_http_with_426_and_runs_the_lifespan() -> None:
    server = all_versions()

    async def body() -> None:
        async with uvicorn_serving(CsmsEndpoint(server), lifespan="on") as port:
            async with httpx.AsyncClient() as http:
                response = await http.get(f"http://127.0.0.1:{port}/ocpp/CS-1")
            assert response.status_code == 426 and response.headers["upgrade"] == "websocket"
            ws = await connect(f"ws://127.0.0.1:{port}/ocpp/CS-9", subprotocols=["ocpp2.0.1"])  # type: ignore[list-item]
            await eventually(lambda: "CS-9" in server.registry, what="connected")
        # uvicorn's shutdown closed the socket (1012, before the lifespan's shutdown ran)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1012, ws.close_code  # uvicorn closes before the lifespan shutdown runs
        assert "CS-9" not in server.registry

    run(body())


# -- refusals before the upgrade -----------------------------------------------------------------


@pytest.mark.parametrize("extension", [True, False], ids=["http-response", "close-code"])
def test_basic_auth_refusal_is_http_401_or_a_documented_close_code(extension: bool) -> None:
    server = all_versions(authenticator=StaticPasswords({"CS-1": "secret-password-16"}))
    events: list[StationEvent] = []
    server.registry.listen(events.append)
    app = app_for(server) if extension else without_http_response(app_for(server))

    async def body() -> None:
        async with uvicorn_serving(app) as port:
            url = f"ws://127.0.0.1:{port}/ocpp/CS-1"
            if extension:
                with pytest.raises(InvalidStatus) as refused:
                    await connect(url, subprotocols=["ocpp2.0.1"])  # type: ignore[list-item]
                assert refused.value.response.status_code == 401
                assert refused.value.response.headers["WWW-Authenticate"].startswith('Basic realm="OCPP"')
                client = station(url, station201.BINDING, Station201(), basic_auth=("CS-1", "wrong-password-xx"))
                async with client.running():
                    await eventually(lambda: client.last_error is not None, what="a failed attempt")
                assert client.last_error == "HTTP 401 (unauthorized)"
            else:
                async with connect(url, subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
                    with pytest.raises(ConnectionClosed):
                        await asyncio.wait_for(ws.recv(), 5)
                assert ws.close_code == REFUSED_CLOSE_BASE + 401 and ws.close_reason == "Unauthorized"
            good = station(url, station201.BINDING, Station201(), basic_auth=("CS-1", "secret-password-16"))
            async with good.running():
                await good.connected(timeout=5)
                assert (await good.csms.boot_notification(boot201())).status is e201.RegistrationStatusEnumType.Accepted
        assert events[0].kind == "security" and events[0].reason == "authentication_failed"

    run(body())


@pytest.mark.parametrize("extension", [True, False], ids=["http-response", "close-code"])
def test_an_identity_2_1_forbids_is_refused_with_404(extension: bool) -> None:
    server = all_versions()
    app = app_for(server) if extension else without_http_response(app_for(server))

    async def body() -> None:
        async with uvicorn_serving(app) as port:
            url = f"ws://127.0.0.1:{port}/ocpp/{urllib.parse.quote('CS:1')}"
            if extension:
                with pytest.raises(InvalidStatus) as refused:
                    await connect(url, subprotocols=["ocpp2.1"])  # type: ignore[list-item]
                assert refused.value.response.status_code == 404
            else:
                async with connect(url, subprotocols=["ocpp2.1"]) as ws:  # type: ignore[list-item]
                    with pytest.raises(ConnectionClosed):
                        await asyncio.wait_for(ws.recv(), 5)
                assert ws.close_code == REFUSED_CLOSE_BASE + 404
            async with connect(url, subprotocols=["ocpp2.0.1"]) as ws:  # 2.0.1 is permissive (decision 0014)
                await ws.send('[2,"m1","Heartbeat",{}]')
                assert (await asyncio.wait_for(ws.recv(), 5)).startswith('[3,"m1"')
            assert server.registry.session("CS:1") is not None

    run(body())


# -- security profile 3 through a proxy -----------------------------------------------------------


def client_certificate(cn: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ACME CSO"),
                                 x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")]))
        .public_key(key.public_key())
        .serial_number(0x0ABC)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_the_certificate_header_is_parsed_like_getpeercert() -> None:
    pem = client_certificate("SN-1")
    parsed = parse_certificate(urllib.parse.quote(pem))
    assert parsed["subject"] == ((("organizationName", "ACME CSO"),), (("commonName", "SN-1"),))
    assert parsed["issuer"] == ((("commonName", "Test CA"),),) and parsed["serialNumber"] == "0ABC"
    assert parse_certificate(pem.replace("\n", "\t")) == parsed == parse_certificate("".join(pem.splitlines()[1:-1]))
    credentials = Credentials(station_id="CS-1", password=None, certificate=parsed, security_profile=3)
    assert credentials.certificate_cn == "SN-1" and credentials.certificate_organization == "ACME CSO"
    for bad in ("", "not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"):
        with pytest.raises(ValueError):
            parse_certificate(bad)


def test_profile_3_through_a_trusted_proxy_header_and_the_profile_floor_after_it() -> None:
    seen: list[Credentials] = []
    certificates = CertificateAuthenticator(binding="identity", organization="ACME")

    async def authenticator(credentials: Credentials) -> bool | int:
        seen.append(credentials)
        if credentials.security_profile == 3:
            return await certificates(credentials)
        return credentials.password == b"password-of-cs-1"

    server = all_versions(authenticator=authenticator, certificate_binding="identity")
    forwarded = ForwardedCertificate(trusted_proxies={"127.0.0.1"})
    untrusted = ForwardedCertificate(trusted_proxies={"10.9.9.9"})
    pem = urllib.parse.quote(client_certificate("CS-1"))
    proxy_headers = {"X-SSL-Client-Cert": pem, "X-SSL-Client-Verify": "SUCCESS"}

    async def body() -> None:
        async with uvicorn_serving(app_for(server, forwarded_certificate=forwarded)) as port:
            url = f"ws://127.0.0.1:{port}/ocpp/CS-1"
            failed = {**proxy_headers, "X-SSL-Client-Verify": "FAILED:certificate has expired"}
            with pytest.raises(InvalidStatus):  # the proxy says the chain did not verify
                await connect(url, subprotocols=["ocpp2.0.1"], additional_headers=failed)  # type: ignore[list-item]
            assert seen[-1].security_profile == 1 and seen[-1].certificate is None
            client = station(url, station201.BINDING, Station201(), extra_headers=proxy_headers)
            async with client.running():
                await client.connected(timeout=5)
                assert (await client.csms.boot_notification(boot201())).status.value == "Accepted"
            assert seen[-1].security_profile == 3 and seen[-1].certificate_cn == "CS-1"
            assert server.registry.session("CS-1").security_floor == 3  # type: ignore[union-attr]
            with pytest.raises(InvalidStatus) as refused:  # A05.FR.07: no way back to profile 1
                await connect(url, subprotocols=["ocpp2.0.1"], additional_headers={  # type: ignore[list-item]
                    "Authorization": "Basic " + __import__("base64").b64encode(b"CS-1:password-of-cs-1").decode()})
            assert refused.value.response.status_code == 401
        async with uvicorn_serving(app_for(all_versions(authenticator=authenticator), forwarded_certificate=untrusted)) as port:
            with pytest.raises(InvalidStatus):  # a header from a peer that is no trusted proxy is ignored
                await connect(f"ws://127.0.0.1:{port}/ocpp/CS-1", subprotocols=["ocpp2.0.1"],  # type: ignore[list-item]
                              additional_headers=proxy_headers)
            assert seen[-1].security_profile == 1 and seen[-1].certificate is None

    run(body())


# -- a station's connection life ------------------------------------------------------------------


def test_a_new_connection_replaces_the_old_one_and_shutdown_closes_with_1001() -> None:
    server = all_versions()
    events: list[StationEvent] = []
    server.registry.listen(events.append)
    endpoint_app = app_for(server)

    async def body() -> None:
        async with uvicorn_serving(endpoint_app) as port:
            url = f"ws://127.0.0.1:{port}/ocpp/CS-R"
            first = await connect(url, subprotocols=["ocpp2.0.1"])  # type: ignore[list-item]
            await eventually(lambda: "CS-R" in server.registry, what="first connection")
            second = await connect(url, subprotocols=["ocpp2.0.1"])  # type: ignore[list-item]
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(first.recv(), 5)
            assert first.close_code == 1000 and first.close_reason == "replaced by a new connection"
            await second.send('[2,"m1","Heartbeat",{}]')
            assert (await asyncio.wait_for(second.recv(), 5)).startswith('[3,"m1"')
            endpoint = endpoint_app.routes[0].app  # type: ignore[attr-defined]
            assert isinstance(endpoint, CsmsEndpoint)
            await endpoint.shutdown()  # what the application's lifespan calls
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(second.recv(), 5)
            assert second.close_code == 1001
        kinds = [(e.kind, e.replaced) for e in events]
        assert kinds == [("connected", False), ("disconnected", True), ("connected", False), ("disconnected", False)]

    run(body())


def test_a_fastapi_websocket_route_hands_its_websocket_to_the_endpoint() -> None:
    """FastAPI's ``@router.websocket`` with ``endpoint.serve(websocket)``: refusals keep their
    HTTP status through Starlette's WebSocket, and an admitted station is served."""
    server = all_versions(authenticator=StaticPasswords({"CS-F": "password-of-cs-f"}))
    endpoint = CsmsEndpoint(server)
    router = APIRouter()

    @router.websocket("/ocpp/{station_id}")
    async def ocpp_socket(websocket: WebSocket) -> None:
        await endpoint.serve(websocket)

    app = FastAPI()
    app.include_router(router, prefix="/csms")

    async def body() -> None:
        async with uvicorn_serving(app) as port:
            url = f"ws://127.0.0.1:{port}/csms/ocpp/CS-F"
            with pytest.raises(InvalidStatus) as refused:
                await connect(url, subprotocols=["ocpp1.6"])  # type: ignore[list-item]
            assert refused.value.response.status_code == 401
            client = station(url, station16.BINDING, Station16(), basic_auth=("CS-F", "password-of-cs-f"))
            async with client.running():
                await client.connected(timeout=5)
                assert (await client.csms.boot_notification(boot("1.6"))).status is e16.RegistrationStatus.Accepted
                answer = await server.registry.client("CS-F", csms16.BINDING).reset(reset("1.6"))
                assert answer.status is e16.ResetStatus.Accepted

    run(body())
