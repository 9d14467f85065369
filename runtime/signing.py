"""Signed messages (OCPP 2.0.1 and 2.1 Part 4 chapter 7): JWS per RFC 7515, as pure functions.

A signed message is the ordinary frame with the action renamed and the payload replaced by
the Flattened JWS JSON Serialization (RFC 7515 section 7.2.2) of the ordinary payload:

    [2, "19223201", "BootNotification",        {"reason": "PowerUp", ...}]
    [2, "19223201", "BootNotification-Signed", {"protected": "...", "payload": "...", "signature": "..."}]
    [3, "19223201",                            {"protected": "...", "payload": "...", "signature": "..."}]

The protected header carries ``alg``, ``OCPPAction`` (the ordinary action), ``OCPPMessageTypedId``
(the message id; the field name is the chapter's own spelling) and ``x5t#S256`` (base64url of
the SHA-256 of the signing certificate's DER, 7.4). Algorithms: ES256, RS256, RS384 only (7.3).
How this module reads the chapter where it is ambiguous (the five-element frame it prints, the
field's name and value, the signed CALLRESULT, errors, SEND) is decision 0012.

No I/O, no clock: the caller chooses which certificates it trusts (looking them up by
thumbprint is out of scope, 7.4) and passes them in. Thumbprints and certificates are handled
with the standard library; signing and verifying import the ``cryptography`` package when
first used (an optional dependency: :class:`SigningUnavailable` says so when it is missing).

Errors (beside the tree in errors.py):

    OcppError
    +-- SignatureError            an inbound signed message failed; nothing of it may be used
    |   +-- MalformedJws          not a Flattened JWS: JSON, base64url, header, crit
    |   +-- UnsupportedAlgorithm  alg is not ES256, RS256 or RS384 (none, HS256, ...)
    |   +-- HeaderMismatch        OCPPAction / OCPPMessageTypedId differ from the frame's
    |   +-- CertificateMismatch   x5t#S256 names none of the given certificates, or the
    |   |                         certificate's key cannot verify alg
    |   +-- BadSignature          the signature does not verify
    +-- LocalError
        +-- SigningUnavailable    the cryptography package is not installed (an ImportError)
        +-- SigningKeyError       a key, certificate or alg that cannot sign (a ValueError)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import ssl
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, Protocol, TypeAlias, cast

import msgspec

from .errors import LocalError, OcppError

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "BadSignature",
    "Certificate",
    "CertificateMismatch",
    "FlattenedJws",
    "HEADER_ACTION",
    "HEADER_MESSAGE_ID",
    "HEADER_THUMBPRINT",
    "HeaderMismatch",
    "MalformedJws",
    "SIGNED_SUFFIX",
    "SigningPolicy",
    "SignatureError",
    "Signer",
    "SigningKey",
    "SigningKeyError",
    "SigningUnavailable",
    "UnsupportedAlgorithm",
    "Verified",
    "is_signed_payload",
    "sign",
    "sign_call",
    "sign_result",
    "signed_action",
    "thumbprint",
    "unsigned_action",
    "unwrap_call",
    "unwrap_result",
    "verify",
]

Algorithm: TypeAlias = Literal["ES256", "RS256", "RS384"]
"""The JWS algorithms OCPP allows (Part 4 section 7.3, RFC 7518 section 3.1)."""

ALGORITHMS: frozenset[str] = frozenset({"ES256", "RS256", "RS384"})
SIGNED_SUFFIX = "-Signed"
HEADER_ACTION = "OCPPAction"
HEADER_MESSAGE_ID = "OCPPMessageTypedId"  # sic: Part 4 section 7.1 in 2.0.1 and 2.1 spells it so
HEADER_THUMBPRINT = "x5t#S256"

# Protected-header names this module understands, so a signer may list them in "crit".
_UNDERSTOOD = frozenset({HEADER_ACTION, HEADER_MESSAGE_ID})


# -- errors ------------------------------------------------------------------------------------


class SignatureError(OcppError):
    """An inbound signed message failed verification; neither its payload nor its signer is usable."""


class MalformedJws(SignatureError):
    """Not a Flattened JWS JSON Serialization OCPP can use (JSON, base64url, header members)."""


class UnsupportedAlgorithm(SignatureError):
    """The protected header's ``alg`` is not one of ES256, RS256, RS384 (Part 4 section 7.3)."""


