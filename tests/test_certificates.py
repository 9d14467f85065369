"""The certificate life cycle (issue 12): CSRs and signing (A00.FR.5xx, A02/A03), chain checks,
certificate hash data (RFC 6960 CertID), the station's certificate store (M03-M05, 1.6
whitepaper M03-M05), and the renewal flows end to end over TLS with client certificates.
Keys and certificates are made in the test."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ocppgen.generated.runtime import certificates as certs
from ocppgen.generated.runtime.certificate_management import (
    CSMS_ROOT,
    CertificateIssuer,
    CertificateStore,
    IssueResult,
    SigningRetry,
    StationCertificates,
    installed_certificates,
    trigger_renewal,
)
from ocppgen.generated.runtime.certificates import (
    CertificateAuthority,
    CertificateError,
    CertificateHashData,
    InvalidCertificate,
    certificate_hash_data,
    new_key_and_csr,
    read_csr,
    validate_chain,
)
from ocppgen.generated.runtime.security import CertificateAuthenticator, Credentials
from ocppgen.generated.runtime.tls import CertChain, server_context
from ocppgen.generated.v16 import (
    csms as csms16,
    enums as e16,
    messages as m16,
    routing as r16,
    station as station16,
)
from ocppgen.generated.v21 import (
    csms as csms21,
    datatypes as d21,
    enums as e21,
    messages as m21,
    routing as r21,
)
from ocppgen.generated.v21 import station as station21
from ocppgen.generated.v201 import csms as csms201, datatypes as d201, enums as e201, messages as m201
from ocppgen.generated.v201 import routing as r201, station as station201
from tests.conftest import ROOT
from tests.helpers import NOW, eventually, server, station

UTC = datetime.timezone.utc


def now() -> datetime.datetime:
    return datetime.datetime.now(UTC)


@pytest.fixture(scope="module")
def root() -> CertificateAuthority:
    return CertificateAuthority.create("ACME CSO Root", "ACME")


def spki(private_key: bytes) -> bytes:
    key = serialization.load_pem_private_key(private_key, None)
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode())


def build(
    issuer_key: Any,
    issuer_name: x509.Name,
    *,
    subject: x509.Name | None = None,
    key: Any = None,
    serial: int | None = None,
    ca: bool = False,
    start: datetime.datetime | None = None,
    days: int = 30,
    extensions: list[tuple[x509.ExtensionType, bool]] | None = None,
) -> tuple[x509.Certificate, Any]:
    """A certificate built directly with cryptography (for the cases the CA never makes)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = subject or issuer_name
    start = start or now() - datetime.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    for extension, critical in extensions or []:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key or key, hashes.SHA256()), key


def name(cn: str, o: str | None = "ACME") -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if o is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o))
    return x509.Name(attributes)


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def ca_key(ca: CertificateAuthority) -> Any:
    return serialization.load_pem_private_key(ca.private_key_pem, None)


def ca_cert(ca: CertificateAuthority) -> x509.Certificate:
    return x509.load_pem_x509_certificate(ca.root_pem.encode())


# -- CSRs (A00.FR.501-511, A02.FR.02/03) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_type", "size", "bits"), [("ec", None, 256), ("ec", 384, 384), ("rsa", None, 2048)]
)
def test_a_csr_names_the_serial_number_and_the_cso_and_proves_the_key(
    key_type: Any, size: int | None, bits: int
) -> None:
    made = new_key_and_csr("SN-0001", "ACME CSO", key_type=key_type, size=size)
    assert made.csr.startswith("-----BEGIN CERTIFICATE REQUEST-----")  # RFC 2986, PEM (A02.FR.03)
    assert "PRIVATE KEY" not in made.csr and "private_key" not in repr(made)  # A02.FR.05
    info = read_csr(made.csr)
    assert (info.common_name, info.organization, info.key_type, info.key_size) == (
        "SN-0001",
        "ACME CSO",
        key_type,
        bits,
    )
    request = x509.load_pem_x509_csr(made.csr.encode())
    assert request.is_signature_valid and info.public_key == spki(made.private_key)
    assert request.signature_hash_algorithm is not None
    assert request.signature_hash_algorithm.name == ("sha384" if bits == 384 else "sha256")  # A00.FR.506


def test_weak_keys_and_bad_subjects_are_refused_when_making_a_csr() -> None:
    with pytest.raises(CertificateError, match="A00.FR.502"):
        certs.generate_private_key("rsa", size=1024)
    key = certs.generate_private_key()
    for cn in ("192.168.1.10", "wss://csms.example.com/ocpp"):  # A00.FR.511: never a URL or IP address
        with pytest.raises(CertificateError, match="A00.FR.511"):
            certs.build_csr(key, common_name=cn, organization="ACME")
    with pytest.raises(CertificateError, match="A00.FR.509"):
        certs.build_csr(key, common_name="SN-1", organization="")


def test_read_csr_refuses_what_a_csms_cannot_process() -> None:
    made = new_key_and_csr("SN-1", "ACME")
    der = x509.load_pem_x509_csr(made.csr.encode()).public_bytes(serialization.Encoding.DER)
    tampered = bytearray(der)
    tampered[-5] ^= 0xFF  # inside the signature
    tampered_pem = (
        "-----BEGIN CERTIFICATE REQUEST-----\n"
        + __import__("base64").encodebytes(bytes(tampered)).decode()
        + "-----END CERTIFICATE REQUEST-----\n"
    )
    weak_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    weak = x509.CertificateSigningRequestBuilder().subject_name(name("SN-1")).sign(weak_key, hashes.SHA256())
    sha1_key = ec.generate_private_key(ec.SECP256R1())
    sha224 = (
        x509.CertificateSigningRequestBuilder().subject_name(name("SN-1")).sign(sha1_key, hashes.SHA224())
    )  # BSI: not for future systems
    no_cn = (
        x509.CertificateSigningRequestBuilder().subject_name(x509.Name([])).sign(sha1_key, hashes.SHA256())
    )
    cases = {
        "not PEM": "csr please",
        "signature": tampered_pem,
        "A00.FR.502": weak.public_bytes(serialization.Encoding.PEM).decode(),
        "A00.FR.504": sha224.public_bytes(serialization.Encoding.PEM).decode(),
        "no CN": no_cn.public_bytes(serialization.Encoding.PEM).decode(),
    }
    for why, csr in cases.items():
        with pytest.raises(InvalidCertificate, match=why):
            read_csr(csr)


