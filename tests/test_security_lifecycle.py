"""Security profiles as the spec words them, and their life cycle, over real sockets: 1.6
binary keys (OCPP-J 1.6 section 6.2.2), salted hashes and password rotation (A01), brute-force
limits, the security-profile floor (A05.FR.07) and the 2.1 downgrade (A05.FR.08-10), profile 3
with the certificate's serial number checked at boot (A00.FR.401/405, B01.FR.11/12), and the
security events a station reports (A04)."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from ocppgen.generated.runtime.credentials import HashedPasswords, change_station_password, hash_password, verify_password
from ocppgen.generated.runtime.queue import SqliteStore
from ocppgen.generated.runtime.security import CertificateAuthenticator, Credentials, StaticPasswords, parse_basic_auth
from ocppgen.generated.v16 import csms as csms16, enums as e16, messages as m16, station as station16
from ocppgen.generated.v201 import csms as csms201, datatypes as d201, enums as e201, messages as m201
from ocppgen.generated.v201 import station as station201
from tests.helpers import NOW, boot201, eventually, run, server, started, station
from tests.test_transport_security import Pki

AL1000_KEY = bytes.fromhex("0001020304050607FFFFFFFFFFFFFFFFFFFFFFFF")


def basic(user: str, password: str | bytes) -> dict[str, str]:
    secret = password if isinstance(password, bytes) else password.encode()
    return {"Authorization": "Basic " + base64.b64encode(user.encode() + b":" + secret).decode()}


async def status_of(url: str, subprotocol: str, **kwargs: Any) -> int:
    try:
        async with connect(url, subprotocols=[subprotocol], **kwargs):  # type: ignore[list-item]
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


class Accepting16(csms16.CsmsHandler):
    async def on_boot_notification(self, request: Any, context: Any) -> Any:
        return m16.BootNotificationResponse(current_time=NOW, interval=60, status=e16.RegistrationStatus.Accepted)


class Accepting201(csms201.CsmsHandler):
    def __init__(self) -> None:
        self.events: list[str] = []

    async def on_boot_notification(self, request: Any, context: Any) -> Any:
        return m201.BootNotificationResponse(current_time=NOW, interval=60, status=e201.RegistrationStatusEnumType.Accepted)

    async def on_security_event_notification(self, request: Any, context: Any) -> Any:
        self.events.append(request.type)
        return m201.SecurityEventNotificationResponse()


# -- 1.6 binary keys ---------------------------------------------------------------------------


def test_the_1_6_example_key_is_sent_as_raw_bytes_and_accepted() -> None:
    """OCPP-J 1.6 section 6.2.2: identity AL1000, key 0001020304050607FFFFFFFFFFFFFFFFFFFFFFFF."""
    header = basic("AL1000", AL1000_KEY)["Authorization"]
    assert header == "Basic QUwxMDAwOgABAgMEBQYH////////////////"  # the spec's own header (OCPP-J 1.6 PDF)
    assert parse_basic_auth(header, "AL1000") == AL1000_KEY
    csms = server((csms16.BINDING, Accepting16()), authenticator=StaticPasswords({"AL1000": AL1000_KEY}))

    async def body(port: int) -> None:
        url = f"ws://127.0.0.1:{port}/ocpp/AL1000"
        client = station(url, station16.BINDING, station16.StationHandler(), basic_auth=("AL1000", AL1000_KEY))
        async with client.running():
            await client.connected(timeout=5)
            boot = await client.csms.boot_notification(m16.BootNotificationRequest(charge_point_model="M", charge_point_vendor="V"))
            assert boot.status is e16.RegistrationStatus.Accepted
        # the whitepaper's hexadecimal spelling of the same key (A00.FR.205) is accepted too
        assert await status_of(url, "ocpp1.6", additional_headers=basic("AL1000", AL1000_KEY.hex().upper())) == 101
        assert await status_of(url, "ocpp1.6", additional_headers=basic("AL1000", AL1000_KEY[:-1] + b"\x00")) == 401

    run(started(csms, body))


# -- salted hashes, rotation, brute force ---------------------------------------------------------


def test_password_hashes_are_salted_and_verified() -> None:
    first, second = hash_password("s3cret-s3cret-16"), hash_password("s3cret-s3cret-16")
    assert first.salt != second.salt and first.digest != second.digest and "s3cret" not in repr(first)
    assert verify_password(b"s3cret-s3cret-16", first) and not verify_password(b"s3cret-s3cret-17", first)
    fast = hash_password(AL1000_KEY, kdf="sha256")
    assert verify_password(AL1000_KEY, fast)


class Rotating201(station201.StationHandler):
    """A station that stores a new BasicAuthPassword and reconnects with it (A01)."""

    def __init__(self, accept: bool) -> None:
        self.accept = accept
        self.client: Any = None

    async def on_set_variables(self, request: m201.SetVariablesRequest, context: station201.Context) -> m201.SetVariablesResponse:
        item = request.set_variable_data[0]
        status = e201.SetVariableStatusEnumType.Accepted if self.accept else e201.SetVariableStatusEnumType.Rejected
        if self.accept:
            context.after_response(lambda: _async(self.client.set_password, item.attribute_value))
        return m201.SetVariablesResponse(set_variable_result=[d201.SetVariableResultType(
            attribute_status=status, component=item.component, variable=item.variable)])


async def _async(function: Any, *args: Any) -> None:
    function(*args)


@pytest.mark.parametrize("accept", [True, False])
def test_password_rotation_end_to_end_2_0_1(tmp_path: Path, accept: bool) -> None:
    """A01.FR.02-04: the old password is refused once the station accepted the new one, and kept
    otherwise; the station stores the new one durably and reconnects with it (A01.FR.01)."""
    store = HashedPasswords(str(tmp_path / "passwords.sqlite"), kdf="sha256")
    store.set_password("CS-ROT", "old-password-0001")
    csms = server((csms201.BINDING, Accepting201()), authenticator=store)
    handler = Rotating201(accept)

    async def body(port: int) -> None:
        url = f"ws://127.0.0.1:{port}/ocpp/CS-ROT"
        client = station(url, station201.BINDING, handler, basic_auth=("CS-ROT", "old-password-0001"),
                         password_file=str(tmp_path / "station.pw"))
        handler.client = client
        async with client.running():
            first = await client.connected(timeout=5)
            await client.csms.boot_notification(boot201())
            session = await csms.registry.wait_for("CS-ROT", timeout=5, registered=True)
            changed = await change_station_password(session, store, "new-password-0002")
            assert changed is accept
            if accept:
                await eventually(lambda: client.current not in (None, first), what="a reconnect with the new password")
                assert (tmp_path / "station.pw").read_text() == "new-password-0002"
                assert oct((tmp_path / "station.pw").stat().st_mode & 0o777) == "0o600"
                assert client.registered  # the same session: no new boot
        old = await status_of(url, "ocpp2.0.1", additional_headers=basic("CS-ROT", "old-password-0001"))
        new = await status_of(url, "ocpp2.0.1", additional_headers=basic("CS-ROT", "new-password-0002"))
        assert (old, new) == ((401, 101) if accept else (101, 401))
        # a restarted CSMS reads the same hashes
        reopened = HashedPasswords(str(tmp_path / "passwords.sqlite"), kdf="sha256")
        assert await reopened(Credentials("CS-ROT", b"new-password-0002" if accept else b"old-password-0001", None)) is True

    run(started(csms, body))


def test_password_rotation_1_6_sends_the_authorization_key_as_hex() -> None:
    store = HashedPasswords(kdf="sha256")
    store.set_password("CP-1", AL1000_KEY)
    seen: list[tuple[str, str]] = []

    class Station16(station16.StationHandler):
        async def on_change_configuration(self, request: m16.ChangeConfigurationRequest, context: station16.Context) -> m16.ChangeConfigurationResponse:
            seen.append((request.key, request.value))
            return m16.ChangeConfigurationResponse(status=e16.ConfigurationStatus.Accepted)

    csms = server((csms16.BINDING, Accepting16()), authenticator=store)
    new_key = bytes(range(20))

    async def body(port: int) -> None:
        client = station(f"ws://127.0.0.1:{port}/ocpp/CP-1", station16.BINDING, Station16(), basic_auth=("CP-1", AL1000_KEY))
        async with client.running():
            await client.connected(timeout=5)
            await client.csms.boot_notification(m16.BootNotificationRequest(charge_point_model="M", charge_point_vendor="V"))
            session = await csms.registry.wait_for("CP-1", timeout=5, registered=True)
            assert await change_station_password(session, store, new_key)
        assert seen == [("AuthorizationKey", new_key.hex())]
        url = f"ws://127.0.0.1:{port}/ocpp/CP-1"
        assert await status_of(url, "ocpp1.6", additional_headers=basic("CP-1", new_key)) == 101
        assert await status_of(url, "ocpp1.6", additional_headers=basic("CP-1", AL1000_KEY)) == 401

    run(started(csms, body))


def test_repeated_failures_lock_an_identity_for_a_while_not_for_ever() -> None:
    clock = [0.0]
    failures: list[str] = []
    store = HashedPasswords(kdf="sha256", max_failures=3, failure_window=60, lockout=30, clock=lambda: clock[0],
                            on_failure=lambda credentials, why: failures.append(why))
    store.set_password("CS-B", "right-password-01")

    async def attempts() -> list[bool | int]:
        out = []
        for password in [b"wrong"] * 4 + [b"right-password-01"]:
            out.append(await store(Credentials("CS-B", password, None, remote_host="10.0.0.1")))
        clock[0] = 31.0  # the lockout ends
        out.append(await store(Credentials("CS-B", b"right-password-01", None, remote_host="10.0.0.1")))
        # another station behind the same carrier NAT address was never affected (per-address limit off)
        store.set_password("CS-C", "other-password-02")
        out.append(await store(Credentials("CS-C", b"other-password-02", None, remote_host="10.0.0.1")))
        return out

    assert asyncio.run(attempts()) == [False, False, False, False, False, True, True]
    assert failures.count("locked out after repeated failures") == 1  # the right password during the lockout


# -- the security-profile floor and the 2.1 downgrade ----------------------------------------------


def test_a_station_that_connected_over_tls_is_refused_over_plain_ws(tmp_path: Path) -> None:
    """A05.FR.07: never a lower profile than the one the station connected with."""
    from ocppgen.generated.runtime.config import ServerOptions
    from ocppgen.generated.runtime.server import CsmsServer

    pki = Pki(tmp_path)
    handler = Accepting201()
    passwords = StaticPasswords({"CS-F": "pw-pw-pw-pw-pw-pw", "CS-G": "pw-pw-pw-pw-pw-pw"})
    secure = server((csms201.BINDING, handler), authenticator=passwords)
    plain = CsmsServer(ServerOptions(authenticator=passwords), registry=secure.registry)  # one CSMS, two listeners
    plain.handle(csms201.BINDING, handler)

    async def main() -> None:
        async with secure.serve("127.0.0.1", 0, ssl=pki.server_context(require_client_cert=False)) as tls_server:
            tls_port = next(iter(tls_server.sockets)).getsockname()[1]
            async with connect(f"wss://127.0.0.1:{tls_port}/ocpp/CS-F", subprotocols=["ocpp2.0.1"], ssl=pki.client_context(),  # type: ignore[list-item]
                               additional_headers=basic("CS-F", "pw-pw-pw-pw-pw-pw")):
                await eventually(lambda: getattr(secure.registry.session("CS-F"), "security_floor", 0) == 2, what="the floor")
            async with plain.serve("127.0.0.1", 0) as plain_server:
                plain_port = next(iter(plain_server.sockets)).getsockname()[1]
                async with secure.registry.events() as events:
                    status = await status_of(f"ws://127.0.0.1:{plain_port}/ocpp/CS-F", "ocpp2.0.1",
                                             additional_headers=basic("CS-F", "pw-pw-pw-pw-pw-pw"))
                    event = await asyncio.wait_for(events.__anext__(), 5)
                assert status == 401 and event.kind == "security" and event.reason == "profile_downgrade"
                # a station that never used TLS may still use profile 1
                assert await status_of(f"ws://127.0.0.1:{plain_port}/ocpp/CS-G", "ocpp2.0.1",
                                       additional_headers=basic("CS-G", "pw-pw-pw-pw-pw-pw")) == 101

    asyncio.run(asyncio.wait_for(main(), 20))


def test_the_floor_and_the_2_1_downgrade_from_3_to_2_only() -> None:
    from ocppgen.generated.runtime.routing import Role
    from ocppgen.generated.runtime.session import Session

    session = Session("CS-D", Role.CSMS)
    session.version = "2.1"
    session.security_floor = 3
    assert not session.allows_profile(2) and not session.allows_profile(1)
    session.allow_downgrade = True  # AllowSecurityProfileDowngrade (A05.FR.08-10)
    assert session.allows_profile(2) and not session.allows_profile(1)  # never to profile 1
    session.version = "2.0.1"
    assert not session.allows_profile(2)  # 2.0.1 has no downgrade


# -- profile 3: the certificate alone, its serial number checked at boot ----------------------------


@pytest.mark.parametrize(("version", "serial", "closed"), [("2.0.1", "SN-0001", False), ("2.0.1", "SN-9999", True), ("1.6", "SN-0001", False), ("1.6", None, True)])
def test_profile_3_binds_the_certificate_to_the_serial_number(tmp_path: Path, version: str, serial: str | None, closed: bool) -> None:
    """A00.FR.401 (no Basic auth), A00.FR.405 (CN = serial number), B01.FR.11/12 (mismatch closes)."""
    pki = Pki(tmp_path)
    binding = {"2.0.1": csms201, "1.6": csms16}[version].BINDING
    handler: Any = Accepting201() if version == "2.0.1" else Accepting16()
    csms = server((binding, handler), authenticator=CertificateAuthenticator())

    async def main() -> None:
        async with csms.serve("127.0.0.1", 0, ssl=pki.server_context(require_client_cert=True)) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            async with csms.registry.events() as events:
                async with connect(f"wss://127.0.0.1:{port}/ocpp/STATION-7", subprotocols=[binding.subprotocol],  # type: ignore[list-item]
                                   ssl=pki.client_context("SN-0001")) as ws:
                    if version == "2.0.1":
                        station_info: dict[str, Any] = {"model": "M", "vendorName": "V"}
                        if serial:
                            station_info["serialNumber"] = serial
                        boot: dict[str, Any] = {"reason": "PowerUp", "chargingStation": station_info}
                    else:
                        boot = {"chargePointModel": "M", "chargePointVendor": "V"}
                        if serial:
                            boot["chargePointSerialNumber"] = serial
                    await ws.send(json.dumps([2, "b", "BootNotification", boot]))
                    if closed:
                        await asyncio.wait_for(ws.wait_closed(), 5)
                        assert ws.close_code == 1008
                        kinds = [await asyncio.wait_for(events.__anext__(), 5) for _ in range(3)]
                        assert any(e.kind == "security" and e.reason == "serial_mismatch" for e in kinds)
                    else:
                        assert json.loads(await ws.recv())[2]["status"] == "Accepted"

    asyncio.run(asyncio.wait_for(main(), 20))


# -- what the station reports (A04) ---------------------------------------------------------------


def test_the_station_reports_failed_authentication_and_a_password_change_once_registered(tmp_path: Path) -> None:
    handler = Accepting201()
    passwords = StaticPasswords({"CS-E": "good-password-001"})
    csms = server((csms201.BINDING, handler), authenticator=passwords)

    async def body(port: int) -> None:
        client = station(f"ws://127.0.0.1:{port}/ocpp/CS-E", station201.BINDING, station201.StationHandler(),
                         basic_auth=("CS-E", "bad-password-000"), queue=SqliteStore(str(tmp_path / "q.sqlite")))
        async with client.running():
            await eventually(lambda: client.last_error is not None and "401" in client.last_error, what="a refusal")
            await asyncio.sleep(0.3)  # several refused attempts: reported once (A00.FR.419's note)
            client.set_password("good-password-001")
            await client.connected(timeout=5)
            await client.csms.boot_notification(boot201())
            await eventually(lambda: len(handler.events) >= 2, what="the security events")
        assert sorted(handler.events) == ["FailedToAuthenticateAtCsms", "ReconfigurationOfSecurityParameters"]

    run(started(csms, body))


def test_an_untrusted_csms_certificate_is_a_critical_event_kept_in_the_queue(tmp_path: Path) -> None:
    """A00.FR.413: InvalidCsmsCertificate; critical events are queued until delivered (A04.FR.02)."""
    pki = Pki(tmp_path)
    (tmp_path / "other").mkdir()
    other = Pki(tmp_path / "other")  # a CA the station does not trust for this CSMS
    handler = Accepting201()
    csms = server((csms201.BINDING, handler))
    store = SqliteStore(str(tmp_path / "q.sqlite"))

    async def main() -> None:
        async with csms.serve("127.0.0.1", 0, ssl=pki.server_context(require_client_cert=False)) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            distrusting = station(f"wss://127.0.0.1:{port}/ocpp/CS-T", station201.BINDING, station201.StationHandler(),
                                  ssl=other.client_context(), queue=store)
            async with distrusting.running():
                await eventually(lambda: store.counts()["queue"] == 1, what="the queued event")
            trusting = station(f"wss://127.0.0.1:{port}/ocpp/CS-T", station201.BINDING, station201.StationHandler(),
                               ssl=pki.client_context(), queue=SqliteStore(str(tmp_path / "q.sqlite")))
            async with trusting.running():
                await trusting.connected(timeout=5)
                await trusting.csms.boot_notification(boot201())
                await eventually(lambda: handler.events == ["InvalidCsmsCertificate"], what="delivery after registration")

    asyncio.run(asyncio.wait_for(main(), 30))


def test_a_station_upgrades_to_profile_2_commits_and_the_csms_refuses_profile_1_afterwards(tmp_path: Path) -> None:
    """2.x A05.FR.04-07 / 1.6 whitepaper A05: reconnect with the new profile, commit once
    connected, and the CSMS no longer takes the lower profile."""
    from ocppgen.generated.runtime.config import ServerOptions
    from ocppgen.generated.runtime.server import CsmsServer

    pki = Pki(tmp_path)
    handler = Accepting201()
    passwords = StaticPasswords({"CS-U": "pw-pw-pw-pw-pw-pw"})
    plain = server((csms201.BINDING, handler), authenticator=passwords)
    secure = CsmsServer(ServerOptions(authenticator=passwords), registry=plain.registry)
    secure.handle(csms201.BINDING, handler)
    committed: list[bool] = []

    async def main() -> None:
        async with plain.serve("127.0.0.1", 0) as ws_plain, secure.serve(
            "127.0.0.1", 0, ssl=pki.server_context(require_client_cert=False)
        ) as ws_tls:
            plain_port = next(iter(ws_plain.sockets)).getsockname()[1]
            tls_port = next(iter(ws_tls.sockets)).getsockname()[1]
            client = station(f"ws://127.0.0.1:{plain_port}/ocpp/CS-U", station201.BINDING, station201.StationHandler(),
                             basic_auth=("CS-U", "pw-pw-pw-pw-pw-pw"))
            async with client.running():
                first = await client.connected(timeout=5)
                await client.csms.boot_notification(boot201())
                client.reconfigure(url=f"wss://127.0.0.1:{tls_port}/ocpp/CS-U", ssl_context=pki.client_context(),
                                   on_commit=lambda: committed.append(True))
                await eventually(lambda: client.current not in (None, first) and committed == [True], what="the upgrade")
                assert client.registered  # the same session: no new boot
            assert await status_of(f"ws://127.0.0.1:{plain_port}/ocpp/CS-U", "ocpp2.0.1",
                                   additional_headers=basic("CS-U", "pw-pw-pw-pw-pw-pw")) == 401  # A05.FR.07

    asyncio.run(asyncio.wait_for(main(), 20))


def test_a_station_falls_back_when_the_new_profile_does_not_connect(tmp_path: Path) -> None:
    """1.6 whitepaper A05.FR.08: back to the previous setting when the new one fails."""
    csms = server((csms201.BINDING, Accepting201()))

    async def body(port: int) -> None:
        client = station(f"ws://127.0.0.1:{port}/ocpp/CS-B", station201.BINDING, station201.StationHandler())
        async with client.running():
            first = await client.connected(timeout=5)
            client.reconfigure(url="wss://127.0.0.1:9/ocpp/CS-B", fallback_after=2)
            await eventually(lambda: client.current not in (None, first), timeout=5, what="the fallback")
            assert client.url == f"ws://127.0.0.1:{port}/ocpp/CS-B"
            with pytest.raises(ValueError, match="same identity|this station's identity"):
                client.reconfigure(url=f"ws://127.0.0.1:{port}/ocpp/OTHER")

    run(started(csms, body))