class HeaderMismatch(SignatureError):
    """``OCPPAction`` or ``OCPPMessageTypedId`` differs from the frame that carried the JWS."""


class CertificateMismatch(SignatureError):
    """No given certificate matches ``x5t#S256``, or its key cannot verify the header's ``alg``."""


class BadSignature(SignatureError):
    """The signature does not verify: the payload or header changed, or another key signed."""


class SigningUnavailable(LocalError, ImportError):
    """Signing and verifying need the ``cryptography`` package, which is not installed."""


class SigningKeyError(LocalError, ValueError):
    """A key, certificate or algorithm that cannot produce an OCPP signature."""


# -- certificates and thumbprints ---------------------------------------------------------------


def thumbprint(der: bytes) -> str:
    """The ``x5t#S256`` of a certificate given as ``der``: base64url of the SHA-256 of its DER
    (RFC 7515 4.1.8)."""
    return _b64e(hashlib.sha256(der).digest())


_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*-----END CERTIFICATE-----")


@dataclass(frozen=True)
class Certificate:
    """An X.509 certificate (DER) and its ``x5t#S256`` thumbprint: the identity of a signer.

    :param der: the certificate's DER encoding.
    """

    der: bytes = field(repr=False)
    thumbprint: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "thumbprint", thumbprint(self.der))

    @classmethod
    def load(cls, data: bytes | str) -> Certificate:
        """One certificate: the first PEM block of ``data``, or ``data`` itself as DER.

        :param data: PEM text or bytes ("-----BEGIN CERTIFICATE-----", A00.FR.507) or DER bytes.
        :raises SigningKeyError: PEM without a certificate block.
        """
        if isinstance(data, bytes) and not data.lstrip().startswith(b"-----BEGIN"):
            return cls(data)
        found = cls.load_all(data)
        if not found:
            raise SigningKeyError("no PEM certificate block found")
        return found[0]

    @classmethod
    def load_all(cls, pem: bytes | str) -> list[Certificate]:
        """Every certificate of a PEM bundle, in order (e.g. the signers a CSMS trusts).

        :param pem: PEM text or bytes with zero or more "CERTIFICATE" blocks.
        """
        text = pem.decode("ascii", "replace") if isinstance(pem, bytes) else pem
        try:
            return [cls(ssl.PEM_cert_to_DER_cert(m.group(0))) for m in _PEM_CERT.finditer(text)]
        except (ValueError, binascii.Error) as exc:
            raise SigningKeyError(f"a PEM certificate block is not base64: {exc}") from None


# -- signers -----------------------------------------------------------------------------------


class Signer(Protocol):
    """What produces a signature: :class:`SigningKey`, or your own (an HSM, a metering chip).

    Part 4 section 7.4: the keys are not prescribed, and a signing certificate may live in a
    calibrated measuring chip, so signing is behind this protocol.
    """

    @property
    def algorithm(self) -> Algorithm:
        """The JWS ``alg`` this signer produces."""
        ...

    @property
    def thumbprint(self) -> str | None:
        """The ``x5t#S256`` of the signing certificate (SHOULD be sent, 7.4), or None."""
        ...

    def sign(self, signing_input: bytes) -> bytes:
        """The JWS signature of ``signing_input`` (ES256: the 64-byte R || S of RFC 7518 3.4)."""
        ...


