"""X.509 for OCPP's certificate life cycle: keys, CSRs, a small CA, chain checks, hash data.

Pure functions over PEM/DER (no I/O, no clock: the caller passes ``now``). What each piece is
for, with the requirement ids of 2.0.1 and 2.1 Part 2 (the 1.6 security whitepaper numbers
these alike unless noted):

==============================  ===============================================================
:func:`generate_private_key`    the station's new key pair (A02.FR.02, A03.FR.02): EC P-256 by
                                default, P-384, or RSA of 2048 bits and more (A00.FR.501-503)
:func:`build_csr`               the PKCS#10 request (RFC 2986), PEM, signed with SHA-256:
                                subject CN = the station's serial number, O = the CSO's name
                                (A00.FR.509/511, A02.FR.03; 1.6 A02.FR.13: O = CpoName)
:func:`read_csr`                what a CSMS checks before it answers SignCertificate
:class:`CertificateAuthority`   signs such a CSR into a PEM chain (tests, small deployments;
                                A02.FR.04: a CSMS SHOULD forward to a CA, so the signer of the
                                flows is any ``csr -> chain`` callable, see ``renewal``)
:func:`validate_chain`          what a station checks in CertificateSigned (A02.FR.06/16)
:func:`certificate_hash_data`   CertificateHashDataType as the spec defines it (RFC 6960
                                CertID): hashes of the issuer's DER name and of the issuer's
                                public key, the serial number in hexadecimal
==============================  ===============================================================

Hash data is computed with the standard library only (a minimal DER walk); everything else
imports the ``cryptography`` package when first used (an optional dependency:
:class:`CertificatesUnavailable`, an ImportError, says so when it is missing).

Hex spelling (decision 0015): hash data is written in upper-case hexadecimal (the canonical
form of XML Schema hexBinary, which the 1.6 whitepaper names, and its serial number example
"FFF"); hash data read from a peer is compared without regard to case or to leading zeroes of
the serial number (1.6: CiString fields are case-insensitive).
"""

from __future__ import annotations

import binascii
import datetime
import hashlib
import ipaddress
import re
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import msgspec

from .errors import LocalError

__all__ = [
    "CertificateAuthority",
    "CertificateError",
    "CertificateHashData",
    "CertificatesUnavailable",
    "CsrInfo",
    "HashAlgorithm",
    "InvalidCertificate",
    "KeyAndCsr",
    "KeyType",
    "ValidatedChain",
    "build_csr",
    "certificate_hash_data",
    "der_certificates",
    "generate_private_key",
    "new_key_and_csr",
    "read_csr",
    "to_pem",
    "validate_chain",
]

KeyType: TypeAlias = Literal["ec", "rsa"]
"""The key types OCPP certificates use: elliptic curve (ECDSA suites) or RSA (TLS_RSA suites)."""

HashAlgorithm: TypeAlias = Literal["SHA256", "SHA384", "SHA512"]
"""HashAlgorithmEnumType: the hashes of CertificateHashDataType."""

_HASHES: dict[str, Callable[[bytes], Any]] = {"SHA256": hashlib.sha256, "SHA384": hashlib.sha384, "SHA512": hashlib.sha512}
_MISSING = "certificate management needs the 'cryptography' package: pip install cryptography"


class CertificateError(LocalError, ValueError):
    """A key, CSR or certificate given to these functions is unusable (not PEM, weak, ...)."""


