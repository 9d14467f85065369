"""Signed messages end to end over loopback (2.0.1 and 2.1 Part 4 chapter 7): a CALL goes out
as ``<Action>-Signed`` with a Flattened JWS, is verified and handled as the ordinary action with
the signer available to the handler, a signed request gets a signed reply (7.2), each of ES256,
RS256 and RS384 round-trips, and a tampered, foreign or missing signature is refused with
SecurityError."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from websockets.asyncio.client import connect

from ocppgen.generated.runtime.signing import SigningPolicy, sign_call
from ocppgen.generated.v201 import csms as csms201, enums as e201, messages as m201, station as station201
from ocppgen.generated.v21 import csms as csms21
from tests.helpers import NOW, boot201, run, server, started, station
from tests.test_signing import Identity, identity

CSMS_KEY = identity(ec.generate_private_key(ec.SECP256R1()), "CSMS signer")
STATION_EC = identity(ec.generate_private_key(ec.SECP256R1()), "station signer EC")
STATION_RSA = identity(rsa.generate_private_key(65537, 2048), "station signer RSA")
STRANGER = identity(ec.generate_private_key(ec.SECP256R1()), "not trusted")


class SignedCsms(csms201.CsmsHandler):
    def __init__(self) -> None:
        self.signers: list[str | None] = []

    async def on_boot_notification(self, request: m201.BootNotificationRequest, context: csms201.Context) -> m201.BootNotificationResponse:
        self.signers.append(None if context.signer is None else context.signer.thumbprint)
        return m201.BootNotificationResponse(current_time=NOW, interval=60, status=e201.RegistrationStatusEnumType.Accepted)

    async def on_heartbeat(self, request: Any, context: csms201.Context) -> m201.HeartbeatResponse:
        self.signers.append(None if context.signer is None else context.signer.thumbprint)
        return m201.HeartbeatResponse(current_time=NOW)


class SignedStation(station201.StationHandler):
    def __init__(self) -> None:
        self.signers: list[str | None] = []

    async def on_reset(self, request: m201.ResetRequest, context: station201.Context) -> m201.ResetResponse:
        self.signers.append(None if context.signer is None else context.signer.thumbprint)
        return m201.ResetResponse(status=e201.ResetStatusEnumType.Accepted)


def csms_policy(*trusted: Identity) -> SigningPolicy:
    return SigningPolicy(signer=CSMS_KEY.signer(), trusted=[t.certificate for t in trusted],
                         sign=frozenset({"Reset"}), require=frozenset({"BootNotification"}))


@pytest.mark.parametrize(("who", "algorithm"), [(STATION_EC, "ES256"), (STATION_RSA, "RS256"), (STATION_RSA, "RS384")])
def test_signed_calls_and_signed_replies_both_ways(who: Identity, algorithm: Any) -> None:
    handler = SignedCsms()
    csms = server((csms201.BINDING, handler), signing=csms_policy(who))
    station_handler = SignedStation()
    async def body(port: int) -> None:
        policy = SigningPolicy(signer=who.signer(algorithm), trusted=[CSMS_KEY.certificate], sign=True)
        client = station(f"ws://127.0.0.1:{port}/ocpp/CS-S", station201.BINDING, station_handler, signing=policy)
        async with client.running():
            await client.connected(timeout=5)
            boot = await client.csms.boot_notification(boot201())  # signed, and answered signed (7.2)
            assert boot.status is e201.RegistrationStatusEnumType.Accepted
            await client.csms.heartbeat(m201.HeartbeatRequest())
            reset = await csms.registry.client("CS-S", csms201.BINDING).reset(m201.ResetRequest(type=e201.ResetEnumType.OnIdle))
            assert reset.status is e201.ResetStatusEnumType.Accepted

    run(started(csms, body))
    assert handler.signers == [who.certificate.thumbprint, who.certificate.thumbprint]
    assert station_handler.signers == [CSMS_KEY.certificate.thumbprint]


def test_what_goes_over_the_wire_is_a_flattened_jws_and_bad_ones_are_refused() -> None:
    handler = SignedCsms()
    csms = server((csms201.BINDING, handler), signing=csms_policy(STATION_EC))
    payload = msgspec.json.encode(boot201())

    async def body(port: int) -> None:
        async with connect(f"ws://127.0.0.1:{port}/ocpp/CS-W", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
            action, jws = sign_call("BootNotification", "b1", payload, STATION_EC.signer())
            await ws.send(json.dumps([2, "b1", action, json.loads(jws)]))
            reply = json.loads(await ws.recv())
            assert reply[0] == 3 and set(reply[2]) == {"protected", "payload", "signature"}  # a signed reply (7.2)
            # tampered: the payload no longer matches the signature
            tampered = json.loads(jws)
            tampered["payload"] = tampered["payload"][:-4] + ("AAAA" if not tampered["payload"].endswith("AAAA") else "BBBB")
            await ws.send(json.dumps([2, "b2", "BootNotification-Signed", tampered]))
            assert json.loads(await ws.recv())[:3] == [4, "b2", "SecurityError"]
            # signed by a key this CSMS does not trust
            action, foreign = sign_call("BootNotification", "b3", payload, STRANGER.signer())
            await ws.send(json.dumps([2, "b3", action, json.loads(foreign)]))
            assert json.loads(await ws.recv())[:3] == [4, "b3", "SecurityError"]
            # a signature made for another message id (replayed)
            await ws.send(json.dumps([2, "b4", "BootNotification-Signed", json.loads(jws)]))
            assert json.loads(await ws.recv())[:3] == [4, "b4", "SecurityError"]
            # the policy requires BootNotification to be signed
            await ws.send(json.dumps([2, "b5", "BootNotification", json.loads(payload)]))
            assert json.loads(await ws.recv())[:3] == [4, "b5", "SecurityError"]
            # other actions may come unsigned
            await ws.send('[2,"h1","Heartbeat",{}]')
            assert json.loads(await ws.recv())[:2] == [3, "h1"]

    run(started(csms, body))
    assert handler.signers == [STATION_EC.certificate.thumbprint, None]


def test_a_link_without_a_signing_policy_does_not_know_signed_actions() -> None:
    csms = server((csms21.BINDING, csms21.CsmsHandler()))

    async def body(port: int) -> None:
        async with connect(f"ws://127.0.0.1:{port}/ocpp/CS-N", subprotocols=["ocpp2.1"]) as ws:  # type: ignore[list-item]
            action, jws = sign_call("Heartbeat", "h", b"{}", STATION_EC.signer())
            await ws.send(json.dumps([2, "h", action, json.loads(jws)]))
            assert json.loads(await ws.recv())[:3] == [4, "h", "NotImplemented"]

    run(started(csms, body))
