"""The ready-made TLS contexts (runtime/tls.py) against clients and servers restricted to one
suite or one TLS version, over real sockets on 127.0.0.1, with certificates made here.

Requirement ids: 2.0.1 / 2.1 Part 2 A00 (they number alike), 1.6 security whitepaper edition 3
where it differs. Decision 0011 records the per-version choices.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

from ocppgen.generated.runtime.tls import (
    LEGACY_SUITE,
    REQUIRED_SUITES,
    CertChain,
    OcppVersion,
    client_context,
    server_context,
    tls_violation,
)

VERSIONS: tuple[OcppVersion, ...] = ("1.6", "2.0.1", "2.1")
HOST = "127.0.0.1"

# -- certificates ------------------------------------------------------------------------------

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class Ca:
    """A certificate authority that writes PEM files of the certificates it issues."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = _build(self.name, self.name, self.key.public_key(), self.key, ca=True)
        self.path = root / f"{name}.pem"
        self.path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, file: str, key: Key, cn: str, *, ip_san: bool = True) -> CertChain:
        subject = x509.Name(
            [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test CSO"), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        )
        san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]) if ip_san else None
        cert = _build(subject, self.name, key.public_key(), self.key, san=san)
        certfile, keyfile = self.root / f"{file}.pem", self.root / f"{file}.key"
        certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        keyfile.write_bytes(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        return CertChain(certfile, keyfile)


def _build(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    signer: CertificateIssuerPrivateKeyTypes,
    *,
    ca: bool = False,
    san: x509.SubjectAlternativeName | None = None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
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
        builder = builder.add_extension(san, critical=False)
    return builder.sign(signer, hashes.SHA256())


@dataclass(frozen=True)
class Pki:
    csms_ca: Path
    csms_rsa: CertChain
    csms_ecdsa: CertChain
    csms_cn_only: CertChain
    station_ca: Path
    station_ec: CertChain
    station_rsa: CertChain
    station_weak: CertChain
    foreign_station: CertChain
    foreign_csms: CertChain


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    csms, stations, other = Ca(root, "CSMS Root"), Ca(root, "Station CA"), Ca(root, "Other CA")
    rsa_key = rsa.generate_private_key(65537, 2048)
    return Pki(
        csms_ca=csms.path,
        csms_rsa=csms.issue("csms-rsa", rsa_key, "csms.test"),
        csms_ecdsa=csms.issue("csms-ec", ec.generate_private_key(ec.SECP256R1()), "csms.test"),
        csms_cn_only=csms.issue("csms-cn", ec.generate_private_key(ec.SECP256R1()), "localhost", ip_san=False),
        station_ca=stations.path,
        station_ec=stations.issue("cs-ec", ec.generate_private_key(ec.SECP256R1()), "SN-0001"),
        station_rsa=stations.issue("cs-rsa", rsa_key, "SN-0002"),
        station_weak=stations.issue("cs-weak", rsa.generate_private_key(65537, 1024), "SN-0003"),
        foreign_station=other.issue("foreign-cs", ec.generate_private_key(ec.SECP256R1()), "SN-0001"),
        foreign_csms=other.issue("foreign-csms", ec.generate_private_key(ec.SECP256R1()), "csms.test"),
    )


# -- one handshake over a real socket ----------------------------------------------------------


@dataclass
class Side:
    """One end of a handshake: what it negotiated, or the error it failed with."""

    version: str | None = None
    cipher: str | None = None
    error: str | None = None
    violation: str | None = None
    peer_cn: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.version is not None


def handshake(
    server: ssl.SSLContext, client: ssl.SSLContext, *, hostname: str = HOST, ocpp: OcppVersion = "2.0.1"
) -> tuple[Side, Side]:
    """Connect ``client`` to a server running ``server`` on 127.0.0.1; returns (server, client).

    The server writes one byte after its handshake and closes; the client reads it, so a
    failure the server detects after the client's side completed (a refused client
    certificate in TLS 1.3) shows on both sides.
    """
    listener = socket.create_server((HOST, 0))
    listener.settimeout(5)
    port = listener.getsockname()[1]
    srv = Side()

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError as exc:
            srv.error = repr(exc)
            return
        conn.settimeout(5)
        try:
            with server.wrap_socket(conn, server_side=True) as tls:
                srv.version, srv.cipher = tls.version(), (tls.cipher() or ("",))[0]
                srv.violation = tls_violation(tls, ocpp)
                der = tls.getpeercert(binary_form=True)
                if der:
                    cn = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
                    srv.peer_cn = str(cn[0].value)
                tls.sendall(b"!")
        except (OSError, ssl.SSLError) as exc:
            srv.error = repr(exc)
        finally:
            conn.close()

    thread = threading.Thread(target=serve)
    thread.start()
    cli = Side()
    try:
        with socket.create_connection((HOST, port), timeout=5) as raw:
            with client.wrap_socket(raw, server_hostname=hostname) as tls:
                cli.version, cli.cipher = tls.version(), (tls.cipher() or ("",))[0]
                if tls.recv(1) != b"!":
                    cli.error = "the server closed the connection"
    except (OSError, ssl.SSLError) as exc:
        cli.error = repr(exc)
    thread.join()
    listener.close()
    return srv, cli


def restricted_client(
    ciphers: str,
    minimum: ssl.TLSVersion,
    maximum: ssl.TLSVersion,
    ca: Path,
    certificate: CertChain | None = None,
) -> ssl.SSLContext:
    """A client limited to exactly the given suites and TLS versions (what a probe would be)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version, ctx.maximum_version = minimum, maximum
    ctx.set_ciphers(ciphers)
    ctx.load_verify_locations(ca)
    if certificate is not None:
        ctx.load_cert_chain(certificate.certfile, certificate.keyfile)
    return ctx


TLS12 = ssl.TLSVersion.TLSv1_2


def csms(pki: Pki, profile: Literal[2, 3], version: OcppVersion, *, legacy_tls: bool = False) -> ssl.SSLContext:
    ca = pki.station_ca if profile == 3 else None
    return server_context(profile, version, rsa=pki.csms_rsa, ecdsa=pki.csms_ecdsa, station_ca=ca, legacy_tls=legacy_tls)


# -- the CSMS's four suites (A00.FR.318/421; 1.6: A00.FR.317/421) -------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("profile", [2, 3])
@pytest.mark.parametrize("suite", sorted(REQUIRED_SUITES))
def test_server_accepts_a_client_limited_to_each_required_suite(
    pki: Pki, suite: str, profile: Literal[2, 3], version: OcppVersion
) -> None:
    cert = pki.station_ec if profile == 3 else None
    client = restricted_client(REQUIRED_SUITES[suite], TLS12, TLS12, pki.csms_ca, cert)
    srv, cli = handshake(csms(pki, profile, version), client, ocpp=version)
    assert srv.ok and cli.ok, (srv, cli)
    assert (srv.version, srv.cipher) == ("TLSv1.2", REQUIRED_SUITES[suite])
    assert srv.violation is None
    if profile == 3:
        assert srv.peer_cn == "SN-0001"


@pytest.mark.parametrize("version", VERSIONS)
def test_tls_1_3_works_with_either_server_certificate(pki: Pki, version: OcppVersion) -> None:
    # "TLS v1.2 or above" (A00.FR.313/416): 1.3 has its own suites, all AEAD.
    v13 = ssl.TLSVersion.TLSv1_3
    for rsa, ecdsa in ((pki.csms_rsa, None), (None, pki.csms_ecdsa)):
        chain = "rsa" if rsa is not None else "ecdsa"
        server = server_context(3, version, station_ca=pki.station_ca, rsa=rsa, ecdsa=ecdsa)
        client = restricted_client("DEFAULT", v13, v13, pki.csms_ca, pki.station_rsa)
        srv, cli = handshake(server, client, ocpp=version)
        assert srv.ok and cli.ok, (chain, srv, cli)
        assert srv.version == "TLSv1.3" and srv.cipher and srv.cipher.startswith("TLS_AES_")
        assert srv.violation is None and srv.peer_cn == "SN-0002"


def test_the_server_prefers_forward_secrecy(pki: Pki) -> None:
    # A00.FR.319 note 1: TLS_RSA has no forward secrecy, ECDHE is recommended.
    suites = ":".join(reversed(list(REQUIRED_SUITES.values())))  # the client prefers TLS_RSA
    srv, _ = handshake(csms(pki, 2, "2.0.1"), restricted_client(suites, TLS12, TLS12, pki.csms_ca))
    assert srv.cipher == "ECDHE-ECDSA-AES128-GCM-SHA256"


@pytest.mark.parametrize("version", VERSIONS)
def test_a_station_with_only_the_tls_rsa_suites_connects(pki: Pki, version: OcppVersion) -> None:
    # A00.FR.319/422 (1.6: A00.FR.318/422): a station may support only the TLS_RSA pair.
    rsa_pair = "AES128-GCM-SHA256:AES256-GCM-SHA384"
    srv, cli = handshake(csms(pki, 2, version), restricted_client(rsa_pair, TLS12, TLS12, pki.csms_ca), ocpp=version)
    assert srv.ok and cli.ok and srv.cipher == "AES128-GCM-SHA256", (srv, cli)


def test_a_server_with_only_an_ecdsa_certificate_refuses_the_rsa_only_station(pki: Pki) -> None:
    # Why A00.FR.318 needs two certificates: the TLS_RSA suites need the RSA one.
    server = server_context(2, "2.0.1", ecdsa=pki.csms_ecdsa)
    rsa_pair = "AES128-GCM-SHA256:AES256-GCM-SHA384"
    srv, cli = handshake(server, restricted_client(rsa_pair, TLS12, TLS12, pki.csms_ca))
    assert not srv.ok and "NO_SHARED_CIPHER" in (srv.error or "")


@pytest.mark.parametrize("suite", ["ECDHE-ECDSA-AES128-SHA", "AES128-SHA", "AES256-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"])
def test_server_refuses_other_tls_1_2_suites(pki: Pki, suite: str) -> None:
    srv, cli = handshake(csms(pki, 2, "2.0.1"), restricted_client(suite, TLS12, TLS12, pki.csms_ca))
    assert not srv.ok and not cli.ok
    assert "NO_SHARED_CIPHER" in (srv.error or "")


# -- TLS versions (A00.FR.313/315, 416/418; 1.6: A00.FR.312/314, 416/418) ------------------------

OLD = [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1]
LEGACY_CIPHERS = "AES128-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:@SECLEVEL=0"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("old", OLD, ids=["TLSv1.0", "TLSv1.1"])
def test_server_refuses_tls_1_0_and_1_1_by_default(pki: Pki, version: OcppVersion, old: ssl.TLSVersion) -> None:
    # Legacy-capable client (security level 0, as OpenSSL 3 needs for TLS 1.0/1.1).
    srv, cli = handshake(csms(pki, 2, version), restricted_client(LEGACY_CIPHERS, old, old, pki.csms_ca), ocpp=version)
    assert not srv.ok and not cli.ok
    assert "UNSUPPORTED_PROTOCOL" in (srv.error or ""), srv.error


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_legacy_tls_is_refused_for_2_x(pki: Pki, version: OcppVersion) -> None:
    with pytest.raises(ValueError, match="A00.FR.313"):
        server_context(2, version, rsa=pki.csms_rsa, legacy_tls=True)


@pytest.mark.parametrize("profile", [2, 3])
@pytest.mark.parametrize("old", OLD, ids=["TLSv1.0", "TLSv1.1"])
def test_1_6_legacy_server_accepts_tls_1_0_and_1_1_with_the_cbc_suite(
    pki: Pki, profile: Literal[2, 3], old: ssl.TLSVersion
) -> None:
    # Whitepaper A00.FR.312/416 (legacy charge points MAY use TLS 1.0/1.1) with
    # TLS_RSA_WITH_AES_128_CBC_SHA (A00.FR.318/422), offered by the Central System (A00.FR.324/428).
    cert = pki.station_rsa if profile == 3 else None
    client = restricted_client("AES128-SHA:@SECLEVEL=0", old, old, pki.csms_ca, cert)
    srv, cli = handshake(csms(pki, profile, "1.6", legacy_tls=True), client, ocpp="1.6")
    assert srv.ok and cli.ok, (srv, cli)
    assert srv.cipher == LEGACY_SUITE[1] and srv.violation is None


@pytest.mark.parametrize("suite", ["ECDHE-RSA-AES128-SHA", "AES256-SHA"])
def test_1_6_legacy_server_refuses_other_suites_on_tls_1_0(pki: Pki, suite: str) -> None:
    old = ssl.TLSVersion.TLSv1
    client = restricted_client(f"{suite}:@SECLEVEL=0", old, old, pki.csms_ca)
    srv, cli = handshake(csms(pki, 2, "1.6", legacy_tls=True), client, ocpp="1.6")
    assert not srv.ok and "NO_SHARED_CIPHER" in (srv.error or "")


def test_1_6_legacy_server_keeps_the_strict_suites_for_tls_1_2(pki: Pki) -> None:
    server = csms(pki, 2, "1.6", legacy_tls=True)
    for suite in REQUIRED_SUITES.values():
        srv, cli = handshake(server, restricted_client(suite, TLS12, TLS12, pki.csms_ca), ocpp="1.6")
        assert srv.ok and srv.cipher == suite and srv.violation is None


def test_1_6_legacy_cbc_suite_on_tls_1_2_is_reported(pki: Pki) -> None:
    # A00.FR.324/428: the CBC suite "only for TLS v1.0/1.1 connections". OpenSSL cannot bind a
    # suite to a version, so the handshake succeeds and tls_violation() names the problem.
    client = restricted_client("AES128-SHA", TLS12, TLS12, pki.csms_ca)
    srv, cli = handshake(csms(pki, 2, "1.6", legacy_tls=True), client, ocpp="1.6")
    assert srv.ok and srv.cipher == "AES128-SHA"
    assert srv.violation is not None and "TLS 1.2 with AES128-SHA" in srv.violation


def test_legacy_tls_needs_the_rsa_certificate(pki: Pki) -> None:
    with pytest.raises(ValueError, match="RSA"):
        server_context(2, "1.6", ecdsa=pki.csms_ecdsa, legacy_tls=True)


# -- profile 3: client certificates (A00.FR.401-403, 407) ---------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("tls13", [False, True], ids=["TLSv1.2", "TLSv1.3"])
def test_profile_3_refuses_a_station_without_a_certificate(pki: Pki, version: OcppVersion, tls13: bool) -> None:
    v = ssl.TLSVersion.TLSv1_3 if tls13 else TLS12
    client = restricted_client("ECDHE-ECDSA-AES128-GCM-SHA256", v, v, pki.csms_ca)
    srv, cli = handshake(csms(pki, 3, version), client, ocpp=version)
    assert not srv.ok and not cli.ok
    assert "PEER_DID_NOT_RETURN_A_CERTIFICATE" in (srv.error or ""), srv.error


@pytest.mark.parametrize("tls13", [False, True], ids=["TLSv1.2", "TLSv1.3"])
def test_profile_3_refuses_a_certificate_from_another_ca(pki: Pki, tls13: bool) -> None:
    v = ssl.TLSVersion.TLSv1_3 if tls13 else TLS12
    client = restricted_client("ECDHE-ECDSA-AES128-GCM-SHA256", v, v, pki.csms_ca, pki.foreign_station)
    srv, cli = handshake(csms(pki, 3, "2.0.1"), client)
    assert not srv.ok and not cli.ok
    assert "CERTIFICATE_VERIFY_FAILED" in (srv.error or ""), srv.error


def test_profile_3_refuses_a_station_key_below_112_bits(pki: Pki) -> None:
    # A00.FR.501/502: RSA keys SHALL be at least 2048 bits (OpenSSL security level 2).
    client = restricted_client("AES128-GCM-SHA256:@SECLEVEL=0", TLS12, TLS12, pki.csms_ca, pki.station_weak)
    srv, cli = handshake(csms(pki, 3, "2.0.1"), client)
    assert not srv.ok and "EE certificate key too weak" in (srv.error or ""), srv.error


def test_profile_2_does_not_ask_for_a_client_certificate(pki: Pki) -> None:
    client = restricted_client("ECDHE-ECDSA-AES128-GCM-SHA256", TLS12, TLS12, pki.csms_ca, pki.station_ec)
    srv, cli = handshake(csms(pki, 2, "2.0.1"), client)
    assert srv.ok and srv.peer_cn is None


# -- the station's context ----------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("profile", [2, 3])
def test_station_context_connects_to_the_csms_context(pki: Pki, profile: Literal[2, 3], version: OcppVersion) -> None:
    cert = pki.station_ec if profile == 3 else None
    client = client_context(profile, version, csms_ca=pki.csms_ca, certificate=cert)
    srv, cli = handshake(csms(pki, profile, version), client, ocpp=version)
    assert srv.ok and cli.ok, (srv, cli)
    assert srv.version == "TLSv1.3" and srv.violation is None
    assert srv.peer_cn == ("SN-0001" if profile == 3 else None)


@pytest.mark.parametrize("chain", ["rsa", "ecdsa"])
def test_station_context_works_with_a_csms_that_has_one_certificate_type_on_tls_1_2(pki: Pki, chain: str) -> None:
    # A00.FR.319/422: the station offers both suite pairs, so either CSMS certificate works.
    server = server_context(
        2, "2.0.1", rsa=pki.csms_rsa if chain == "rsa" else None, ecdsa=pki.csms_ecdsa if chain == "ecdsa" else None
    )
    server.maximum_version = TLS12
    srv, cli = handshake(server, client_context(2, "2.0.1", csms_ca=pki.csms_ca))
    assert srv.ok and cli.ok, (srv, cli)
    assert srv.cipher == ("ECDHE-RSA-AES128-GCM-SHA256" if chain == "rsa" else "ECDHE-ECDSA-AES128-GCM-SHA256")


@pytest.mark.parametrize("old", OLD, ids=["TLSv1.0", "TLSv1.1"])
def test_station_refuses_a_csms_that_only_speaks_old_tls(pki: Pki, old: ssl.TLSVersion) -> None:
    # A00.FR.316/419 (1.6: A00.FR.315/419): the station terminates (security event: not here).
    server = csms(pki, 2, "1.6", legacy_tls=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        server.maximum_version = old
    srv, cli = handshake(server, client_context(2, "1.6", csms_ca=pki.csms_ca), ocpp="1.6")
    assert not cli.ok and not srv.ok
    assert "UNSUPPORTED_PROTOCOL" in (cli.error or "") or "PROTOCOL_VERSION" in (cli.error or ""), cli.error


def test_station_refuses_a_csms_certificate_from_another_ca(pki: Pki) -> None:
    # A00.FR.308/311, 411/414: path validation, then termination.
    server = server_context(2, "2.0.1", ecdsa=pki.foreign_csms)
    srv, cli = handshake(server, client_context(2, "2.0.1", csms_ca=pki.csms_ca))
    assert not cli.ok and "CERTIFICATE_VERIFY_FAILED" in (cli.error or "")


def test_station_checks_the_csms_name_including_a_cn_only_certificate(pki: Pki) -> None:
    # A00.FR.309/412: the commonName holds the CSMS's FQDN (a certificate without SAN).
    server = server_context(2, "2.0.1", ecdsa=pki.csms_cn_only)
    station = client_context(2, "2.0.1", csms_ca=pki.csms_ca)
    srv, cli = handshake(server, station, hostname="localhost")
    assert srv.ok and cli.ok, (srv, cli)
    srv, cli = handshake(server, station, hostname="csms.elsewhere.test")
    assert not cli.ok and "Hostname mismatch" in (cli.error or ""), cli.error


# -- what the contexts are, and what they refuse to build ---------------------------------------


def test_contexts_disable_compression_and_old_protocols(pki: Pki) -> None:
    # A00.FR.321/424 (1.6: A00.FR.320/424): no TLS compression.
    for ctx in (csms(pki, 3, "2.1"), client_context(3, "2.1", csms_ca=pki.csms_ca, certificate=pki.station_ec)):
        assert ctx.options & ssl.OP_NO_COMPRESSION
        assert ctx.minimum_version == TLS12
        offered = {c["name"] for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.2"}
        assert set(REQUIRED_SUITES.values()) <= offered
        assert all("GCM" in name for name in offered)
    assert csms(pki, 3, "2.1").verify_mode == ssl.CERT_REQUIRED
    assert csms(pki, 2, "2.1").verify_mode == ssl.CERT_NONE


def test_misuse_is_refused(pki: Pki) -> None:
    with pytest.raises(ValueError, match="CA of the station"):
        server_context(3, "2.0.1", ecdsa=pki.csms_ecdsa)
    with pytest.raises(ValueError, match="profile 2"):
        server_context(2, "2.0.1", ecdsa=pki.csms_ecdsa, station_ca=pki.station_ca)
    with pytest.raises(ValueError, match="server certificate"):
        server_context(2, "2.0.1")
    with pytest.raises(ValueError, match="holds a ec key"):
        server_context(2, "2.0.1", rsa=pki.csms_ecdsa)
    with pytest.raises(ValueError, match="holds a rsa key"):
        server_context(2, "2.0.1", ecdsa=pki.csms_rsa)
    with pytest.raises(ValueError, match="does not use TLS"):
        server_context(1, "2.0.1", ecdsa=pki.csms_ecdsa)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown OCPP version"):
        client_context(2, "2.0", csms_ca=pki.csms_ca)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="station's certificate"):
        client_context(3, "2.0.1", csms_ca=pki.csms_ca)
    with pytest.raises(ValueError, match="profile 2"):
        client_context(2, "2.0.1", csms_ca=pki.csms_ca, certificate=pki.station_ec)


def test_a_server_key_below_112_bits_does_not_load(pki: Pki) -> None:
    # A00.FR.501/502 apply to the CSMS's own certificate too.
    with pytest.raises(ssl.SSLError, match="too small"):
        server_context(2, "2.0.1", rsa=pki.station_weak)