class InvalidCertificate(CertificateError):
    """A certificate (chain) failed a check the specification requires; ``reason`` says
    which, with the requirement id. A station answers it with Rejected."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class CertificatesUnavailable(LocalError, ImportError):
    """Keys, CSRs, signing and chain checks need the ``cryptography`` package, which is missing."""


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


# -- PEM and DER -----------------------------------------------------------------------------

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\s]*)-----END \1-----")


def der_certificates(pem: str | bytes) -> list[bytes]:
    """The DER of every certificate in the PEM text ``pem``, in order (A00.FR.507: PEM).

    :raises CertificateError: a block that is not base64, or a block of another kind (a
        private key has no place where certificates are expected).
    """
    text = pem.decode("ascii", "replace") if isinstance(pem, bytes) else pem
    found: list[bytes] = []
    for match in _PEM_BLOCK.finditer(text):
        if match.group(1) != "CERTIFICATE":
            raise CertificateError(f"a PEM block of type {match.group(1)!r} where certificates are expected")
        try:
            found.append(binascii.a2b_base64("".join(match.group(2).split())))
        except binascii.Error as exc:
            raise CertificateError(f"a PEM certificate block is not base64: {exc}") from None
    return found


def to_pem(der: bytes) -> str:
    """One certificate, given as ``der``, as PEM text (64-column base64, LF line ends)."""
    return ssl.DER_cert_to_PEM_cert(der).replace("\r\n", "\n")


def _one_der(certificate: str | bytes) -> bytes:
    if isinstance(certificate, bytes) and not certificate.lstrip().startswith(b"-----"):
        return certificate
    ders = der_certificates(certificate)
    if not ders:
        raise CertificateError("no PEM certificate found")
    return ders[0]


# -- certificate hash data (standard library only) -------------------------------------------


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """The DER element at ``pos``: its tag, and where its value starts and ends."""
    try:
        tag, length = data[pos], data[pos + 1]
        pos += 2
        if length & 0x80:
            count = length & 0x7F
            if not 0 < count <= 4:
                raise CertificateError("a DER length this module does not read")
            length = int.from_bytes(data[pos : pos + count], "big")
            pos += count
    except IndexError:
        raise CertificateError("truncated DER") from None
    if pos + length > len(data):
        raise CertificateError("truncated DER")
    return tag, pos, pos + length


@dataclass(frozen=True)
class _Fields:
    """What hash data needs of one certificate (RFC 5280 section 4.1 TBSCertificate)."""

    serial: int
    issuer: bytes  # the issuer Name, whole DER element
    subject: bytes  # the subject Name, whole DER element
    key: bytes  # subjectPublicKey: the BIT STRING's bits, without its unused-bits octet


def _fields(der: bytes) -> _Fields:
    tag, start, _ = _tlv(der, 0)  # Certificate ::= SEQUENCE
    tbs_tag, pos, _ = _tlv(der, start)  # tbsCertificate ::= SEQUENCE
    if tag != 0x30 or tbs_tag != 0x30:
        raise CertificateError("not a DER X.509 certificate")
    tag, value, end = _tlv(der, pos)
    if tag == 0xA0:  # [0] EXPLICIT version
        pos = end
        tag, value, end = _tlv(der, pos)
    if tag != 0x02:
        raise CertificateError("not a DER X.509 certificate (no serialNumber)")
    raw = der[value:end]
    serial = int.from_bytes(raw, "big", signed=True)
    pos = _tlv(der, end)[2]  # signature AlgorithmIdentifier
    issuer_end = _tlv(der, pos)[2]
    issuer = der[pos:issuer_end]
    pos = _tlv(der, issuer_end)[2]  # validity
    subject_end = _tlv(der, pos)[2]
    subject = der[pos:subject_end]
    tag, spki, _ = _tlv(der, subject_end)  # SubjectPublicKeyInfo ::= SEQUENCE
    algorithm_end = _tlv(der, spki)[2]
    tag, bits, bits_end = _tlv(der, algorithm_end)
    if tag != 0x03 or bits_end == bits:
        raise CertificateError("not a DER X.509 certificate (no subjectPublicKey)")
    if serial < 0:  # not allowed by RFC 5280; keep its bytes rather than invent a sign
        serial = int.from_bytes(raw, "big")
    return _Fields(serial, issuer, subject, der[bits + 1 : bits_end])


def _hex_serial(serial: int) -> str:
    return format(serial, "X")


class CertificateHashData(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """CertificateHashDataType (2.x Part 2 section 2.6; 1.6 whitepaper section 6.1): which
    certificate, as an OCSP CertID (RFC 6960 section 4.1.1) names it.

    ``hash_algorithm``: ``SHA256``, ``SHA384`` or ``SHA512``. ``issuer_name_hash``: hash of the DER issuer Name of the certificate; ``issuer_key_hash``:
    hash of the issuer's public key (the value of its subjectPublicKey BIT STRING, without tag,
    length and unused-bits octet); ``serial_number``: hexadecimal, no "0x", no leading zeroes.
    On the wire (``msgspec.to_builtins``) the names are camelCase, as in the schemas.
    """

    hash_algorithm: str
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str

    @classmethod
    def of(cls, message: object) -> CertificateHashData:
        """The hash data of a decoded message field (any version's CertificateHashDataType)."""
        algorithm = getattr(message, "hash_algorithm")
        return cls(
            hash_algorithm=str(getattr(algorithm, "value", algorithm)),
            issuer_name_hash=str(getattr(message, "issuer_name_hash")),
            issuer_key_hash=str(getattr(message, "issuer_key_hash")),
            serial_number=str(getattr(message, "serial_number")),
        )

    def matches(self, other: CertificateHashData) -> bool:
        """Whether this and ``other`` name the same certificate: same algorithm, hashes equal regardless of
        case, serial numbers equal as numbers (case and leading zeroes do not matter)."""
        if self.hash_algorithm.upper() != other.hash_algorithm.upper():
            return False
        try:
            serials_equal = int(self.serial_number, 16) == int(other.serial_number, 16)
        except ValueError:
            serials_equal = self.serial_number.casefold() == other.serial_number.casefold()
        return (
            serials_equal
            and self.issuer_name_hash.casefold() == other.issuer_name_hash.casefold()
            and self.issuer_key_hash.casefold() == other.issuer_key_hash.casefold()
        )


def certificate_hash_data(
    certificate: str | bytes, issuer: str | bytes | None = None, algorithm: str = "SHA256"
) -> CertificateHashData:
    """The CertificateHashDataType of ``certificate`` (M03.FR.04, M04; 1.6 whitepaper 6.1).

    :param certificate: PEM (the first certificate) or DER.
    :param issuer: the certificate of its issuer (PEM or DER), whose public key is hashed;
        None for a self-issued certificate (a root), which is its own issuer.
    :param algorithm: "SHA256" (A00.FR.506: SHOULD), "SHA384" or "SHA512".
    :raises CertificateError: not a certificate, an unknown algorithm, no issuer given for a
        certificate that is not self-issued, or an issuer whose subject is not its issuer name.
    """
    digest = _HASHES.get(algorithm.upper())
    if digest is None:
        raise CertificateError(f"hash algorithm {algorithm!r} is not one of SHA256, SHA384, SHA512")
    fields = _fields(_one_der(certificate))
    if issuer is None:
        if fields.issuer != fields.subject:
            raise CertificateError("the certificate is not self-issued: its issuer's certificate is needed")
        issuer_fields = fields
    else:
        issuer_fields = _fields(_one_der(issuer))
        if issuer_fields.subject != fields.issuer:
            raise CertificateError("the given issuer's subject is not the certificate's issuer name")
    return CertificateHashData(
        hash_algorithm=algorithm.upper(),
        issuer_name_hash=digest(fields.issuer).hexdigest().upper(),
        issuer_key_hash=digest(issuer_fields.key).hexdigest().upper(),
        serial_number=_hex_serial(fields.serial),
    )


def _issuer_name(der: bytes) -> bytes:
    return _fields(der).issuer


def _subject_name(der: bytes) -> bytes:
    return _fields(der).subject


# -- keys and CSRs (cryptography) ---------------------------------------------------------------


def _need_cryptography() -> None:
    try:
        import cryptography  # type: ignore[import-not-found, unused-ignore]  # noqa: F401
    except ImportError:
        raise CertificatesUnavailable(_MISSING) from None


_CURVES = {256: "secp256r1", 384: "secp384r1"}


def generate_private_key(key_type: KeyType = "ec", *, size: int | None = None) -> bytes:
    """A new private key as unencrypted PKCS#8 PEM, from the operating system's CSPRNG
    (A02.FR.02 asks for a key generation function of NIST SP 800-57's kind).

    :param key_type: "ec" (default: NIST P-256, the curve of the ECDSA suites of A00.FR.318)
        or "rsa".
    :param size: EC: 256 (default) or 384; RSA: 2048 (default) or more.
    :raises CertificateError: a size below 112-bit security (A00.FR.501-503) or unknown.
    """
    _need_cryptography()
    from cryptography.hazmat.primitives import serialization  # type: ignore[import-not-found, unused-ignore]
    from cryptography.hazmat.primitives.asymmetric import ec, rsa  # type: ignore[import-not-found, unused-ignore]

    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if key_type == "ec":
        bits = 256 if size is None else size
        if bits not in _CURVES:
            raise CertificateError(f"EC keys are P-256 or P-384 here, not {bits} bits")
        key = ec.generate_private_key(ec.SECP256R1() if bits == 256 else ec.SECP384R1())
    elif key_type == "rsa":
        bits = 2048 if size is None else size
        if bits < 2048:
            raise CertificateError(f"an RSA key needs 2048 bits or more (A00.FR.502), not {bits}")
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    else:
        raise CertificateError(f"key type {key_type!r} is neither 'ec' nor 'rsa'")
    pem: bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem


def _load_key(private_key: bytes, password: bytes | None = None) -> Any:
    from cryptography.hazmat.primitives import serialization  # type: ignore[import-not-found, unused-ignore]

    try:
        if private_key.lstrip().startswith(b"-----"):
            return serialization.load_pem_private_key(private_key, password)
        return serialization.load_der_private_key(private_key, password)
    except (ValueError, TypeError) as exc:
        raise CertificateError(f"cannot load the private key: {exc}") from None


def _key_problem(public_key: Any) -> str | None:
    """Why a public key is too weak or of a kind OCPP does not use (A00.FR.501-503), or None."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa  # type: ignore[import-not-found, unused-ignore]

    if isinstance(public_key, rsa.RSAPublicKey):
        return None if public_key.key_size >= 2048 else f"an RSA key of {public_key.key_size} bits (A00.FR.502: 2048 or more)"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return None if public_key.key_size >= 224 else f"an EC key of {public_key.key_size} bits (A00.FR.503: 224 or more)"
    return f"a {type(public_key).__name__} key: OCPP certificates use RSA or EC keys (A00.FR.318/319)"


def _hash_for(public_key: Any) -> Any:
    from cryptography.hazmat.primitives import hashes  # type: ignore[import-not-found, unused-ignore]
    from cryptography.hazmat.primitives.asymmetric import ec  # type: ignore[import-not-found, unused-ignore]

    if isinstance(public_key, ec.EllipticCurvePublicKey) and public_key.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()  # A00.FR.506


def _check_common_name(common_name: str) -> None:
    """A00.FR.511: a station's CN is its serial number, never a URL or an IP address."""
    if not common_name:
        raise CertificateError("the CN (the station's serial number) is empty (A00.FR.511)")
    try:
        ipaddress.ip_address(common_name)
    except ValueError:
        pass
    else:
        raise CertificateError(f"CN {common_name!r} is an IP address; a station's CN is its serial number (A00.FR.511)")
    if "://" in common_name:
        raise CertificateError(f"CN {common_name!r} is a URL; a station's CN is its serial number (A00.FR.511)")


def build_csr(private_key: bytes, *, common_name: str, organization: str, password: bytes | None = None) -> str:
    """A PKCS#10 certificate signing request (RFC 2986), PEM encoded (A02.FR.03), signed
    with the key (proof of possession) and SHA-256 (SHA-384 for a P-384 key).

    :param private_key: the station's new private key (PEM or DER); it stays on the station
        (A02.FR.05): only its public half is in the CSR.
    :param common_name: the station's serial number (A00.FR.511, 2.x A02.FR.03 via
        Certificate Properties; the BootNotification's serialNumber, B01.FR.11).
    :param organization: the CSO's name: 2.x SecurityCtrlr.OrganizationName (A03
        prerequisite), 1.6 CpoName (whitepaper A02.FR.13/A03.FR.13). A00.FR.509.
    :param password: the private key's password, if it is encrypted.
    :raises CertificateError: an empty organization, a CN that is a URL or IP address, a weak key.
    """
    _need_cryptography()
    from cryptography import x509  # type: ignore[import-not-found, unused-ignore]
    from cryptography.hazmat.primitives import serialization  # type: ignore[import-not-found, unused-ignore]
    from cryptography.x509.oid import NameOID  # type: ignore[import-not-found, unused-ignore]

    _check_common_name(common_name)
    if not organization:
        raise CertificateError("the O (organizationName) is empty: the CSO's name is required (A00.FR.509)")
    key = _load_key(private_key, password)
    problem = _key_problem(key.public_key())
    if problem is not None:
        raise CertificateError(problem)
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, common_name), x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)]
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, _hash_for(key.public_key()))
    pem: bytes = csr.public_bytes(serialization.Encoding.PEM)
    return pem.decode("ascii")