# -- signing (A02.FR.04, certificate properties) ------------------------------------------------------


def test_the_ca_issues_a_station_certificate_with_the_required_properties(root: CertificateAuthority) -> None:
    made = new_key_and_csr("SN-0001", "ACME")
    chain = root.sign(made.csr)
    (leaf,) = load(chain)  # a root CA: the chain is the certificate alone
    assert leaf.subject == name("SN-0001") and leaf.issuer == ca_cert(root).subject  # A00.FR.509/511
    assert leaf.serial_number > 0 and leaf.serial_number.bit_length() > 64  # A00.FR.508
    assert leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == spki(made.private_key)
    assert leaf.not_valid_before_utc <= now() - datetime.timedelta(minutes=4)  # A02.FR.06 note: clocks differ
    assert leaf.not_valid_after_utc <= ca_cert(root).not_valid_after_utc
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert (
        usage.critical
        and usage.value.digital_signature
        and usage.value.key_agreement
        and not usage.value.key_cert_sign
    )  # A00.FR.512
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for absent in (x509.ExtendedKeyUsage, x509.SubjectAlternativeName):  # A00.FR.514, A00.FR.511 note
        with pytest.raises(x509.ExtensionNotFound):
            leaf.extensions.get_extension_for_class(absent)
    leaf.verify_directly_issued_by(ca_cert(root))
    assert root.sign(made.csr) != chain  # a new serial number each time


def test_an_rsa_ca_signs_with_rsa_pss_and_a_sub_ca_chain_carries_the_sub_ca() -> None:
    rsa_root = CertificateAuthority.create("RSA Root", "ACME", key_type="rsa")
    sub = CertificateAuthority.create("ACME Sub-CA", "ACME", issuer=rsa_root)
    made = new_key_and_csr("SN-2", "ACME", key_type="rsa")
    leaf, sub_cert = load(sub.sign(made.csr))  # leaf first, then the sub-CA; not the root
    assert (
        sub_cert.subject == name("ACME Sub-CA")
        and isinstance(leaf.signature_algorithm_parameters, padding.PSS) is False
    )
    assert isinstance(
        sub_cert.signature_algorithm_parameters, padding.PSS
    )  # A00.FR.505: RSA-PSS by an RSA CA
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_encipherment and not usage.key_agreement
    validated = validate_chain(
        sub.sign(made.csr),
        roots=[rsa_root.root_pem],
        now=now(),
        common_name="SN-2",
        public_key=spki(made.private_key),
    )
    assert validated.common_name == "SN-2"


def test_the_ca_refuses_a_csr_of_another_organization(root: CertificateAuthority) -> None:
    strict = CertificateAuthority(root.certificate_pem, root.private_key_pem, organization="ACME")
    with pytest.raises(InvalidCertificate, match="A00.FR.404/509"):
        strict.sign(new_key_and_csr("SN-1", "EVIL").csr)
    with pytest.raises(CertificateError, match="not the key"):
        CertificateAuthority(root.certificate_pem, certs.generate_private_key())


# -- chain checks (A02.FR.06/07/16) ----------------------------------------------------------------------


def test_validate_chain_refuses_what_a02_fr_06_names(root: CertificateAuthority) -> None:
    made = new_key_and_csr("SN-1", "ACME")
    chain = root.sign(made.csr)
    key = spki(made.private_key)
    ok = validate_chain(
        chain, roots=[root.root_pem], now=now(), common_name="SN-1", organization="ACME", public_key=key
    )
    assert ok.hash_data == certificate_hash_data(chain, root.root_pem)
    other = CertificateAuthority.create("Other Root", "ACME")

    def check(reason: str, text: str = chain, **changes: Any) -> None:
        arguments: dict[str, Any] = {
            "roots": [root.root_pem],
            "now": now(),
            "common_name": "SN-1",
            "organization": "ACME",
            "public_key": key,
        }
        arguments.update(changes)
        with pytest.raises(InvalidCertificate, match=reason):
            validate_chain(text, **arguments)

    check("expired", now=now() + datetime.timedelta(days=400))  # the validity period
    tomorrow = CertificateAuthority(
        root.certificate_pem,
        root.private_key_pem,
        backdate=datetime.timedelta(0),
        clock=lambda: now() + datetime.timedelta(days=1),
    )
    future = tomorrow.sign(made.csr)
    check("not valid before", text=future)  # 2.0.1 errata 2025-09, 2.1 A02.FR.06: no future certificates
    assert validate_chain(
        future, roots=[root.root_pem], now=now(), public_key=key, allow_not_yet_valid=True
    )  # 1.6 A02.FR.08
    check("trusted root", roots=[other.root_pem])  # another CA: not the CSO hierarchy
    check("no trusted root", roots=[])
    check("A02.FR.16", max_size=len(chain) - 1)  # MaxCertificateChainSize
    check("A02.FR.05", public_key=spki(certs.generate_private_key()))  # not the key of our CSR
    check("A00.FR.511", common_name="SN-2")
    check("A00.FR.509", organization="OTHER")
    check("A00.FR.507", text="garbage\n" + chain)
    check("A00.FR.507", text=chain.replace("CERTIFICATE", "PRIVATE KEY"))
    look_alike = CertificateAuthority.create("ACME CSO Root", "ACME")  # the trusted root's name, another key
    check("does not verify", text=look_alike.sign(made.csr))