class SigningKey:
    """A software private key and its certificate, loaded once, that signs per RFC 7518.

    :param private_key: the private key, PEM (PKCS#8 or traditional) or DER bytes. An EC
        key must be on P-256 (ES256); an RSA key must have 2048 bits or more (RS256/RS384,
        RFC 7518 section 3.3).
    :param certificate: the certificate of that key (PEM, DER or :class:`Certificate`); its
        thumbprint goes in ``x5t#S256``. None leaves ``x5t#S256`` out (allowed: a SHOULD),
        which makes the verifier try every certificate it has.
    :param algorithm: ES256 for an EC key; RS256 (default) or RS384 for an RSA key.
    :param password: the private key's password, if it is encrypted.
    :raises SigningKeyError: a key type, curve, size or algorithm OCPP does not allow, or a
        certificate for another key.
    :raises SigningUnavailable: the cryptography package is missing.
    """

    def __init__(
        self,
        private_key: bytes,
        certificate: bytes | str | Certificate | None,
        *,
        algorithm: Algorithm | None = None,
        password: bytes | None = None,
    ) -> None:
        try:
            from cryptography import x509  # type: ignore[import-not-found, unused-ignore]
            from cryptography.hazmat.primitives import hashes, serialization  # type: ignore[import-not-found, unused-ignore]
            from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            raise SigningUnavailable(_MISSING) from None
        try:
            if private_key.lstrip().startswith(b"-----BEGIN"):
                key = serialization.load_pem_private_key(private_key, password)
            else:
                key = serialization.load_der_private_key(private_key, password)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(f"cannot load the private key: {exc}") from None
        cert = certificate if isinstance(certificate, Certificate) or certificate is None else Certificate.load(certificate)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            if not isinstance(key.curve, ec.SECP256R1):
                raise SigningKeyError(f"an EC signing key must be on P-256 for ES256, not {key.curve.name}")
            if algorithm not in (None, "ES256"):
                raise SigningKeyError(f"an EC P-256 key signs ES256, not {algorithm}")
            ec_key = key

            def sign_ec(data: bytes) -> bytes:
                r: int
                s: int
                r, s = utils.decode_dss_signature(ec_key.sign(data, ec.ECDSA(hashes.SHA256())))
                return r.to_bytes(32, "big") + s.to_bytes(32, "big")

            self._sign: Callable[[bytes], bytes] = sign_ec
            self.algorithm: Algorithm = "ES256"
        elif isinstance(key, rsa.RSAPrivateKey):
            if key.key_size < 2048:
                raise SigningKeyError(f"an RSA signing key needs 2048 bits or more (RFC 7518 3.3), not {key.key_size}")
            if algorithm not in (None, "RS256", "RS384"):
                raise SigningKeyError(f"an RSA key signs RS256 or RS384, not {algorithm}")
            rsa_key = key
            digest = hashes.SHA384() if algorithm == "RS384" else hashes.SHA256()

            def sign_rsa(data: bytes) -> bytes:
                signature: bytes = rsa_key.sign(data, padding.PKCS1v15(), digest)
                return signature

            self._sign = sign_rsa
            self.algorithm = algorithm or "RS256"
        else:
            raise SigningKeyError(f"OCPP signs with EC P-256 or RSA keys (Part 4 7.3), not {type(key).__name__}")
        if cert is not None:
            spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            try:
                certified = x509.load_der_x509_certificate(cert.der).public_key().public_bytes(*spki)
            except ValueError as exc:
                raise SigningKeyError(f"cannot read the certificate: {exc}") from None
            if certified != key.public_key().public_bytes(*spki):
                raise SigningKeyError("the certificate is not the certificate of this private key")
        self.certificate = cert
        self.thumbprint: str | None = cert.thumbprint if cert is not None else None

    def sign(self, signing_input: bytes) -> bytes:
        """The JWS signature of ``signing_input``.

        :param signing_input: ASCII(BASE64URL(protected) || "." || BASE64URL(payload)).
        """
        return self._sign(signing_input)

    def __repr__(self) -> str:
        return f"SigningKey({self.algorithm}, x5t#S256={self.thumbprint})"


# -- the JWS -----------------------------------------------------------------------------------


class FlattenedJws(msgspec.Struct, frozen=True, omit_defaults=True):
    """The Flattened JWS JSON Serialization (RFC 7515 section 7.2.2), the signed payload object.

    Members other than these are ignored, as RFC 7515 section 7.2.1 requires.

    Attributes:
        protected: The protected header, base64url of its JSON.
        payload: The signed payload, base64url of its exact bytes.
        signature: The signature, base64url.
        header: The unprotected header, if any (never used for OCPP fields).
    """

    protected: str
    payload: str
    signature: str
    header: dict[str, object] | None = None