@dataclass(frozen=True)
class KeyAndCsr:
    """A new key pair's ``private_key`` (PEM; keep it on the station, A02.FR.05) and its ``csr``
    (PEM)."""

    private_key: bytes = field(repr=False)
    csr: str


def new_key_and_csr(
    serial_number: str, organization: str, *, key_type: KeyType = "ec", size: int | None = None
) -> KeyAndCsr:
    """A new key and the CSR for it, as a station sends it in SignCertificate (A02.FR.02/03).

    :param serial_number: the station's serial number, the CSR's CN (A00.FR.511).
    :param organization: the CSO's name, the CSR's O (A00.FR.509; 1.6 A02.FR.13 CpoName).
    :param key_type: "ec" (P-256 by default) or "rsa" (2048 bits by default).
    :param size: see :func:`generate_private_key`.
    """
    key = generate_private_key(key_type, size=size)
    return KeyAndCsr(key, build_csr(key, common_name=serial_number, organization=organization))


@dataclass(frozen=True)
class CsrInfo:
    """What a CSR asks for: subject CN (``common_name``) and O (``organization``), the key
    (``key_type``, ``key_size`` in bits, ``public_key`` as SubjectPublicKeyInfo DER)."""

    common_name: str
    organization: str | None
    key_type: KeyType
    key_size: int
    public_key: bytes = field(repr=False)