def test_validate_chain_follows_sub_cas_and_checks_the_issuers() -> None:
    top = CertificateAuthority.create("Root", "ACME")
    sub = CertificateAuthority.create("Sub", "ACME", issuer=top)
    made = new_key_and_csr("SN-1", "ACME")
    chain = sub.sign(made.csr)
    assert validate_chain(chain, roots=[top.root_pem], now=now(), common_name="SN-1")
    leaf_only = pem(load(chain)[0])
    with pytest.raises(InvalidCertificate, match="trusted root"):
        validate_chain(leaf_only, roots=[top.root_pem], now=now())  # the sub-CA is missing
    # a certificate signed by a leaf (no CA) is refused, as is a leaf with only serverAuth
    leaf_cert = load(chain)[0]
    leaf_key = serialization.load_pem_private_key(made.private_key, None)
    below, _ = build(leaf_key, leaf_cert.subject, subject=name("SN-9"))
    with pytest.raises(InvalidCertificate, match="not a CA"):
        validate_chain(pem(below) + chain, roots=[top.root_pem], now=now())
    server_only, _ = build(
        ca_key(top),
        ca_cert(top).subject,
        subject=name("SN-3"),
        extensions=[(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)],
    )
    with pytest.raises(InvalidCertificate, match="client authentication"):
        validate_chain(pem(server_only), roots=[top.root_pem], now=now())
    critical, _ = build(
        ca_key(top),
        ca_cert(top).subject,
        subject=name("SN-4"),
        extensions=[
            (x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00"), True)
        ],
    )
    with pytest.raises(InvalidCertificate, match="unknown critical extension"):
        validate_chain(pem(critical), roots=[top.root_pem], now=now())


# -- certificate hash data (RFC 6960 CertID) --------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["SHA256", "SHA384", "SHA512"])
@pytest.mark.parametrize("issuer_type", ["ec", "rsa"])
def test_hash_data_equals_openssls_ocsp_certid(algorithm: str, issuer_type: Any) -> None:
    """Computed independently: cryptography's OCSP request builder (OpenSSL's CertID code)."""
    issuer = CertificateAuthority.create("Issuer", "ACME", key_type=issuer_type)
    leaf = load(issuer.sign(new_key_and_csr("SN-1", "ACME").csr))[0]
    mine = certificate_hash_data(pem(leaf), issuer.root_pem, algorithm)
    request = (
        ocsp.OCSPRequestBuilder().add_certificate(leaf, ca_cert(issuer), getattr(hashes, algorithm)()).build()
    )
    assert mine == CertificateHashData(
        hash_algorithm=algorithm,
        issuer_name_hash=request.issuer_name_hash.hex().upper(),
        issuer_key_hash=request.issuer_key_hash.hex().upper(),
        serial_number=format(request.serial_number, "X"),
    )


def test_hash_data_by_hand_the_whitepapers_serial_example_and_matching() -> None:
    """The definitions applied by hand: SHA-256 of the DER issuer name, of the issuer's public
    key bits (EC: the uncompressed point), the serial number 4095 as "FFF" (1.6 whitepaper 6.1)."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_cert, _ = build(root_key, name("Root"), key=root_key, ca=True)
    leaf, _ = build(root_key, name("Root"), subject=name("SN-1"), serial=4095)
    data = certificate_hash_data(leaf.public_bytes(serialization.Encoding.DER), pem(root_cert))
    import hashlib

    point = root_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert data.issuer_name_hash == hashlib.sha256(leaf.issuer.public_bytes()).hexdigest().upper()
    assert data.issuer_key_hash == hashlib.sha256(point).hexdigest().upper()
    assert data.serial_number == "FFF" and data.hash_algorithm == "SHA256"
    assert msgspec.to_builtins(data) == {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": data.issuer_name_hash,
        "issuerKeyHash": data.issuer_key_hash,
        "serialNumber": "FFF",
    }
    # a root is its own issuer; a leaf needs its issuer's certificate
    assert certificate_hash_data(pem(root_cert)).issuer_key_hash == data.issuer_key_hash
    with pytest.raises(CertificateError, match="issuer"):
        certificate_hash_data(pem(leaf))
    with pytest.raises(CertificateError, match="issuer"):
        certificate_hash_data(pem(leaf), pem(leaf))
    # what a peer sends is compared without regard to case or leading zeroes (1.6 CiString)
    peer = CertificateHashData(
        hash_algorithm="SHA256",
        issuer_name_hash=data.issuer_name_hash.lower(),
        issuer_key_hash=data.issuer_key_hash.lower(),
        serial_number="0fff",
    )
    assert peer.matches(data) and not msgspec.structs.replace(peer, serial_number="FFE").matches(data)
    assert not msgspec.structs.replace(peer, hash_algorithm="SHA384").matches(data)


def test_hash_data_needs_only_the_standard_library_and_the_modules_import_without_cryptography(
    root: CertificateAuthority,
) -> None:
    leaf = root.sign(new_key_and_csr("SN-1", "ACME").csr)
    expected = certificate_hash_data(leaf, root.root_pem)
    code = (
        "import sys; sys.modules['cryptography'] = None\n"
        "from ocppgen.generated.runtime import certificates as c, certificate_management as m\n"
        f"d = c.certificate_hash_data({leaf!r}, {root.root_pem!r})\n"
        f"assert d.issuer_key_hash == {expected.issuer_key_hash!r} and d.serial_number == {expected.serial_number!r}\n"
        "try:\n    c.generate_private_key()\n"
        "except c.CertificatesUnavailable as e:\n    assert isinstance(e, ImportError) and 'cryptography' in str(e)\n"
        "else:\n    raise SystemExit('no CertificatesUnavailable')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr


# -- the station's certificate store (M03-M05) --------------------------------------------------------------


def test_install_list_and_delete_ca_certificates(tmp_path: Path, root: CertificateAuthority) -> None:
    store = CertificateStore(tmp_path, max_entries=3)
    assert store.install(CSMS_ROOT, root.root_pem).accepted  # M05.FR.02
    assert store.install(
        "CentralSystemRootCertificate", root.root_pem
    ).accepted  # the same again: replaced (M05.FR.17)
    assert [c.use for c in store.installed()] == [CSMS_ROOT]
    manufacturer = CertificateAuthority.create("Maker Root", "Maker")
    sub = CertificateAuthority.create("Maker Sub", "Maker", issuer=manufacturer)
    sub_pem = load(sub.certificate_pem)[0]
    assert (
        store.install("ManufacturerRootCertificate", pem(sub_pem)).reason_code == "InvalidCertificate"
    )  # its issuer is unknown
    assert store.install("ManufacturerRootCertificate", manufacturer.root_pem).accepted
    assert store.install("ManufacturerRootCertificate", pem(sub_pem)).accepted  # issued by an installed one
    full = store.install("V2GRootCertificate", CertificateAuthority.create("V2G Root", "V2G").root_pem)
    assert (full.status, full.reason_code) == ("Rejected", "OutOfStorage")  # M05.FR.06, 1.6 M05.FR.03

    leaf = root.sign(new_key_and_csr("SN-1", "ACME").csr)
    expired, _ = build(None, name("Old Root"), ca=True, start=now() - datetime.timedelta(days=60), days=30)
    for bad in (
        leaf,
        pem(expired),
        root.root_pem + manufacturer.root_pem,
        "not a certificate",
        root.root_pem.replace("MI", "Mi", 1),
    ):
        result = store.install(CSMS_ROOT, bad)
        assert result.status == "Rejected", bad  # M05.FR.07 (1.6 M05.FR.06)
    assert store.install("ChargingStationCertificate", root.root_pem).status == "Rejected"

    listed = {c.use: c.hash_data for c in store.installed()}
    assert listed[CSMS_ROOT] == certificate_hash_data(root.root_pem)
    sub_hash = [
        c.hash_data
        for c in store.installed(["ManufacturerRootCertificate"])
        if "Sub" in load(c.pem)[0].subject.rfc4514_string()
    ][0]
    assert sub_hash == certificate_hash_data(pem(sub_pem), manufacturer.root_pem)

    # M04: NotFound, the last CSMS root is kept, the manufacturer root goes and its sub-CA stays nameable
    unknown = msgspec.structs.replace(listed[CSMS_ROOT], serial_number="1")
    assert store.delete(unknown).status == "NotFound"  # M04.FR.04
    assert store.delete(listed[CSMS_ROOT]).status == "Failed"  # M04.FR.03 note; 1.6 M04.FR.06
    maker = certificate_hash_data(manufacturer.root_pem)
    assert store.delete(
        msgspec.structs.replace(maker, issuer_name_hash=maker.issuer_name_hash.lower())
    ).accepted
    assert [c.hash_data for c in store.installed(["ManufacturerRootCertificate"])] == [sub_hash]
    sha512 = certificate_hash_data(root.root_pem, algorithm="SHA512")
    assert (
        CertificateStore(tmp_path, keep_last_csms_root=False).delete(sha512).accepted
    )  # M04.FR.07: the request's algorithm
    assert store.installed([CSMS_ROOT]) == []


def test_the_store_keeps_everything_across_instances_and_refuses_to_delete_the_station_certificate(
    tmp_path: Path, root: CertificateAuthority
) -> None:
    store = CertificateStore(tmp_path)
    store.install(CSMS_ROOT, root.root_pem)
    made = new_key_and_csr("SN-1", "ACME")
    chain = root.sign(made.csr)
    store.set_certificate(chain, made.private_key)
    store.save_pending("ChargingStationCertificate", b"key", "csr", 7)
    again = CertificateStore(tmp_path)
    assert again.installed() == store.installed() and again.chain_pem() == chain
    assert again.pending("ChargingStationCertificate") == (b"key", "csr", 7)
    chain_files = again.certificate_chain()
    assert (
        chain_files is not None and Path(chain_files.keyfile or "").stat().st_mode & 0o777 == 0o600
    )  # A02.FR.05
    own = certificate_hash_data(chain, root.root_pem)
    result = again.delete(own)
    assert (result.status, result.detail) == (
        "Failed",
        "the Charging Station Certificate cannot be deleted (M04.FR.06)",
    )


def test_additional_root_certificate_check(tmp_path: Path) -> None:
    """M05.FR.09-13 (1.6 M05.FR.08-12): one CSMS root plus a fallback; the new root must be signed by the old."""
    old = CertificateAuthority.create("CSMS Root 1", "ACME")
    store = CertificateStore(tmp_path, additional_root_check=True)
    assert store.install(CSMS_ROOT, old.root_pem).accepted
    unrelated = CertificateAuthority.create("CSMS Root 2", "ACME")
    assert (
        store.install(CSMS_ROOT, unrelated.root_pem).detail
        == "the new CSMS root is not signed by the old one (M05.FR.11)"
    )
    new_key = ec.generate_private_key(ec.SECP256R1())
    cross, _ = build(
        ca_key(old),
        ca_cert(old).subject,
        subject=name("CSMS Root 2"),
        key=new_key,
        ca=True,
        extensions=[(x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)],
    )
    assert store.install(CSMS_ROOT, pem(cross)).accepted  # M05.FR.12
    roots = store.installed([CSMS_ROOT])
    assert (
        sorted(r.fallback for r in roots) == [False, True] and store.trusted_pem().count("BEGIN") == 2
    )  # M05.FR.14
    assert store.drop_fallback_root()  # M05.FR.13, once connected with the new root
    (remaining,) = store.installed([CSMS_ROOT])
    assert remaining.hash_data == certificate_hash_data(
        pem(cross), old.root_pem
    )  # still nameable without the old root


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_the_store_answers_each_versions_messages(
    tmp_path: Path, root: CertificateAuthority, version: str
) -> None:
    store = CertificateStore(tmp_path)
    v2g = CertificateAuthority.create("V2G Root", "V2G")
    v2g_sub = CertificateAuthority.create("V2G Sub", "V2G", issuer=v2g)
    if version == "1.6":
        r: ModuleType = r16
        install = m16.InstallCertificateRequest(
            certificate_type=e16.CertificateUseEnumType.CentralSystemRootCertificate,
            certificate=root.root_pem,
        )
        assert store.answer_install(r16.INSTALL_CERTIFICATE, install) == m16.InstallCertificateResponse(
            status=e16.InstallCertificateStatusEnumType.Accepted
        )
        bad = store.answer_install(r16.INSTALL_CERTIFICATE, msgspec.structs.replace(install, certificate="x"))
        assert bad == m16.InstallCertificateResponse(
            status=e16.InstallCertificateStatusEnumType.Rejected
        )  # no statusInfo in 1.6
        listed = store.answer_get_installed_ids(
            r16.GET_INSTALLED_CERTIFICATE_IDS,
            m16.GetInstalledCertificateIdsRequest(
                certificate_type=e16.CertificateUseEnumType.CentralSystemRootCertificate
            ),
        )
        assert listed.status is e16.GetInstalledCertificateStatusEnumType.Accepted
        assert isinstance(listed.certificate_hash_data, list)
        assert CertificateHashData.of(listed.certificate_hash_data[0]) == certificate_hash_data(root.root_pem)
        none = store.answer_get_installed_ids(
            r16.GET_INSTALLED_CERTIFICATE_IDS,
            m16.GetInstalledCertificateIdsRequest(
                certificate_type=e16.CertificateUseEnumType.ManufacturerRootCertificate
            ),
        )
        assert none.status is e16.GetInstalledCertificateStatusEnumType.NotFound  # M03.FR.02
        delete = m16.DeleteCertificateRequest(certificate_hash_data=listed.certificate_hash_data[0])
        assert (
            store.answer_delete(r16.DELETE_CERTIFICATE, delete).status
            is e16.DeleteCertificateStatusEnumType.Failed
        )  # the only root
        return
    m: Any = m201 if version == "2.0.1" else m21
    e: Any = e201 if version == "2.0.1" else e21
    r = r201 if version == "2.0.1" else r21
    ok = store.answer_install(
        r.INSTALL_CERTIFICATE,
        m.InstallCertificateRequest(
            certificate_type=e.InstallCertificateUseEnumType.CSMSRootCertificate, certificate=root.root_pem
        ),
    )
    assert ok.status is e.InstallCertificateStatusEnumType.Accepted
    store.install("V2GRootCertificate", v2g.root_pem)
    bad = store.answer_install(
        r.INSTALL_CERTIFICATE,
        m.InstallCertificateRequest(
            certificate_type=e.InstallCertificateUseEnumType.MORootCertificate, certificate="x"
        ),
    )
    assert (
        bad.status is e.InstallCertificateStatusEnumType.Rejected
        and bad.status_info.reason_code == "InvalidCertificate"
    )
    made = new_key_and_csr("SECC-1", "V2G")
    store.set_certificate(v2g_sub.sign(made.csr), made.private_key, "V2GCertificate")
    listed = store.answer_get_installed_ids(
        r.GET_INSTALLED_CERTIFICATE_IDS, m.GetInstalledCertificateIdsRequest()
    )
    kinds = [_kind.certificate_type.value for _kind in listed.certificate_hash_data_chain]
    assert kinds == [CSMS_ROOT, "V2GRootCertificate", "V2GCertificateChain"]
    chain_entry = listed.certificate_hash_data_chain[2]  # M03.FR.05: the sub-CA as a child
    assert CertificateHashData.of(chain_entry.child_certificate_hash_data[0]) == certificate_hash_data(
        pem(load(v2g_sub.certificate_pem)[0]), v2g.root_pem
    )
    only = store.answer_get_installed_ids(
        r.GET_INSTALLED_CERTIFICATE_IDS,
        m.GetInstalledCertificateIdsRequest(
            certificate_type=[e.GetCertificateIdUseEnumType.ManufacturerRootCertificate]
        ),
    )
    assert (
        only.status is e.GetInstalledCertificateStatusEnumType.NotFound
        and only.status_info.reason_code == "NotFound"
    )
    v2g_hash = listed.certificate_hash_data_chain[1].certificate_hash_data
    deleted = store.answer_delete(
        r.DELETE_CERTIFICATE, m.DeleteCertificateRequest(certificate_hash_data=v2g_hash)
    )
    assert deleted.status is e.DeleteCertificateStatusEnumType.Accepted
    again = store.answer_delete(
        r.DELETE_CERTIFICATE, m.DeleteCertificateRequest(certificate_hash_data=v2g_hash)
    )
    assert again.status is e.DeleteCertificateStatusEnumType.NotFound


# -- the retry timer of SignCertificate (A02.FR.17-20) --------------------------------------------------------


def test_signing_retry_doubles_the_wait_and_stops_after_the_repeat_times() -> None:
    retry = SigningRetry(wait_minimum=10, repeat_times=2)
    assert retry.next_deadline() is None
    retry.accepted(100.0)
    assert retry.next_deadline() == 110.0 and not retry.handle_timeout(109.9)
    assert (
        retry.handle_timeout(110.0) and retry.next_deadline() == 130.0
    )  # A02.FR.17, then 2 x 10 (A02.FR.18)
    assert retry.handle_timeout(130.0) and retry.next_deadline() == 170.0
    assert (
        not retry.handle_timeout(170.0) and retry.next_deadline() is None
    )  # A02.FR.19: until triggered again
    retry.accepted(200.0)  # a trigger and a new CSR start over
    assert retry.next_deadline() == 210.0
    retry.received()  # CertificateSigned came (or was rejected: A02.FR.20)
    assert retry.next_deadline() is None and not retry.handle_timeout(1e9)


# -- end to end: A02 over TLS with client certificates, M03-M05 through the CSMS ---------------------------------


V = {
    "1.6": (csms16, station16, m16, e16, r16),
    "2.0.1": (csms201, station201, m201, e201, r201),
    "2.1": (csms21, station21, m21, e21, r21),
}


class Rig:
    """A CSO root, a CSMS with a server certificate for 127.0.0.1 (profile 3), a station with a
    factory certificate (CN = serial number) and the CSMS root installed."""

    def __init__(
        self,
        tmp_path: Path,
        version: str,
        *,
        signer: Callable[[str], str] | None = None,
        registration: str = "Accepted",
        factory_validity: datetime.timedelta = datetime.timedelta(days=365),
        **renewal: Any,
    ) -> None:
        self.version = version
        self.root = CertificateAuthority.create("ACME CSO Root", "ACME")
        key = ec.generate_private_key(ec.SECP256R1())
        server_cert, _ = build(
            ca_key(self.root),
            ca_cert(self.root).subject,
            subject=name("127.0.0.1"),
            key=key,
            extensions=[
                (x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            ],
        )
        (tmp_path / "server.pem").write_text(pem(server_cert))
        (tmp_path / "server.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        (tmp_path / "root.pem").write_text(self.root.root_pem)
        self.server_ssl = server_context(
            3,
            version,
            ecdsa=CertChain(tmp_path / "server.pem", tmp_path / "server.key"),  # type: ignore[arg-type]
            station_ca=tmp_path / "root.pem",
        )
        self.store = CertificateStore(tmp_path / "station")
        assert self.store.install(CSMS_ROOT, self.root.root_pem).accepted
        factory = new_key_and_csr("SN-1", "ACME")
        maker = CertificateAuthority(self.root.certificate_pem, self.root.private_key_pem, validity=factory_validity)
        self.store.set_certificate(maker.sign(factory.csr), factory.private_key)
        self.registration = registration
        self.factory_chain = self.store.chain_pem()
        self.renewal = StationCertificates(self.store, serial_number="SN-1", organization="ACME", **renewal)
        self.issuer = CertificateIssuer(signer or self.root)
        self.serials: list[str] = []
        self.events: list[str] = []
        self.refuse: set[str] = set()
        self.sign_requests: list[Any] = []
        self.signed_requests: list[Any] = []
        csms_mod, station_mod, m, e, r = V[version]
        rig = self

        class Csms(csms_mod.CsmsHandler):  # type: ignore[misc, name-defined]
            async def on_boot_notification(self, request: Any, context: Any) -> Any:
                enum = e.RegistrationStatus if version == "1.6" else e.RegistrationStatusEnumType
                return m.BootNotificationResponse(current_time=NOW, interval=300, status=enum(rig.registration))

            async def on_sign_certificate(self, request: Any, context: Any) -> Any:
                rig.sign_requests.append(request)
                return rig.issuer.answer(r.SIGN_CERTIFICATE, request, context)

            async def on_security_event_notification(self, request: Any, context: Any) -> Any:
                rig.events.append(request.type)
                return m.SecurityEventNotificationResponse()

        class Station(station_mod.StationHandler):  # type: ignore[misc, name-defined]
            async def on_certificate_signed(self, request: Any, context: Any) -> Any:
                rig.signed_requests.append(request)
                return rig.renewal.answer_certificate_signed(r.CERTIFICATE_SIGNED, request, context)

            async def on_install_certificate(self, request: Any, context: Any) -> Any:
                return rig.store.answer_install(r.INSTALL_CERTIFICATE, request)

            async def on_get_installed_certificate_ids(self, request: Any, context: Any) -> Any:
                return rig.store.answer_get_installed_ids(r.GET_INSTALLED_CERTIFICATE_IDS, request)

            async def on_delete_certificate(self, request: Any, context: Any) -> Any:
                return rig.store.answer_delete(r.DELETE_CERTIFICATE, request)

        async def trigger(self: Any, request: Any, context: Any) -> Any:
            if rig.renewal.on_trigger(request, context):  # A02.FR.02: the CSR follows this answer
                status = e.TriggerMessageStatusEnumType.Accepted
            else:
                status = e.TriggerMessageStatusEnumType.Rejected
            response = m.ExtendedTriggerMessageResponse if version == "1.6" else m.TriggerMessageResponse
            return response(status=status)

        setattr(Station, "on_extended_trigger_message" if version == "1.6" else "on_trigger_message", trigger)
        checker = CertificateAuthenticator()

        async def authenticate(credentials: Credentials) -> bool | int:
            serial = format(int(str((credentials.certificate or {}).get("serialNumber", "0")), 16), "X")
            if serial in self.refuse:
                return 403
            self.serials.append(serial)
            return await checker(credentials)

        self.csms = server((csms_mod.BINDING, Csms()), authenticator=authenticate)
        self.station_binding = station_mod.BINDING
        self.station_handler = Station()
        self.m, self.e = m, e

    def boot(self) -> Any:
        if self.version == "1.6":
            return m16.BootNotificationRequest(
                charge_point_model="M", charge_point_vendor="V", charge_point_serial_number="SN-1"
            )
        datatypes = d201 if self.version == "2.0.1" else d21
        station_type = datatypes.ChargingStationType(
            model="M", vendor_name="V", serial_number="SN-1"
        )  # B01.FR.11: the CN
        return self.m.BootNotificationRequest(
            reason=self.e.BootReasonEnumType.PowerUp, charging_station=station_type
        )

    async def run(self, body: Callable[[Any, Any], Any]) -> None:
        async with self.csms.serve("127.0.0.1", 0, ssl=self.server_ssl) as listening:
            port = next(iter(listening.sockets)).getsockname()[1]
            client = station(
                f"wss://127.0.0.1:{port}/ocpp/CS-1",
                self.station_binding,
                self.station_handler,
                ssl=self.renewal.tls_context(self.version),
            )  # type: ignore[arg-type]
            self.renewal.attach(client)
            async with client.running():
                await client.connected(timeout=5)
                boot = await client.csms.boot_notification(self.boot())
                assert boot.status.value == self.registration
                session = await self.csms.registry.wait_for("CS-1", timeout=5)
                await body(client, session)


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_renewal_end_to_end_switches_the_station_to_its_new_certificate(tmp_path: Path, version: str) -> None:
    """A02: trigger, new key and CSR, SignCertificate Accepted, CertificateSigned with the chain,
    checks, Accepted, reconnect with the new certificate, the old one discarded (A02.FR.10)."""
    rig = Rig(tmp_path, version)

    async def body(client: Any, session: Any) -> None:
        first = client.current
        assert await trigger_renewal(session)
        await eventually(
            lambda: [r.status for r in rig.issuer.results] == ["Accepted"], what="CertificateSigned Accepted"
        )
        await eventually(
            lambda: client.current not in (None, first) and rig.store.chain_pem() != rig.factory_chain,
            timeout=10,
            what="a reconnect with the new certificate",
        )
        new_chain = rig.store.chain_pem()
        assert new_chain == rig.issuer.results[0].chain
        leaf = load(new_chain or "")[0]
        assert len(set(rig.serials)) == 2 and rig.serials[-1] == format(
            leaf.serial_number, "X"
        )  # the CSMS saw the new one
        assert leaf.subject == name("SN-1") and rig.store.pending("ChargingStationCertificate") is None
        assert (
            len(list((tmp_path / "station" / "own" / "ChargingStationCertificate").glob("*.pem"))) == 1
        )  # A02.FR.10
        assert client.registered  # the same session: no new boot
        (sign,), (signed,) = rig.sign_requests, rig.signed_requests
        if version == "1.6":
            assert not hasattr(sign, "certificate_type") and not hasattr(signed, "certificate_type")
        else:  # A02.FR.13: the type; A02.FR.14: echoed
            assert sign.certificate_type.value == signed.certificate_type.value == "ChargingStationCertificate"
        if version == "2.1":  # A02.FR.24/25: a requestId, echoed
            assert isinstance(sign.request_id, int) and signed.request_id == sign.request_id
        assert read_csr(sign.csr).common_name == "SN-1" and "PRIVATE" not in sign.csr  # A02.FR.03/05
        # M03 through the CSMS, in every version
        (entry,) = await installed_certificates(session)
        assert entry.use == CSMS_ROOT and entry.hash_data.matches(certificate_hash_data(rig.root.root_pem))
        # M05 through the CSMS: a second CSMS root, trusted at the next handshake
        routes = (r16 if version == "1.6" else r201 if version == "2.0.1" else r21)
        second = CertificateAuthority.create("ACME CSO Root 2", "ACME")
        kind = "CentralSystemRootCertificate" if version == "1.6" else CSMS_ROOT
        install = routes.INSTALL_CERTIFICATE.request_codec.decode(
            msgspec.json.encode({"certificateType": kind, "certificate": second.root_pem})
        )
        assert (await session.call(routes.INSTALL_CERTIFICATE, install, 5)).status.value == "Accepted"
        assert len(rig.renewal.context.inner.get_ca_certs()) == 2
        assert len(await installed_certificates(session)) == 2
        # M04: the station's own certificate and the only CSMS root stay; the second root goes
        delete = routes.DELETE_CERTIFICATE.request_codec.decode(
            msgspec.json.encode({"certificateHashData": msgspec.to_builtins(certificate_hash_data(second.root_pem))})
        )
        assert (await session.call(routes.DELETE_CERTIFICATE, delete, 5)).status.value == "Accepted"
        assert len(rig.renewal.context.inner.get_ca_certs()) == 1
        route = (r16 if version == "1.6" else r201 if version == "2.0.1" else r21).DELETE_CERTIFICATE
        own = certificate_hash_data(leaf.public_bytes(serialization.Encoding.DER), rig.root.root_pem)
        for target in (own, entry.hash_data):
            request = route.request_codec.decode(
                msgspec.json.encode({"certificateHashData": msgspec.to_builtins(target)})
            )
            assert (await session.call(route, request, 5)).status.value == "Failed"

    asyncio.run(asyncio.wait_for(rig.run(body), 30))


def test_a_chain_from_another_ca_is_rejected_and_reported(tmp_path: Path) -> None:
    """A02.FR.07: Rejected, discarded, InvalidChargingStationCertificate; the station keeps its certificate."""
    rogue = CertificateAuthority.create("Rogue Root", "ACME")
    rig = Rig(tmp_path, "2.0.1", signer=rogue)

    async def body(client: Any, session: Any) -> None:
        first = client.current
        assert await trigger_renewal(session)
        await eventually(
            lambda: [r.status for r in rig.issuer.results] == ["Rejected"], what="CertificateSigned Rejected"
        )
        await eventually(
            lambda: rig.events == ["InvalidChargingStationCertificate"], what="the security event"
        )
        assert client.current is first and rig.store.chain_pem() == rig.factory_chain
        assert rig.store.certificate_chain(candidate=True) is None
        assert "trusted root" in (rig.issuer.results[0].detail or "")

    asyncio.run(asyncio.wait_for(rig.run(body), 30))


def test_a_new_certificate_that_cannot_connect_is_discarded_and_the_old_one_used(tmp_path: Path) -> None:
    """A02.FR.28/29: back to the old certificate, DiscardedRenewedClientCertificate reported."""
    rig = Rig(tmp_path, "2.1", confirm_timeout=1.0)
    old_serial = format(load(rig.factory_chain or "")[0].serial_number, "X")

    def refuse_new(result: IssueResult) -> None:
        rig.refuse.add(format(load(result.chain or "")[0].serial_number, "X"))

    rig.issuer.on_result = refuse_new

    async def body(client: Any, session: Any) -> None:
        assert await trigger_renewal(session)
        await eventually(
            lambda: "DiscardedRenewedClientCertificate" in rig.events, timeout=10, what="the fallback"
        )
        assert rig.store.chain_pem() == rig.factory_chain and rig.serials[-1] == old_serial
        assert rig.store.certificate_chain(candidate=True) is None

    asyncio.run(asyncio.wait_for(rig.run(body), 30))


def test_2_1_an_unknown_request_id_is_rejected_and_the_csr_is_sent_again_after_the_wait(
    tmp_path: Path,
) -> None:
    """2.1 A02.FR.26 (unknown requestId: Rejected) and A02.FR.17 (no certificate within
    CertSigningWaitMinimum: the same CSR again)."""
    signed: list[str] = []

    def slow_signer(csr: str) -> str:
        signed.append(csr)
        raise RuntimeError("the CA is offline")  # the station never hears of it (A02 error handling)

    rig = Rig(tmp_path, "2.1", signer=slow_signer, wait_minimum=0.3, repeat_times=1)

    async def body(client: Any, session: Any) -> None:
        assert await trigger_renewal(session)
        await eventually(lambda: len(signed) == 2, timeout=5, what="the CSR sent again")
        assert signed[0] == signed[1]  # the same CSR (A02.FR.17)
        await asyncio.sleep(0.8)
        assert len(signed) == 2  # CertSigningRepeatTimes = 1 (A02.FR.19)
        chain = rig.root.sign(signed[0])
        unknown = m21.CertificateSignedRequest(certificate_chain=chain, request_id=12345)
        to_station = rig.csms.registry.client("CS-1", csms21.BINDING)
        answer = await to_station.certificate_signed(unknown)
        assert (
            answer.status is e21.CertificateSignedStatusEnumType.Rejected
            and answer.status_info.reason_code == "InvalidValue"
        )
        assert [r.status for r in rig.issuer.results] == ["SigningFailed", "SigningFailed"]

    asyncio.run(asyncio.wait_for(rig.run(body), 30))


def test_a03_the_station_renews_a_certificate_that_expires_within_a_month(tmp_path: Path) -> None:
    """A03.FR.02/03: the station starts it; SignCertificate is not triggered by the CSMS."""
    rig = Rig(tmp_path, "2.0.1", factory_validity=datetime.timedelta(days=20))

    async def body(client: Any, session: Any) -> None:
        assert rig.renewal.due_for_renewal()
        assert await rig.renewal.request_certificate(client.session)
        await eventually(lambda: rig.store.chain_pem() != rig.factory_chain, timeout=10, what="the new certificate in use")
        assert not rig.renewal.due_for_renewal()  # a year now

    asyncio.run(asyncio.wait_for(rig.run(body), 30))


def test_a_pending_station_renews_its_certificate_before_it_is_accepted(tmp_path: Path) -> None:
    """A00.FR.429/807 (2.x), A00.FR.806 (1.6 whitepaper): the CSMS keeps the station Pending and
    renews its certificate first; the triggered SignCertificate passes the registration gate."""
    rig = Rig(tmp_path, "1.6", registration="Pending")

    async def body(client: Any, session: Any) -> None:
        assert not client.registered
        assert await trigger_renewal(session)
        await eventually(lambda: rig.store.chain_pem() != rig.factory_chain, timeout=10, what="the new certificate in use")
        assert [r.status for r in rig.issuer.results] == ["Accepted"] and rig.serials[-1] != rig.serials[0]

    asyncio.run(asyncio.wait_for(rig.run(body), 30))


def test_a_store_that_cannot_write_answers_failed(tmp_path: Path, root: CertificateAuthority, monkeypatch: pytest.MonkeyPatch) -> None:
    """M05.FR.03 (1.6 M05.FR.04) and M04.FR.03: Failed when installing or deleting fails."""
    import errno

    from ocppgen.generated.runtime import certificate_management

    store = CertificateStore(tmp_path)
    other = CertificateAuthority.create("Maker Root", "Maker")
    assert store.install("ManufacturerRootCertificate", other.root_pem).accepted

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(certificate_management, "_write", full)
    result = store.install(CSMS_ROOT, root.root_pem)
    assert (result.status, result.reason_code) == ("Failed", "OutOfStorage")
    monkeypatch.setattr(Path, "unlink", lambda self, missing_ok=False: full())
    assert store.delete(certificate_hash_data(other.root_pem)).status == "Failed"