_DECODER = msgspec.json.Decoder(FlattenedJws)
_ENCODER = msgspec.json.Encoder()


@dataclass(frozen=True)
class Verified:
    """A signed message that verified: what it says and who signed it.

    ``action`` is the ordinary action (``OCPPAction``), ``message_id`` the frame's id,
    ``payload`` the exact bytes that were signed (the ordinary JSON payload, to decode as
    usual), ``algorithm`` the JWS ``alg``, ``certificate`` the signer's certificate (one of those
    the caller trusted), ``header`` the whole protected header.
    """

    action: str
    message_id: str
    payload: bytes
    algorithm: Algorithm
    certificate: Certificate
    header: Mapping[str, object]


def sign(payload: bytes, *, action: str, message_id: str, signer: Signer) -> FlattenedJws:
    """The Flattened JWS of an OCPP payload (Part 4 section 7.1).

    :param payload: the ordinary JSON payload, encoded (UTF-8); it becomes the JWS Payload.
    :param action: the ordinary action (``OCPPAction``), e.g. "BootNotification"; for a
        CALLRESULT, the action of the CALL it answers.
    :param message_id: the frame's message id (``OCPPMessageTypedId``).
    :param signer: the key that signs (:class:`SigningKey` or your own :class:`Signer`).
    :raises SigningKeyError: the signer claims an algorithm OCPP does not allow.
    """
    alg = signer.algorithm
    if alg not in ALGORITHMS:
        raise SigningKeyError(f"alg {alg!r} is not allowed (Part 4 7.3: ES256, RS256, RS384)")
    header: dict[str, str] = {"alg": alg, HEADER_ACTION: action, HEADER_MESSAGE_ID: message_id}
    if signer.thumbprint is not None:
        header[HEADER_THUMBPRINT] = signer.thumbprint
    protected = _b64e(_ENCODER.encode(header))
    body = _b64e(payload)
    signature = signer.sign(f"{protected}.{body}".encode("ascii"))
    return FlattenedJws(protected=protected, payload=body, signature=_b64e(signature))


def verify(
    jws: FlattenedJws | bytes | str,
    *,
    action: str,
    message_id: str,
    certificates: Iterable[Certificate] | Mapping[str, Certificate],
    message_type: int | None = None,
) -> Verified:
    """Verify a Flattened JWS against the frame that carried it and the certificates trusted.

    :param jws: the signed payload object, decoded or as JSON text.
    :param action: the ordinary action the frame stands for (``X`` of ``X-Signed``; for a
        CALLRESULT the action of our CALL); ``OCPPAction`` must equal it.
    :param message_id: the frame's message id; ``OCPPMessageTypedId`` must equal it.
    :param certificates: the signing certificates the caller trusts, as a collection or as a
        mapping from thumbprint to certificate (one lookup per message for a large fleet).
        With ``x5t#S256`` in the header the one with that thumbprint is used; without it (a
        SHOULD), each is tried.
    :param message_type: pass the frame's MessageTypeId (2, 3, 6) to also accept a header
        whose ``OCPPMessageTypedId`` holds that number, the other reading of section 7.1 (see
        decision 0012); None (default) accepts only the message id.
    :returns: the verified payload bytes, the signer's certificate and the header.
    :raises MalformedJws, UnsupportedAlgorithm, HeaderMismatch, CertificateMismatch,
        BadSignature: see the module docstring; each message names what failed.
    :raises SigningUnavailable: the cryptography package is missing.
    """
    parsed = _parse(jws)
    header = _protected_header(parsed)
    alg = header.get("alg")
    if alg is None:
        raise MalformedJws("the protected header has no alg")
    if not isinstance(alg, str):
        raise MalformedJws(f"alg must be a string, not {alg!r}")
    if alg not in ALGORITHMS:
        raise UnsupportedAlgorithm(f"alg {alg!r} is not allowed (Part 4 7.3: ES256, RS256, RS384)")
    algorithm = cast(Algorithm, alg)
    _check_frame(header, action, message_id, message_type)

    named = header.get(HEADER_THUMBPRINT)
    if named is not None and not isinstance(named, str):
        raise MalformedJws(f"{HEADER_THUMBPRINT} must be a string")
    trusted = cast(Mapping[str, Certificate], certificates) if isinstance(certificates, Mapping) else None
    every = cast(Iterable[Certificate], certificates)
    candidates: list[Certificate]
    if named is None:
        candidates = list(trusted.values() if trusted is not None else every)
        if not candidates:
            raise CertificateMismatch(f"no {HEADER_THUMBPRINT} in the header and no certificate given")
    else:
        pool: Iterable[Certificate | None] = [trusted.get(named)] if trusted is not None else every
        candidates = [c for c in pool if c is not None and c.thumbprint == named]
        if not candidates:
            raise CertificateMismatch(f"{HEADER_THUMBPRINT} {named} names none of the certificates given")

    payload = _b64d(parsed.payload, "payload")
    signature = _b64d(parsed.signature, "signature")
    signing_input = f"{parsed.protected}.{parsed.payload}".encode("ascii")
    unusable: list[str] = []
    for cert in candidates:
        check = _verifier(cert.der, algorithm)
        if isinstance(check, str):
            unusable.append(f"{cert.thumbprint} {check}")
            continue
        if check(signing_input, signature):
            return Verified(action, message_id, payload, algorithm, cert, header)
    if len(unusable) == len(candidates):
        raise CertificateMismatch(f"no certificate can verify {algorithm}: {'; '.join(unusable)}")
    who = f"the certificate {named}" if named is not None else f"any of {len(candidates)} certificates"
    raise BadSignature(f"the {algorithm} signature does not verify with {who}")


