"""2.0.1 Part 6 security profile 2 (TLS with a server certificate and Basic auth) test cases,
both sides, over real TLS sockets: certificates made for the run by a test CA; the tester's TLS
side is the standard library's, the examples use the runtime's contexts (runtime/tls.py)."""

from __future__ import annotations

import asyncio
import ssl
import warnings
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from ocppgen.generated.runtime.config import StationOptions
from ocppgen.generated.runtime.security import StaticPasswords
from ocppgen.generated.runtime.tls import CertChain, client_context, server_context
from tests.conformance.harness import TestCsms, now, octt_station
from tests.conformance.sut import FAST, answer, example_station_at
from tests.conformance.test_csms_2x import booted
from tests.helpers import run
from tests.test_tls import Ca

V2X = pytest.mark.parametrize("version", ["2.0.1", "2.1"])
tc = pytest.mark.tc
PASSWORD = "OCTT-password-0123456789"


class Pki:
    def __init__(self, root: Path) -> None:
        csms, other = Ca(root, "CSMS Root"), Ca(root, "Unknown Root")
        self.csms_ca = csms.path
        self.csms = csms.issue("csms", ec.generate_private_key(ec.SECP256R1()), "csms.test")
        self.invalid = other.issue("invalid", ec.generate_private_key(ec.SECP256R1()), "csms.test")  # an unknown issuer


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("conformance-pki"))