def _name_value(name: Any, oid: Any) -> str | None:
    values = name.get_attributes_for_oid(oid)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else bytes(value).decode("utf-8", "replace")


_WEAK_HASHES = frozenset({"md5", "sha1", "sha224"})


def read_csr(csr: str | bytes) -> CsrInfo:
    """Parse and check ``csr`` (PEM) as a CSMS does before it accepts SignCertificate (A02.FR.11/12):
    PEM (A02.FR.03), a valid self-signature (proof of possession of the key), a key of 112-bit
    strength (A00.FR.501-503), a hash of SHA-256 strength (A00.FR.504/506), a CN that is
    neither a URL nor an IP address (A00.FR.511).

    :raises InvalidCertificate: the CSR fails one of these checks (``reason`` says which).
    """
    _need_cryptography()
    from cryptography import x509  # type: ignore[import-not-found, unused-ignore]
    from cryptography.hazmat.primitives import serialization  # type: ignore[import-not-found, unused-ignore]
    from cryptography.hazmat.primitives.asymmetric import ec, rsa  # type: ignore[import-not-found, unused-ignore]
    from cryptography.x509.oid import NameOID  # type: ignore[import-not-found, unused-ignore]

    data = csr.encode("ascii", "replace") if isinstance(csr, str) else csr
    if b"-----BEGIN CERTIFICATE REQUEST-----" not in data:
        raise InvalidCertificate("the CSR is not PEM encoded (A02.FR.03)")
    try:
        request = x509.load_pem_x509_csr(data)
        signature_ok = request.is_signature_valid
        public_key = request.public_key()
    except (ValueError, TypeError) as exc:
        raise InvalidCertificate(f"the CSR cannot be read: {exc}") from None
    if not signature_ok:
        raise InvalidCertificate("the CSR's signature does not verify with its own key (RFC 2986)")
    problem = _key_problem(public_key)
    if problem is not None or not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise InvalidCertificate(problem or "an unsupported key type")
    algorithm = request.signature_hash_algorithm
    if algorithm is None or algorithm.name in _WEAK_HASHES:
        raise InvalidCertificate("the CSR is signed with a weak or no hash (A00.FR.504/506)")
    common_name = _name_value(request.subject, NameOID.COMMON_NAME)
    if common_name is None:
        raise InvalidCertificate("the CSR has no CN (the station's serial number, A00.FR.511)")
    try:
        _check_common_name(common_name)
    except CertificateError as exc:
        raise InvalidCertificate(str(exc)) from None
    spki: bytes = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return CsrInfo(
        common_name=common_name,
        organization=_name_value(request.subject, NameOID.ORGANIZATION_NAME),
        key_type="ec" if isinstance(public_key, ec.EllipticCurvePublicKey) else "rsa",
        key_size=public_key.key_size,
        public_key=spki,
    )


