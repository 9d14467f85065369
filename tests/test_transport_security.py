"""Registration gate, security profiles 1-3 (certificates generated here), and log redaction."""

from __future__ import annotations

import datetime
import json
import logging
import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidMessage, InvalidStatus

from ocppgen.generated.runtime.errors import ConnectFailed
from ocppgen.generated.runtime.security import CertificateAuthenticator, StaticPasswords, redact
from ocppgen.generated.v16 import csms as csms16, enums as e16, messages as m16, station as station16
from ocppgen.generated.v201 import csms as csms201, datatypes as d201, enums as e201, messages as m201
from ocppgen.generated.v201 import station as station201
from tests.helpers import NOW, boot201, run, server, started, station


# -- security profiles ------------------------------------------------------------------------


class Pki:
    """A CA, a server certificate for 127.0.0.1, and client certificates, made for the test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CSMS Root")])
        self.ca = self._cert(name, self.ca_key.public_key(), ca=True)
        self.ca_path = self._write("ca.pem", self.ca.public_bytes(serialization.Encoding.PEM))

    def _cert(self, subject: x509.Name, public_key: Any, *, ca: bool = False, san: x509.GeneralName | None = None) -> x509.Certificate:
        now = datetime.datetime.now(datetime.timezone.utc)
        issuer = subject if ca else self.ca.subject
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san is not None:
            builder = builder.add_extension(x509.SubjectAlternativeName([san]), critical=False)
        return builder.sign(self.ca_key, hashes.SHA256())

    def _write(self, name: str, data: bytes) -> Path:
        path = self.root / name
        path.write_bytes(data)
        return path

    def leaf(self, cn: str, *, server: bool = False) -> tuple[Path, Path]:
        import ipaddress

        key = ec.generate_private_key(ec.SECP256R1())
        san = x509.IPAddress(ipaddress.ip_address("127.0.0.1")) if server else None
        cert = self._cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]), key.public_key(), san=san)
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        return self._write(f"{cn}.pem", cert.public_bytes(serialization.Encoding.PEM)), self._write(f"{cn}.key", key_pem)

    def server_context(self, require_client_cert: bool) -> ssl.SSLContext:
        cert, key = self.leaf("csms", server=True)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        if require_client_cert:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(self.ca_path)
        return ctx

    def client_context(self, cn: str | None = None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca_path))
        if cn is not None:
            cert, key = self.leaf(cn)
            ctx.load_cert_chain(cert, key)
        return ctx


class AcceptingCsms(csms201.CsmsHandler):
    async def on_boot_notification(self, request: m201.BootNotificationRequest, context: Any) -> m201.BootNotificationResponse:
        return m201.BootNotificationResponse(current_time=NOW, interval=60, status=e201.RegistrationStatusEnumType.Accepted)


async def refused(url: str, **kwargs: Any) -> int:
    try:
        async with connect(url, subprotocols=["ocpp2.0.1"], **kwargs):  # type: ignore[list-item]
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code
    except (ssl.SSLError, InvalidMessage, ConnectionError):
        return -1  # refused during or right after the TLS handshake


def basic(user: str, password: str) -> dict[str, str]:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_security_profile_1_basic_auth() -> None:
    csms = server((csms201.BINDING, AcceptingCsms()), authenticator=StaticPasswords({"CS-A": "s3cret-Passw0rd"}))

    async def body(port: int) -> None:
        url = f"ws://127.0.0.1:{port}/ocpp/CS-A"
        client = station(url, station201.BINDING, station201.StationHandler(), basic_auth=("CS-A", "s3cret-Passw0rd"))
        async with client.running():
            await client.connected(timeout=5)
            assert (await client.csms.boot_notification(boot201())).interval == 60
        assert await refused(url, additional_headers=basic("CS-A", "wrong")) == 401
        assert await refused(url) == 401
        assert await refused(url, additional_headers=basic("CS-B", "s3cret-Passw0rd")) == 401  # user must be the identity
        assert await refused(f"ws://127.0.0.1:{port}/ocpp/CS-UNKNOWN", additional_headers=basic("CS-UNKNOWN", "x")) == 401
        # identities are case-insensitive (identifierString): the same station, the same password
        assert await refused(f"ws://127.0.0.1:{port}/ocpp/cs-a", additional_headers=basic("cs-a", "s3cret-Passw0rd")) == 101
        wrong = station(url, station201.BINDING, station201.StationHandler(), basic_auth=("CS-A", "bad"))
        async with wrong.running():
            with pytest.raises(ConnectFailed, match=r"HTTP 401 \(unauthorized\)"):
                await wrong.connected(timeout=0.5)

    run(started(csms, body))


def test_security_profile_2_tls_and_basic_auth(tmp_path: Path) -> None:
    pki = Pki(tmp_path)
    csms = server((csms201.BINDING, AcceptingCsms()), authenticator=StaticPasswords({"CS-T": "pw-pw-pw-pw-pw-pw"}))

    async def body(port: int) -> None:
        url = f"wss://127.0.0.1:{port}/ocpp/CS-T"
        client = station(url, station201.BINDING, station201.StationHandler(), basic_auth=("CS-T", "pw-pw-pw-pw-pw-pw"), ssl=pki.client_context())
        async with client.running():
            await client.connected(timeout=5)
            assert (await client.csms.boot_notification(boot201())).interval == 60
        assert await refused(url, ssl=pki.client_context(), additional_headers=basic("CS-T", "nope")) == 401
        assert await refused(url, ssl=ssl.create_default_context()) == -1  # an untrusted server certificate
        untrusting = station(url, station201.BINDING, station201.StationHandler(), basic_auth=("CS-T", "pw-pw-pw-pw-pw-pw"), ssl=ssl.create_default_context())
        async with untrusting.running():
            with pytest.raises(ConnectFailed, match="TLS: certificate verification failed"):
                await untrusting.connected(timeout=0.5)

    async def with_tls() -> None:
        async with csms.serve("127.0.0.1", 0, ssl=pki.server_context(require_client_cert=False)) as ws_server:
            await body(next(iter(ws_server.sockets)).getsockname()[1])

    run(with_tls())


def test_security_profile_3_client_certificate_bound_to_identity(tmp_path: Path) -> None:
    pki = Pki(tmp_path)

    csms = server(
        (csms201.BINDING, AcceptingCsms()), authenticator=CertificateAuthenticator(binding="identity"), certificate_binding="identity"
    )

    async def body(port: int) -> None:
        url_a = f"wss://127.0.0.1:{port}/ocpp/CS-A"
        client = station(url_a, station201.BINDING, station201.StationHandler(), ssl=pki.client_context("CS-A"))
        async with client.running():
            await client.connected(timeout=5)
            assert (await client.csms.boot_notification(boot201())).interval == 60
        # another station's valid certificate is refused for this identity
        assert await refused(url_a, ssl=pki.client_context("CS-B")) == 401
        # no client certificate at all fails the TLS handshake
        assert await refused(url_a, ssl=pki.client_context()) == -1

    async def with_mtls() -> None:
        async with csms.serve("127.0.0.1", 0, ssl=pki.server_context(require_client_cert=True)) as ws_server:
            await body(next(iter(ws_server.sockets)).getsockname()[1])

    run(with_mtls())


# -- secrets never logged -----------------------------------------------------------------


def test_redact_removes_secrets_from_frames() -> None:
    set_vars = json.dumps([2, "1", "SetVariables", {"setVariableData": [
        {"attributeValue": "hunter2hunter2", "component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}},
        {"attributeValue": "300", "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
    ]}])
    out = redact(set_vars)
    assert "hunter2" not in out and '"300"' in out
    change = json.dumps([2, "2", "ChangeConfiguration", {"key": "AuthorizationKey", "value": "0011223344556677"}])
    assert "0011223344556677" not in redact(change)
    assert "AuthorizationKey" in redact(change)
    network = json.dumps([2, "3", "SetNetworkProfile", {"connectionData": {"basicAuthPassword": "abc123abc123abc1"}}])
    assert "abc123" not in redact(network)


def test_frame_log_and_auth_failures_never_contain_secrets(caplog: pytest.LogCaptureFixture) -> None:
    csms = server((csms201.BINDING, AcceptingCsms()), authenticator=StaticPasswords({"CS-L": "very-secret-pw-1"}), log_frames=True)

    class Station(station201.StationHandler):
        async def on_set_variables(self, request: m201.SetVariablesRequest, context: Any) -> m201.SetVariablesResponse:
            item = request.set_variable_data[0]
            return m201.SetVariablesResponse(set_variable_result=[d201.SetVariableResultType(
                attribute_status=e201.SetVariableStatusEnumType.Accepted, component=item.component, variable=item.variable)])

    async def body(port: int) -> None:
        url = f"ws://127.0.0.1:{port}/ocpp/CS-L"
        await refused(url, additional_headers=basic("CS-L", "wrong-secret-pw-2"))
        client = station(url, station201.BINDING, Station(), basic_auth=("CS-L", "very-secret-pw-1"), log_frames=True)
        async with client.running():
            await client.connected(timeout=5)
            await client.csms.boot_notification(boot201())
            await csms.registry.client("CS-L", csms201.BINDING).set_variables(m201.SetVariablesRequest(set_variable_data=[
                d201.SetVariableDataType(attribute_value="new-secret-pw-3", component=d201.ComponentType(name="SecurityCtrlr"),
                                         variable=d201.VariableType(name="BasicAuthPassword"))]))

    with caplog.at_level(logging.DEBUG):  # every logger, websockets' handshake lines included
        run(started(csms, body))
    # every record but those of the test's own raw websockets client (``refused``), which is not ocppgen
    text = "\n".join(r.getMessage() for r in caplog.records if r.name != "websockets.client")
    assert "SetVariables" in text and "authentication failed" in text  # the logs were written
    frames = [r for r in caplog.records if r.name == "ocppgen.frames"]
    assert {r.getMessage().split(" ")[1] for r in frames} == {"<", ">"} and all(r.ocpp_station == "CS-L" for r in frames)  # type: ignore[attr-defined]
    import base64 as b64

    assert "Authorization: ***" in text  # websockets' own header log, redacted
    for secret in ("very-secret-pw-1", "wrong-secret-pw-2", "new-secret-pw-3"):
        assert secret not in text
        assert b64.b64encode(f"CS-L:{secret}".encode()).decode() not in text