# -- frame-level helpers -----------------------------------------------------------------------


def signed_action(action: str) -> str:
    """The signed equivalent of ``action``: "BootNotification" -> "BootNotification-Signed" (7.1)."""
    return action + SIGNED_SUFFIX


def unsigned_action(action: str) -> str | None:
    """``X`` for an inbound ``action`` "X-Signed", None for an ordinary action."""
    if action.endswith(SIGNED_SUFFIX) and len(action) > len(SIGNED_SUFFIX):
        return action[: -len(SIGNED_SUFFIX)]
    return None


def sign_call(action: str, message_id: str, payload: bytes, signer: Signer) -> tuple[str, bytes]:
    """Sign an outbound CALL (or 2.1 SEND): its new action and payload, ready for the frame.

    :param action: the ordinary action.
    :param message_id: the frame's message id (it stays the same, 7.1).
    :param payload: the ordinary payload, encoded.
    :param signer: the key that signs.
    :returns: ("<Action>-Signed", the Flattened JWS as JSON bytes), e.g. for
        ``frames.encode_call(CALL, message_id, *sign_call(...))``.
    """
    jws = sign(payload, action=action, message_id=message_id, signer=signer)
    return signed_action(action), _ENCODER.encode(jws)


def sign_result(action: str, message_id: str, payload: bytes, signer: Signer) -> bytes:
    """Sign an outbound CALLRESULT payload (a signed reply to a signed request, 7.2).

    :param action: the action of the CALL this answers (a CALLRESULT has none of its own);
        it goes in ``OCPPAction``.
    :param message_id: the message id of that CALL.
    :param payload: the ordinary response payload, encoded.
    :param signer: the key that signs.
    :returns: the Flattened JWS as JSON bytes, for ``frames.encode_result(message_id, ...)``.
    """
    return _ENCODER.encode(sign(payload, action=action, message_id=message_id, signer=signer))