# -- a small certificate authority -----------------------------------------------------------


class CertificateAuthority:
    """Signs station CSRs into certificate chains: for tests and small deployments (a CSMS
    SHOULD forward CSRs to a dedicated CA server, A02.FR.04; an instance is one ``csr ->
    chain`` signer among others, see ``renewal.CertificateIssuer``).

    The certificates it issues have what the specification asks for (A00.FR.5xx): a random
    positive 159-bit serial number (A00.FR.508), the CSR's subject (CN = serial number, O = CSO
    name, A00.FR.509/511), no subjectAltName (A00.FR.511 note), Key Usage limited to what a TLS
    client key does (A00.FR.512: digitalSignature, plus keyAgreement for EC or keyEncipherment
    for RSA, as ISO 15118-2 SECC certificates have), no Extended Key Usage (A00.FR.514),
    basicConstraints CA=false, key identifiers, a validity that starts ``backdate`` before now
    (A02.FR.06 note: clocks differ) and never outlives the CA's own. An RSA CA signs with
    RSA-PSS (A00.FR.505), an EC CA with ECDSA; the hash is SHA-256 (A00.FR.506; SHA-384 for a
    P-384 CA key).

    :param certificate: the CA certificate (PEM), optionally followed by its own issuers up to
        (not necessarily including) the root; the issued chain is the new certificate, then
        these certificates except a self-signed root (2.x CertificateSigned: the chain
        "SHALL also contain the necessary sub CA certificates").
    :param private_key: the CA's private key (PEM or DER).
    :param password: the private key's password, if encrypted.
    :param validity: lifetime of issued certificates.
    :param backdate: how long before now their validity starts.
    :param organization: when given, a CSR whose O differs is refused (the CSO's name).
    :param rsa_pss: an RSA CA signs with RSA-PSS (default, A00.FR.505) or PKCS#1 v1.5.
    :param clock: the current time (UTC, aware); injectable for tests.
    :raises CertificateError: the key is not the certificate's, or the certificate is no CA.
    """

    def __init__(
        self,
        certificate: str | bytes,
        private_key: bytes,
        *,
        password: bytes | None = None,
        validity: datetime.timedelta = datetime.timedelta(days=365),
        backdate: datetime.timedelta = datetime.timedelta(minutes=5),
        organization: str | None = None,
        rsa_pss: bool = True,
        clock: Callable[[], datetime.datetime] = _utcnow,
    ) -> None:
        _need_cryptography()
        from cryptography import x509  # type: ignore[import-not-found, unused-ignore]
        from cryptography.hazmat.primitives import serialization  # type: ignore[import-not-found, unused-ignore]

        chain = der_certificates(certificate) if not isinstance(certificate, bytes) or certificate.lstrip().startswith(b"-----") else [certificate]
        if not chain:
            raise CertificateError("no CA certificate given")
        self._certificate = x509.load_der_x509_certificate(chain[0])
        self._key = _load_key(private_key, password)
        spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        if self._key.public_key().public_bytes(*spki) != self._certificate.public_key().public_bytes(*spki):
            raise CertificateError("the private key is not the key of the CA certificate")
        if not _is_ca(self._certificate):
            raise CertificateError("the certificate is not a CA certificate (basicConstraints CA=true)")
        self._extra = [der for der in chain if _issuer_name(der) != _subject_name(der)]
        self.certificate_pem = "".join(to_pem(der) for der in chain)
        self.private_key_pem: bytes = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self.validity = validity
        self.backdate = backdate
        self.organization = organization
        self.rsa_pss = rsa_pss
        self._clock = clock

    def __repr__(self) -> str:
        return f"CertificateAuthority({self._certificate.subject.rfc4514_string()!r})"

    @property
    def root_pem(self) -> str:
        """The CA's own certificate (PEM): what a station installs as CSMSRootCertificate when
        this CA is the CSO's root."""
        return to_pem(self._certificate.public_bytes(_der_encoding()))

    @classmethod
    def create(
        cls,
        common_name: str,
        organization: str,
        *,
        key_type: KeyType = "ec",
        issuer: CertificateAuthority | None = None,
        validity: datetime.timedelta = datetime.timedelta(days=3650),
        clock: Callable[[], datetime.datetime] = _utcnow,
    ) -> CertificateAuthority:
        """A new CA: a self-signed root, or a sub-CA of ``issuer`` (whose chain it extends).
        Key Usage keyCertSign and cRLSign, basicConstraints CA=true (no path length limit for a
        root, 0 for a sub-CA: it issues station certificates only)."""
        _need_cryptography()
        from cryptography import x509  # type: ignore[import-not-found, unused-ignore]
        from cryptography.x509.oid import NameOID  # type: ignore[import-not-found, unused-ignore]

        key_pem = generate_private_key(key_type)
        key = _load_key(key_pem)
        now = clock()
        subject = x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, common_name), x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)]
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0 if issuer else None), critical=True)
            .add_extension(_key_usage(ca=True, ec_key=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if issuer is None:
            der = builder.issuer_name(subject).not_valid_after(now + validity).sign(key, _hash_for(key.public_key())).public_bytes(_der_encoding())
            return cls(to_pem(der), key_pem, clock=clock)
        end = min(now + validity, issuer._certificate.not_valid_after_utc)
        der = issuer._sign_builder(builder.issuer_name(issuer._certificate.subject).not_valid_after(end))
        return cls(to_pem(der) + issuer.certificate_pem, key_pem, clock=clock)

    def _sign_builder(self, builder: Any) -> bytes:
        from cryptography import x509  # type: ignore[import-not-found, unused-ignore]
        from cryptography.hazmat.primitives.asymmetric import padding, rsa  # type: ignore[import-not-found, unused-ignore]

        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False
        )
        hash_algorithm = _hash_for(self._key.public_key())
        if isinstance(self._key, rsa.RSAPrivateKey) and self.rsa_pss:
            pss = padding.PSS(mgf=padding.MGF1(hash_algorithm), salt_length=padding.PSS.DIGEST_LENGTH)
            certificate = builder.sign(self._key, hash_algorithm, rsa_padding=pss)
        else:
            certificate = builder.sign(self._key, hash_algorithm)
        der: bytes = certificate.public_bytes(_der_encoding())
        return der

    def sign(self, csr: str) -> str:
        """The PEM chain for ``csr``: the new certificate first, then the sub-CA certificates
        (A00.FR.507 PEM; the order of the chain of CertificateSignedRequest).

        :raises InvalidCertificate: the CSR fails :func:`read_csr`'s checks, has no O
            (A00.FR.509), or another O than ``organization``.
        """
        from cryptography import x509  # type: ignore[import-not-found, unused-ignore]
        from cryptography.hazmat.primitives.asymmetric import ec  # type: ignore[import-not-found, unused-ignore]

        info = read_csr(csr)
        if not info.organization:
            raise InvalidCertificate("the CSR has no O: the CSO's name is required (A00.FR.509)")
        if self.organization is not None and info.organization != self.organization:
            raise InvalidCertificate(f"the CSR's O {info.organization!r} is not {self.organization!r} (A00.FR.404/509)")
        request = x509.load_pem_x509_csr(csr.encode("ascii"))
        public_key = request.public_key()
        now = self._clock()
        start = now - self.backdate
        end = min(now + self.validity, self._certificate.not_valid_after_utc)
        if end <= start:
            raise CertificateError("the CA certificate has expired: it cannot issue certificates")
        builder = (
            x509.CertificateBuilder()
            .subject_name(request.subject)
            .issuer_name(self._certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(ca=False, ec_key=isinstance(public_key, ec.EllipticCurvePublicKey)), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        )
        leaf = self._sign_builder(builder)
        return to_pem(leaf) + "".join(to_pem(der) for der in self._extra)

    __call__ = sign


def _der_encoding() -> Any:
    from cryptography.hazmat.primitives import serialization  # type: ignore[import-not-found, unused-ignore]

    return serialization.Encoding.DER


def _key_usage(*, ca: bool, ec_key: bool) -> Any:
    from cryptography import x509  # type: ignore[import-not-found, unused-ignore]

    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=not ca and not ec_key,
        data_encipherment=False,
        key_agreement=not ca and ec_key,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _is_ca(certificate: Any) -> bool:
    from cryptography import x509  # type: ignore[import-not-found, unused-ignore]

    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        # an X.509 v1 self-signed root has no extensions; RFC 5280 6.1 accepts it as a trust anchor
        return bool(certificate.version == x509.Version.v1 and certificate.issuer == certificate.subject)
    return bool(constraints.ca)


# -- chain validation (what a station checks in CertificateSigned) -------------------------------


@dataclass(frozen=True)
class ValidatedChain:
    """A certificate chain that passed :func:`validate_chain`: ``chain_pem``, the PEM chain
    (leaf first); the leaf's subject CN (``common_name``) and validity (``not_before``,
    ``not_after``), its ``serial_number`` (hex), and its ``hash_data`` (SHA-256)."""

    chain_pem: str = field(repr=False)
    common_name: str
    not_before: datetime.datetime
    not_after: datetime.datetime
    serial_number: str
    hash_data: CertificateHashData


# Extensions whose criticality this module honours; any other critical extension fails the
# chain (RFC 5280 section 4.2: a certificate-using system MUST reject it).
_UNDERSTOOD_OIDS = frozenset(
    {
        "2.5.29.19",  # basicConstraints
        "2.5.29.15",  # keyUsage
        "2.5.29.37",  # extKeyUsage
        "2.5.29.17",  # subjectAltName
        "2.5.29.14",  # subjectKeyIdentifier
        "2.5.29.35",  # authorityKeyIdentifier
    }
)
_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"
_ANY_EKU = "2.5.29.37.0"


def validate_chain(
    chain: str,
    *,
    roots: Iterable[str | bytes],
    now: datetime.datetime,
    common_name: str | None = None,
    organization: str | None = None,
    public_key: bytes | None = None,
    max_size: int | None = None,
    allow_not_yet_valid: bool = False,
    max_depth: int = 6,
) -> ValidatedChain:
    """Check a CertificateSigned chain as a station must before it accepts it (2.x A02.FR.06,
    A03.FR.06; 1.6 whitepaper A02.FR.06): the validity period, the Certificate Properties
    (A00.FR.501-512) and that it belongs to the CSO hierarchy (a path to one of ``roots``).

    In order: the chain's size (``max_size``, MaxCertificateChainSize A02.FR.16; 1.6
    CertificateSignedMaxChainSize), PEM certificates only (A00.FR.507), the leaf's key is the
    station's (``public_key``: the key of the CSR it sent), the leaf's properties (no CA, a
    positive serial number A00.FR.508, CN = ``common_name`` A00.FR.511, an O and, when given,
    O = ``organization`` A00.FR.509, a key of 112-bit strength A00.FR.501-503, no SHA-1/MD5
    signature A00.FR.504, Key Usage with digitalSignature and any Extended Key Usage with
    clientAuth, or it cannot authenticate a TLS client), every certificate's validity at
    ``now`` (2.0.1 errata 2025-09 and 2.1 A02.FR.06: the current time within the validity
    period; ``allow_not_yet_valid`` accepts a future start, which 1.6 A02.FR.08 allows), and
    the path (RFC 5280 section 6.1, the parts a station needs): each certificate is signed by
    the next one, or by a trusted root whose subject is its issuer; issuers are CAs
    (basicConstraints CA=true, keyCertSign when Key Usage is present, path length honoured);
    no unknown critical extension.

    :param chain: the certificateChain field: PEM, leaf first, then sub-CA certificates.
    :param roots: the trusted roots (PEM or DER), e.g. the installed CSMSRootCertificates.
    :param now: the current time (aware).
    :param max_depth: the most certificates ``chain`` may hold.
    :raises InvalidCertificate: the first check that fails (``reason`` names it).
    """
    _need_cryptography()
    from cryptography import x509  # type: ignore[import-not-found, unused-ignore]
    from cryptography.hazmat.primitives import serialization  # type: ignore[import-not-found, unused-ignore]
    from cryptography.x509.oid import NameOID  # type: ignore[import-not-found, unused-ignore]

    if max_size is not None and len(chain) > max_size:
        raise InvalidCertificate(f"the chain has {len(chain)} characters, more than MaxCertificateChainSize {max_size} (A02.FR.16)")
    stripped = _PEM_BLOCK.sub("", chain)
    try:
        ders = der_certificates(chain)
    except CertificateError as exc:
        raise InvalidCertificate(f"{exc} (A00.FR.507)") from None
    if not ders or stripped.strip():
        raise InvalidCertificate("the chain is not PEM certificates only (A00.FR.507)")
    if len(ders) > max_depth:
        raise InvalidCertificate(f"the chain has {len(ders)} certificates, more than {max_depth}")
    try:
        certificates = [x509.load_der_x509_certificate(der) for der in ders]
        anchors = [x509.load_der_x509_certificate(_one_der(root)) for root in roots]
    except (ValueError, CertificateError) as exc:
        raise InvalidCertificate(f"a certificate cannot be read: {exc}") from None
    leaf = certificates[0]
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if public_key is not None and leaf.public_key().public_bytes(*spki) != public_key:
        raise InvalidCertificate("the certificate is not for the key of the station's CSR (A02.FR.05)")

    # the leaf's properties (Certificate Properties, A00.FR.501-514)
    if _is_ca(leaf):
        raise InvalidCertificate("the certificate is a CA certificate, not a station certificate")
    if leaf.serial_number <= 0:
        raise InvalidCertificate("the certificate has no positive serial number (A00.FR.508)")
    cn = _name_value(leaf.subject, NameOID.COMMON_NAME)
    if cn is None or (common_name is not None and cn != common_name):
        raise InvalidCertificate(f"the certificate's CN {cn!r} is not the serial number {common_name!r} (A00.FR.511)")
    o = _name_value(leaf.subject, NameOID.ORGANIZATION_NAME)
    if not o:
        raise InvalidCertificate("the certificate's subject has no O (organizationName, A00.FR.509)")
    if organization is not None and o != organization:
        raise InvalidCertificate(f"the certificate's O {o!r} is not the CSO's {organization!r} (A00.FR.509)")
    problem = _key_problem(leaf.public_key())
    if problem is not None:
        raise InvalidCertificate(problem)
    _check_leaf_usage(leaf)

    # validity and path
    for certificate in certificates:
        _check_time(certificate, now, allow_not_yet_valid and certificate is leaf)
        _check_critical(certificate)
        algorithm = certificate.signature_hash_algorithm
        if algorithm is not None and algorithm.name in _WEAK_HASHES:
            raise InvalidCertificate(f"a certificate is signed with {algorithm.name.upper()} (A00.FR.504)")
    if not anchors:
        raise InvalidCertificate("no trusted root certificate is installed to validate the chain (A02.FR.06)")
    for position, (child, parent) in enumerate(zip(certificates, certificates[1:])):
        _check_issued(child, parent, below=position)
    top = certificates[-1]
    top_der = ders[-1]
    if not any(anchor.public_bytes(_der_encoding()) == top_der for anchor in anchors):
        issuers = [anchor for anchor in anchors if anchor.subject == top.issuer]
        errors: list[str] = []
        for anchor in issuers:
            try:
                _check_time(anchor, now, False)
                _check_issued(top, anchor, below=len(certificates) - 1)
                break
            except InvalidCertificate as exc:
                errors.append(exc.reason)
        else:
            why = errors[0] if errors else "no trusted root is its issuer (A02.FR.06)"
            raise InvalidCertificate(f"the chain does not lead to a trusted root of the CSO hierarchy: {why}")
    issuer_der = ders[1] if len(ders) > 1 else _find_issuer(ders[0], anchors)
    return ValidatedChain(
        chain_pem="".join(to_pem(der) for der in ders),
        common_name=cn,
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        serial_number=_hex_serial(leaf.serial_number),
        hash_data=certificate_hash_data(ders[0], issuer_der),
    )


def _find_issuer(der: bytes, anchors: Sequence[Any]) -> bytes | None:
    issuer = _issuer_name(der)
    for anchor in anchors:
        anchor_der: bytes = anchor.public_bytes(_der_encoding())
        if _subject_name(anchor_der) == issuer:
            return anchor_der
    return None


def _check_time(certificate: Any, now: datetime.datetime, future_ok: bool) -> None:
    subject = certificate.subject.rfc4514_string()
    if now > certificate.not_valid_after_utc:
        raise InvalidCertificate(f"{subject} expired at {certificate.not_valid_after_utc.isoformat()} (A02.FR.06)")
    if now < certificate.not_valid_before_utc and not future_ok:
        raise InvalidCertificate(f"{subject} is not valid before {certificate.not_valid_before_utc.isoformat()} (A02.FR.06)")


def _check_critical(certificate: Any) -> None:
    for extension in certificate.extensions:
        if extension.critical and extension.oid.dotted_string not in _UNDERSTOOD_OIDS:
            raise InvalidCertificate(f"unknown critical extension {extension.oid.dotted_string} (RFC 5280 section 4.2)")


def _check_leaf_usage(leaf: Any) -> None:
    from cryptography import x509  # type: ignore[import-not-found, unused-ignore]

    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.digital_signature:
        raise InvalidCertificate("the certificate's Key Usage lacks digitalSignature: it cannot authenticate a TLS client (A00.FR.512)")
    try:
        extended = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return  # A00.FR.514: it is strongly recommended NOT to use Extended Key Usage
    purposes = {oid.dotted_string for oid in extended}
    if not purposes & {_CLIENT_AUTH, _ANY_EKU}:
        raise InvalidCertificate("the certificate's Extended Key Usage excludes TLS client authentication")


def _check_issued(child: Any, parent: Any, *, below: int) -> None:
    """``parent`` issued ``child`` (names, signature) and may issue at this depth."""
    from cryptography import exceptions, x509  # type: ignore[import-not-found, unused-ignore]

    name = parent.subject.rfc4514_string()
    if not _is_ca(parent):
        raise InvalidCertificate(f"{name} is not a CA certificate but issued one in the chain (RFC 5280 6.1.4)")
    try:
        usage = parent.extensions.get_extension_for_class(x509.KeyUsage).value
        if not usage.key_cert_sign:
            raise InvalidCertificate(f"{name} may not sign certificates (Key Usage without keyCertSign)")
    except x509.ExtensionNotFound:
        pass
    try:
        constraints = parent.extensions.get_extension_for_class(x509.BasicConstraints).value
        if constraints.path_length is not None and below > constraints.path_length:
            raise InvalidCertificate(f"{name}'s path length constraint {constraints.path_length} is exceeded")
    except x509.ExtensionNotFound:
        pass
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, exceptions.InvalidSignature) as exc:
        reason = "its signature does not verify" if isinstance(exc, exceptions.InvalidSignature) else str(exc)
        raise InvalidCertificate(f"{child.subject.rfc4514_string()} was not issued by {name}: {reason}") from None