def octt_server(chain: CertChain, maximum: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    """The tester's server side: stock ssl, optionally capped below TLS 1.2."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if maximum is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = maximum
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.load_cert_chain(chain.certfile, chain.keyfile)
    return ctx


def station_options(version: str, pki: Pki) -> StationOptions:
    return StationOptions(backoff=FAST, ping_interval=0, basic_auth=("CS-1", PASSWORD),
                          ssl=client_context(2, version, csms_ca=pki.csms_ca))  # type: ignore[arg-type]


async def booted_over_tls(csms: TestCsms, version: str, events: int = 1) -> list[str]:
    """Booted over the TLS link (steps "upgrade" to "connectors reported"); returns the types
    of the first ``events`` SecurityEventNotifications that follow (in any order)."""
    link = await csms.accepted()
    tls = link.ws.transport.get_extra_info("ssl_object")
    assert tls is not None and tls.version() in ("TLSv1.2", "TLSv1.3")  # A00.FR.312/313
    boot = await link.expect("BootNotification")
    await link.reply(boot, {"status": "Accepted", "currentTime": now(), "interval": 300})
    status = await link.expect("StatusNotification", allow={"SecurityEventNotification": lambda p: {}})
    assert status.payload["connectorStatus"] == "Available"
    await link.reply(status, {})
    while len([c for c in link.received if c.action == "SecurityEventNotification"]) < events:
        call = await link.calls.get()
        await link.reply(call, answer(version, call.action, call.payload))
    assert link.violations == []
    return [c.payload["type"] for c in link.received if c.action == "SecurityEventNotification"][:events]  # type: ignore[misc]


@V2X
@tc("TC_A_04_CS", "A00.FR.309", "A00.FR.312", "A00.FR.313", "A00.FR.319", "A00.FR.321", "A00.FR.412", "A00.FR.422")
def test_tc_a_04_cs(version: str, pki: Pki) -> None:
    async def script() -> None:
        csms = TestCsms(version, passwords={"CS-1": PASSWORD}, ssl=octt_server(pki.csms))
        async with example_station_at(version, csms, options=station_options(version, pki)):
            assert await booted_over_tls(csms, version) == ["StartupOfTheDevice"]

    run(script())


@V2X
@tc("TC_A_05_CS", "A00.FR.309", "A00.FR.310", "A00.FR.311", "A00.FR.412", "A00.FR.413", "A00.FR.414")
def test_tc_a_05_cs(version: str, pki: Pki) -> None:
    async def script() -> None:
        server = octt_server(pki.invalid)  # step 2: a certificate of an unknown issuer
        csms = TestCsms(version, passwords={"CS-1": PASSWORD}, ssl=server)
        async with example_station_at(version, csms, options=station_options(version, pki)) as (_, _task, sim):
            while sim.client is None or not sim.client.last_error:  # step 3: the station terminated the handshake
                await asyncio.sleep(0.01)
            assert csms.links.empty() and csms.attempts == []  # no HTTP upgrade over the invalid certificate
            server.load_cert_chain(pki.csms.certfile, pki.csms.keyfile)  # step 5: the configured certificate
            assert "certificate" in str(sim.client.last_error).lower()
            events = await booted_over_tls(csms, version, events=2)  # steps 4-13
            assert sorted(events) == ["InvalidCsmsCertificate", "StartupOfTheDevice"]  # step 14

    run(script())


@V2X
@tc("TC_A_06_CS", "A00.FR.314", "A00.FR.316", "A00.FR.416", "A00.FR.417", "A00.FR.419")
def test_tc_a_06_cs(version: str, pki: Pki) -> None:
    """The tester's server is capped at TLS 1.1: the station never gets as far as the HTTP
    upgrade (step 3); once the server allows TLS 1.2 it connects and boots. (The tester's asyncio
    server resets the refused handshake without an alert, so the station cannot tell the cause
    and sends no InvalidTLSVersion event: steps 16-17, optional in the document.)"""
    async def script() -> None:
        server = octt_server(pki.csms, maximum=ssl.TLSVersion.TLSv1_1)  # step 2: below TLS 1.2
        csms = TestCsms(version, passwords={"CS-1": PASSWORD}, ssl=server)
        async with example_station_at(version, csms, options=station_options(version, pki)) as (_, _task, sim):
            while sim.client is None or not sim.client.last_error:  # step 3
                await asyncio.sleep(0.01)
            assert csms.links.empty() and csms.attempts == []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                server.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED  # step 5
            events = await booted_over_tls(csms, version)  # steps 4-13
            assert events == ["StartupOfTheDevice"]  # step 14 (steps 16-17, InvalidTLSVersion, are optional)

    run(script())


def csms_tls(version: str, pki: Pki) -> ssl.SSLContext:
    return server_context(2, version, ecdsa=pki.csms)  # type: ignore[arg-type]


def octt_client(pki: Pki, maximum: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki.csms_ca)
    ctx.check_hostname = False
    if maximum is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = maximum
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


@V2X
@tc("TC_A_04_CSMS", "A00.FR.306", "A00.FR.307", "A00.FR.312", "A00.FR.318", "A00.FR.321", "A00.FR.502", "A00.FR.503",
    "A00.FR.507", "A00.FR.508", "A00.FR.510")
@tc("TC_A_06_CSMS", "A00.FR.314", "A00.FR.315", "A00.FR.409", "A00.FR.416", "A00.FR.417", "A00.FR.418")
def test_tc_a_04_and_a_06_csms(version: str, pki: Pki, tmp_path: Path) -> None:
    """The example CSMS served with the runtime's profile-2 context: a Client Hello below TLS 1.2
    is refused (A_06 steps 1-2); TLS 1.2 or above with Basic auth is upgraded and Booted (A_04;
    A_06 steps 3-10)."""

    async def script_tls() -> None:
        from examples import csms as example_csms

        server = example_csms.build_server(str(tmp_path / "tls.sqlite"), authenticator=StaticPasswords({"CS-1": PASSWORD}))
        async with server.serve("127.0.0.1", 0, ssl=csms_tls(version, pki)) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            url = f"wss://127.0.0.1:{port}/ocpp/CS-1"
            with pytest.raises((ssl.SSLError, OSError)):  # A_06 steps 1-2
                async with octt_station(url, version, password=PASSWORD, ssl=octt_client(pki, ssl.TLSVersion.TLSv1_1)):
                    pass
            async with octt_station(url, version, password=PASSWORD, ssl=octt_client(pki)) as link:  # steps 3-8
                tls = link.ws.transport.get_extra_info("ssl_object")
                assert tls.version() in ("TLSv1.2", "TLSv1.3")
                await booted(link)  # steps 9-10
                assert link.violations == []

    run(script_tls())