def unwrap_call(
    action: str,
    message_id: str,
    payload: bytes,
    certificates: Iterable[Certificate] | Mapping[str, Certificate],
    *,
    message_type: int | None = None,
) -> Verified:
    """Verify an inbound "X-Signed" CALL (or SEND) and return ``X`` with the ordinary payload.

    :param action: the frame's action, "X-Signed".
    :param message_id: the frame's message id.
    :param payload: the frame's payload (the Flattened JWS), raw JSON bytes.
    :param certificates: the signing certificates trusted (see :func:`verify`).
    :param message_type: see :func:`verify`.
    :returns: ``Verified`` whose ``action`` is ``X`` and ``payload`` the bytes to decode as
        the ordinary request of ``X``; ``certificate`` is the signer.
    :raises ValueError: ``action`` does not end in "-Signed" (check :func:`unsigned_action`).
    :raises SignatureError: the signature, header or JWS is not acceptable (see :func:`verify`).
    """
    plain = unsigned_action(action)
    if plain is None:
        raise ValueError(f"{action!r} is not a signed action (no {SIGNED_SUFFIX!r} suffix)")
    return verify(payload, action=plain, message_id=message_id, certificates=certificates, message_type=message_type)


def unwrap_result(
    action: str,
    message_id: str,
    payload: bytes,
    certificates: Iterable[Certificate] | Mapping[str, Certificate],
    *,
    message_type: int | None = None,
) -> Verified:
    """Verify an inbound signed CALLRESULT and return the ordinary response payload.

    :param action: the ordinary action of the CALL we sent (not "-Signed").
    :param message_id: the frame's message id (that of our CALL).
    :param payload: the frame's payload (the Flattened JWS), raw JSON bytes; see
        :func:`is_signed_payload` to tell a signed reply from an ordinary one.
    :param certificates: the signing certificates trusted (see :func:`verify`).
    :param message_type: see :func:`verify`.
    :raises SignatureError: see :func:`verify`.
    """
    return verify(payload, action=action, message_id=message_id, certificates=certificates, message_type=message_type)


def is_signed_payload(payload: bytes) -> bool:
    """Whether a payload is a Flattened JWS (``protected``, ``payload`` and ``signature``
    strings) rather than an ordinary OCPP payload; no OCPP message has those three fields.

    :param payload: a frame's raw JSON payload (of a CALLRESULT, where no action tells).
    """
    if b'"signature"' not in payload or b'"protected"' not in payload:
        return False
    try:
        _DECODER.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return False
    return True


# -- internals ---------------------------------------------------------------------------------

_B64URL = re.compile(r"[A-Za-z0-9_-]*\Z")


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str, what: str) -> bytes:
    """base64url without padding (RFC 7515 section 2); anything else is malformed."""
    if not _B64URL.match(text) or len(text) % 4 == 1:
        raise MalformedJws(f"the {what} is not base64url without padding (RFC 7515 section 2)")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MalformedJws(f"the {what} is not base64url (RFC 7515 section 2)") from None


def _parse(jws: FlattenedJws | bytes | str) -> FlattenedJws:
    if isinstance(jws, FlattenedJws):
        return jws
    try:
        return _DECODER.decode(jws)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise MalformedJws(f"not a Flattened JWS JSON object (RFC 7515 7.2.2): {exc}") from None


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedJws(f"the protected header has {key!r} twice (RFC 7515 section 4)")
        result[key] = value
    return result


def _protected_header(jws: FlattenedJws) -> dict[str, object]:
    raw = _b64d(jws.protected, "protected header")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, MalformedJws):
            raise
        raise MalformedJws(f"the protected header is not UTF-8 JSON: {exc}") from None
    if not isinstance(header, dict):
        raise MalformedJws("the protected header is not a JSON object")
    if jws.header:
        both = sorted(set(jws.header) & set(header))
        if both:  # RFC 7515 section 7.2.1: the two header sets are disjoint
            raise MalformedJws(f"{', '.join(both)} in both the protected and the unprotected header")
    crit = header.get("crit")
    if crit is not None:  # RFC 7515 section 4.1.11
        if not isinstance(crit, list) or not crit or not all(isinstance(n, str) for n in crit):
            raise MalformedJws("crit must be a non-empty list of header names")
        unknown = sorted(set(crit) - _UNDERSTOOD)
        if unknown:
            raise MalformedJws(f"crit lists {', '.join(unknown)}, which this implementation does not support")
    return cast(dict[str, object], header)


def _check_frame(header: Mapping[str, object], action: str, message_id: str, message_type: int | None) -> None:
    """Part 4 section 7.1: the protected header names the frame's action and message id."""
    for name in (HEADER_ACTION, HEADER_MESSAGE_ID):
        if name not in header:
            raise MalformedJws(f"the protected header has no {name} (Part 4 7.1)")
    signed_for = header[HEADER_ACTION]
    if signed_for != action:
        raise HeaderMismatch(f"{HEADER_ACTION} is {signed_for!r}, the frame is {action!r}")
    value = header[HEADER_MESSAGE_ID]
    if value == message_id and isinstance(value, str):
        return
    if message_type is not None and isinstance(value, int) and not isinstance(value, bool) and value == message_type:
        return
    raise HeaderMismatch(f"{HEADER_MESSAGE_ID} is {value!r}, the frame's message id is {message_id!r}")


_MISSING = "signed messages need the 'cryptography' package: pip install cryptography"


@lru_cache(maxsize=256)
def _verifier(der: bytes, alg: Algorithm) -> Callable[[bytes, bytes], bool] | str:
    """A function (signing input, signature) -> valid? for a certificate and an alg, or why
    its key cannot verify that alg (RFC 7518 3.3/3.4). Cached: a peer's signer repeats."""
    try:
        from cryptography import x509  # type: ignore[import-not-found, unused-ignore]
        from cryptography.exceptions import InvalidSignature  # type: ignore[import-not-found, unused-ignore]
        from cryptography.hazmat.primitives import hashes  # type: ignore[import-not-found, unused-ignore]
        from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise SigningUnavailable(_MISSING) from None
    try:
        key = x509.load_der_x509_certificate(der).public_key()
    except ValueError as exc:
        return f"cannot be read: {exc}"
    if alg == "ES256":
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
            return f"has {_describe(key)}; ES256 needs EC P-256"
        ec_key = key

        def verify_ec(data: bytes, signature: bytes) -> bool:
            if len(signature) != 64:  # RFC 7518 3.4: R || S, 32 octets each
                return False
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            try:
                ec_key.verify(utils.encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                return False
            return True

        return verify_ec
    if not isinstance(key, rsa.RSAPublicKey):
        return f"has {_describe(key)}; {alg} needs RSA"
    if key.key_size < 2048:
        return f"has an RSA key of {key.key_size} bits; {alg} needs 2048 or more"
    rsa_key = key
    digest = hashes.SHA384() if alg == "RS384" else hashes.SHA256()

    def verify_rsa(data: bytes, signature: bytes) -> bool:
        try:
            rsa_key.verify(signature, data, padding.PKCS1v15(), digest)
        except InvalidSignature:
            return False
        return True

    return verify_rsa


def _describe(key: object) -> str:
    curve = getattr(key, "curve", None)
    return f"an EC {curve.name} key" if curve is not None else f"a {type(key).__name__}"


@dataclass(frozen=True)
class SigningPolicy:
    """When a link signs and what it requires (``Options.signing``; 2.x Part 4 chapter 7).

    :param signer: our key and certificate (None: this side only verifies).
    :param trusted: the certificates whose signatures this side accepts (by their
        ``x5t#S256``); a signature by any other key is refused.
    :param sign: the outbound CALL/SEND actions sent signed (True: all of them).
    :param require: the inbound CALL/SEND actions that must come signed (True: all); an
        unsigned one is answered SecurityError.
    :param answer_signed: answer a signed request with a signed reply (7.2) when ``signer``
        is set.
    """

    signer: Signer | None = None
    trusted: Iterable[Certificate] | Mapping[str, Certificate] = ()
    sign: bool | frozenset[str] = False
    require: bool | frozenset[str] = False
    answer_signed: bool = True

    def signs(self, action: str) -> bool:
        """Whether an outbound ``action`` goes signed."""
        return self.signer is not None and (self.sign is True or (isinstance(self.sign, frozenset) and action in self.sign))

    def requires(self, action: str) -> bool:
        """Whether an inbound ``action`` must come signed."""
        return self.require is True or (isinstance(self.require, frozenset) and action in self.require)
