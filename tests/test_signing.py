"""Signed messages (runtime/signing.py): OCPP 2.0.1 / 2.1 Part 4 chapter 7, JWS per RFC 7515.

Keys and certificates are made here. The JWS is also checked with cryptography directly and
built by hand in the tests, so the module is held to RFC 7515/7518, not only to itself.
Decision 0012 records how the ambiguous points of chapter 7 are read.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509.oid import NameOID

from ocppgen.generated.runtime import frames
from ocppgen.generated.runtime.signing import (
    Algorithm,
    BadSignature,
    Certificate,
    CertificateMismatch,
    FlattenedJws,
    HeaderMismatch,
    MalformedJws,
    SigningKey,
    SigningKeyError,
    UnsupportedAlgorithm,
    _verifier,
    is_signed_payload,
    sign,
    sign_call,
    sign_result,
    signed_action,
    unsigned_action,
    unwrap_call,
    unwrap_result,
    verify,
)

MID = "19223201"
BOOT = b'{"reason":"PowerUp","chargingStation":{"model":"SingleSocketCharger","vendorName":"VendorX"}}'

Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Identity:
    """A key pair with a self-signed certificate, as PEM and as loaded objects."""

    key: Key
    cert: x509.Certificate

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def certificate(self) -> Certificate:
        return Certificate.load(self.cert_pem)

    def signer(self, algorithm: Algorithm | None = None, *, with_certificate: bool = True) -> SigningKey:
        return SigningKey(self.key_pem, self.cert_pem if with_certificate else None, algorithm=algorithm)


def identity(key: Key, cn: str) -> Identity:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return Identity(key, cert)


@pytest.fixture(scope="module")
def ec_id() -> Identity:
    return identity(ec.generate_private_key(ec.SECP256R1()), "CSMS signer EC")


@pytest.fixture(scope="module")
def rsa_id() -> Identity:
    return identity(rsa.generate_private_key(65537, 2048), "CSMS signer RSA")


@pytest.fixture(scope="module")
def other_id() -> Identity:
    return identity(ec.generate_private_key(ec.SECP256R1()), "someone else")


def jws_of(data: bytes) -> dict[str, Any]:
    obj = json.loads(data)
    assert isinstance(obj, dict)
    return obj


def header_of(jws: dict[str, Any]) -> dict[str, Any]:
    header = json.loads(b64d(jws["protected"]))
    assert isinstance(header, dict)
    return header


def hand_signed(identity: Identity, header: dict[str, Any], payload: bytes = BOOT, alg: str | None = None) -> bytes:
    """A Flattened JWS built here, independently of the module (RFC 7515 5.1, RFC 7518 3.3/3.4)."""
    protected = b64e(json.dumps(header).encode())
    body = b64e(payload)
    data = f"{protected}.{body}".encode()
    alg = alg or str(header.get("alg"))
    if isinstance(identity.key, ec.EllipticCurvePrivateKey):
        r, s = utils.decode_dss_signature(identity.key.sign(data, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        sig = identity.key.sign(data, padding.PKCS1v15(), hashes.SHA384() if alg == "RS384" else hashes.SHA256())
    return json.dumps({"protected": protected, "payload": body, "signature": b64e(sig)}).encode()


def ocpp_header(identity: Identity, alg: str, **extra: Any) -> dict[str, Any]:
    header = {"alg": alg, "OCPPAction": "BootNotification", "OCPPMessageTypedId": MID}
    header["x5t#S256"] = identity.certificate.thumbprint
    header.update(extra)
    return header


# -- round trips (7.1, 7.3) ---------------------------------------------------------------------

CASES = [("ES256", "ec_id"), ("RS256", "rsa_id"), ("RS384", "rsa_id")]


@pytest.mark.parametrize(("alg", "who"), CASES)
def test_a_signed_call_round_trips(alg: Algorithm, who: str, request: pytest.FixtureRequest) -> None:
    signer_id: Identity = request.getfixturevalue(who)
    action, payload = sign_call("BootNotification", MID, BOOT, signer_id.signer(alg))
    assert action == "BootNotification-Signed"  # 7.1: "<Action>" + "-Signed"

    jws = jws_of(payload)
    assert set(jws) == {"protected", "payload", "signature"}  # Flattened JWS JSON Serialization
    fingerprint = b64e(signer_id.cert.fingerprint(hashes.SHA256()))  # RFC 7515 4.1.8, Part 4 7.4
    assert header_of(jws) == {"alg": alg, "OCPPAction": "BootNotification", "OCPPMessageTypedId": MID, "x5t#S256": fingerprint}
    assert b64d(jws["payload"]) == BOOT  # 7.1: the JWS Payload is the ordinary payload

    # The signature is RFC 7518's, checked with cryptography directly.
    data = f"{jws['protected']}.{jws['payload']}".encode()
    sig = b64d(jws["signature"])
    public = signer_id.cert.public_key()
    if alg == "ES256":
        assert isinstance(public, ec.EllipticCurvePublicKey) and len(sig) == 64  # R || S (RFC 7518 3.4)
        der = utils.encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        public.verify(der, data, ec.ECDSA(hashes.SHA256()))
    else:
        assert isinstance(public, rsa.RSAPublicKey)
        public.verify(sig, data, padding.PKCS1v15(), hashes.SHA384() if alg == "RS384" else hashes.SHA256())

    verified = unwrap_call(action, MID, payload, [signer_id.certificate])
    assert verified.action == "BootNotification" and verified.message_id == MID
    assert verified.payload == BOOT and verified.algorithm == alg
    assert verified.certificate.thumbprint == fingerprint
    assert verified.certificate.der == signer_id.cert.public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize(("alg", "who"), CASES)
def test_a_jws_built_by_hand_verifies(alg: str, who: str, request: pytest.FixtureRequest) -> None:
    signer_id: Identity = request.getfixturevalue(who)
    payload = hand_signed(signer_id, ocpp_header(signer_id, alg))
    assert unwrap_call("BootNotification-Signed", MID, payload, [signer_id.certificate]).payload == BOOT


def test_es256_reads_the_rfc_7515_appendix_a3_signature() -> None:
    # Known answer: RFC 7515 A.3 (the key is given there as a JWK; here it gets a certificate).
    d = int.from_bytes(b64d("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"), "big")
    key = ec.derive_private_key(d, ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    assert b64e(numbers.x.to_bytes(32, "big")) == "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
    cert = identity(key, "RFC 7515 A.3").cert.public_bytes(serialization.Encoding.DER)
    check = _verifier(cert, "ES256")
    assert not isinstance(check, str)
    signing_input = (
        b"eyJhbGciOiJFUzI1NiJ9."
        b"eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    )
    signature = b64d("DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q")
    assert check(signing_input, signature)
    assert not check(signing_input + b"x", signature)


def test_a_signed_call_travels_in_an_ordinary_four_element_frame(ec_id: Identity) -> None:
    # Decision 0012: the "{<Extension>}" element of the frame printed in 7.1 is not sent.
    wire = frames.encode_call(frames.CALL, MID, *sign_call("Authorize", MID, b'{"idToken":{"idToken":"A","type":"ISO14443"}}', ec_id.signer()))
    frame = frames.decode_frame(wire)
    assert isinstance(frame, frames.Call) and len(json.loads(wire)) == 4
    assert unsigned_action(frame.action) == "Authorize"
    verified = unwrap_call(frame.action, frame.message_id, bytes(frame.payload), [ec_id.certificate])
    assert verified.action == "Authorize" and json.loads(verified.payload)["idToken"]["idToken"] == "A"


def test_a_signed_send_uses_the_same_form(ec_id: Identity) -> None:
    # 2.1 SEND [6, id, action, payload]: signed like a CALL.
    wire = frames.encode_call(frames.SEND, MID, *sign_call("NotifyPeriodicEventStream", MID, b'{"id":1}', ec_id.signer()))
    frame = frames.decode_frame(wire)
    assert isinstance(frame, frames.Send)
    assert unwrap_call(frame.action, frame.message_id, bytes(frame.payload), [ec_id.certificate]).payload == b'{"id":1}'


def test_a_signed_callresult_names_the_action_of_the_call(rsa_id: Identity) -> None:
    # 7.2: a station that supports signing answers a signed request with a signed reply. A
    # CALLRESULT has no action; OCPPAction carries the action of the CALL it answers.
    response = b'{"currentTime":"2026-01-01T00:00:00Z","interval":300,"status":"Accepted"}'
    wire = frames.encode_result(MID, sign_result("BootNotification", MID, response, rsa_id.signer()))
    frame = frames.decode_frame(wire)
    assert isinstance(frame, frames.CallResult)
    payload = bytes(frame.payload)
    assert is_signed_payload(payload) and not is_signed_payload(response)
    assert header_of(jws_of(payload))["OCPPAction"] == "BootNotification"
    assert unwrap_result("BootNotification", MID, payload, [rsa_id.certificate]).payload == response
    with pytest.raises(HeaderMismatch, match="OCPPAction is 'BootNotification', the frame is 'Heartbeat'"):
        unwrap_result("Heartbeat", MID, payload, [rsa_id.certificate])


def test_action_names() -> None:
    assert signed_action("BootNotification") == "BootNotification-Signed"
    assert unsigned_action("BootNotification-Signed") == "BootNotification"
    assert unsigned_action("BootNotification") is None
    assert unsigned_action("-Signed") is None
    with pytest.raises(ValueError, match="not a signed action"):
        unwrap_call("BootNotification", MID, b"{}", [])


# -- what verification refuses --------------------------------------------------------------------


def test_a_tampered_payload_is_a_bad_signature(ec_id: Identity) -> None:
    _, payload = sign_call("BootNotification", MID, BOOT, ec_id.signer())
    jws = jws_of(payload)
    jws["payload"] = b64e(BOOT.replace(b"PowerUp", b"Watchdog"))
    with pytest.raises(BadSignature, match="ES256 signature does not verify"):
        unwrap_call("BootNotification-Signed", MID, json.dumps(jws).encode(), [ec_id.certificate])


@pytest.mark.parametrize(("alg", "who"), CASES)
def test_a_tampered_signature_is_a_bad_signature(alg: Algorithm, who: str, request: pytest.FixtureRequest) -> None:
    signer_id: Identity = request.getfixturevalue(who)
    _, payload = sign_call("BootNotification", MID, BOOT, signer_id.signer(alg))
    jws = jws_of(payload)
    sig = bytearray(b64d(jws["signature"]))
    sig[5] ^= 0x01
    jws["signature"] = b64e(bytes(sig))
    with pytest.raises(BadSignature):
        unwrap_call("BootNotification-Signed", MID, json.dumps(jws).encode(), [signer_id.certificate])


def test_a_tampered_header_is_a_bad_signature(ec_id: Identity) -> None:
    # Someone rewrites the action in both the header and the frame: the signature breaks.
    _, payload = sign_call("BootNotification", MID, BOOT, ec_id.signer())
    jws = jws_of(payload)
    header = header_of(jws)
    header["OCPPAction"] = "Authorize"
    jws["protected"] = b64e(json.dumps(header).encode())
    with pytest.raises(BadSignature):
        unwrap_call("Authorize-Signed", MID, json.dumps(jws).encode(), [ec_id.certificate])


def test_a_signature_lifted_onto_another_frame_is_a_header_mismatch(ec_id: Identity) -> None:
    # 7.1: the header names the action and message id; a valid JWS pasted into another frame fails.
    _, payload = sign_call("RequestStartTransaction", MID, b'{"idToken":{"idToken":"A","type":"Central"},"remoteStartId":1}', ec_id.signer())
    with pytest.raises(HeaderMismatch, match="OCPPAction is 'RequestStartTransaction', the frame is 'RequestStopTransaction'"):
        unwrap_call("RequestStopTransaction-Signed", MID, payload, [ec_id.certificate])
    with pytest.raises(HeaderMismatch, match="OCPPMessageTypedId is '19223201', the frame's message id is 'other-id'"):
        unwrap_call("RequestStartTransaction-Signed", "other-id", payload, [ec_id.certificate])


@pytest.mark.parametrize("alg", ["HS256", "none", "ES384", "PS256", "EdDSA"])
def test_algorithms_other_than_es256_rs256_rs384_are_refused(rsa_id: Identity, alg: str) -> None:
    # 7.3. HS256 keyed with the public certificate is the classic algorithm-confusion forgery.
    header = b64e(json.dumps(ocpp_header(rsa_id, alg)).encode())
    body = b64e(BOOT)
    if alg == "HS256":
        mac = hmac.new(rsa_id.cert_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
        signature = b64e(mac)
    else:
        signature = ""
    forged = json.dumps({"protected": header, "payload": body, "signature": signature}).encode()
    with pytest.raises(UnsupportedAlgorithm, match=f"alg '{alg}' is not allowed"):
        unwrap_call("BootNotification-Signed", MID, forged, [rsa_id.certificate])


def test_an_alg_the_certificate_key_cannot_verify_is_a_certificate_mismatch(ec_id: Identity, rsa_id: Identity) -> None:
    # An RSA signature claiming the EC certificate's thumbprint, and the reverse.
    claim_ec = hand_signed(rsa_id, ocpp_header(ec_id, "RS256"))
    with pytest.raises(CertificateMismatch, match="RS256 needs RSA"):
        unwrap_call("BootNotification-Signed", MID, claim_ec, [ec_id.certificate, rsa_id.certificate])
    claim_rsa = hand_signed(ec_id, ocpp_header(rsa_id, "ES256"))
    with pytest.raises(CertificateMismatch, match="ES256 needs EC P-256"):
        unwrap_call("BootNotification-Signed", MID, claim_rsa, [ec_id.certificate, rsa_id.certificate])


def test_a_thumbprint_that_names_no_given_certificate_is_a_certificate_mismatch(ec_id: Identity, other_id: Identity) -> None:
    _, payload = sign_call("BootNotification", MID, BOOT, ec_id.signer())
    with pytest.raises(CertificateMismatch, match="names none of the certificates given"):
        unwrap_call("BootNotification-Signed", MID, payload, [other_id.certificate])


def test_a_thumbprint_of_a_trusted_certificate_on_someone_elses_signature_is_bad(ec_id: Identity, other_id: Identity) -> None:
    # other_id signs but claims ec_id's certificate: verified with ec_id's key, it fails.
    forged = hand_signed(other_id, ocpp_header(ec_id, "ES256"))
    with pytest.raises(BadSignature, match=f"the certificate {ec_id.certificate.thumbprint}"):
        unwrap_call("BootNotification-Signed", MID, forged, [ec_id.certificate, other_id.certificate])


def test_without_a_thumbprint_each_given_certificate_is_tried(ec_id: Identity, rsa_id: Identity, other_id: Identity) -> None:
    # x5t#S256 is a SHOULD (7.1, 7.4): without it the verifier tries what it trusts.
    _, payload = sign_call("BootNotification", MID, BOOT, ec_id.signer(with_certificate=False))
    assert "x5t#S256" not in header_of(jws_of(payload))
    verified = unwrap_call("BootNotification-Signed", MID, payload, [other_id.certificate, rsa_id.certificate, ec_id.certificate])
    assert verified.certificate == ec_id.certificate
    with pytest.raises(BadSignature, match="any of 2 certificates"):
        unwrap_call("BootNotification-Signed", MID, payload, [other_id.certificate, rsa_id.certificate])
    with pytest.raises(CertificateMismatch, match="no certificate given"):
        unwrap_call("BootNotification-Signed", MID, payload, [])


def test_the_other_reading_of_ocppmessagetypedid_is_accepted_only_on_request(ec_id: Identity) -> None:
    # Decision 0012: we send the message id; a peer that sends the MessageTypeId number (the
    # placeholder "<MessageTypeId>" in 7.1) is accepted when the caller passes message_type.
    payload = hand_signed(ec_id, ocpp_header(ec_id, "ES256", OCPPMessageTypedId=2))
    with pytest.raises(HeaderMismatch, match="OCPPMessageTypedId is 2"):
        unwrap_call("BootNotification-Signed", MID, payload, [ec_id.certificate])
    assert unwrap_call("BootNotification-Signed", MID, payload, [ec_id.certificate], message_type=2).payload == BOOT
    with pytest.raises(HeaderMismatch):
        unwrap_call("BootNotification-Signed", MID, payload, [ec_id.certificate], message_type=3)


def _variant(ec_id: Identity, change: str) -> bytes:
    _, payload = sign_call("BootNotification", MID, BOOT, ec_id.signer())
    jws = jws_of(payload)
    if change == "not json":
        return b"BootNotification"
    if change == "no signature":
        del jws["signature"]
    elif change == "general serialization":
        jws = {"payload": jws["payload"], "signatures": [{"protected": jws["protected"], "signature": jws["signature"]}]}
    elif change == "padded base64":
        jws["signature"] += "=="
    elif change == "standard base64":
        jws["payload"] = base64.b64encode(b"\xfb\xff" + BOOT).decode().rstrip("=")
    elif change == "header not json":
        jws["protected"] = b64e(b"alg=ES256")
    elif change == "header not an object":
        jws["protected"] = b64e(b'["ES256"]')
    elif change == "duplicate header name":
        jws["protected"] = b64e(
            b'{"alg":"ES256","OCPPAction":"Authorize","OCPPAction":"BootNotification","OCPPMessageTypedId":"19223201"}'
        )
    elif change == "no alg":
        jws["protected"] = b64e(b'{"OCPPAction":"BootNotification","OCPPMessageTypedId":"19223201"}')
    elif change == "no OCPPAction":
        jws["protected"] = b64e(b'{"alg":"ES256","OCPPMessageTypedId":"19223201"}')
    elif change == "unknown crit":
        header = header_of(jws) | {"crit": ["b64"], "b64": False}
        jws["protected"] = b64e(json.dumps(header).encode())
    elif change == "unprotected header repeats a protected name":
        jws["header"] = {"OCPPAction": "Authorize"}
    return json.dumps(jws).encode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("not json", "not a Flattened JWS"),
        ("no signature", "not a Flattened JWS"),
        ("general serialization", "not a Flattened JWS"),
        ("padded base64", "signature is not base64url without padding"),
        ("standard base64", "payload is not base64url"),
        ("header not json", "protected header is not UTF-8 JSON"),
        ("header not an object", "protected header is not a JSON object"),
        ("duplicate header name", "'OCPPAction' twice"),
        ("no alg", "has no alg"),
        ("no OCPPAction", "has no OCPPAction"),
        ("unknown crit", "crit lists b64"),
        ("unprotected header repeats a protected name", "OCPPAction in both"),
    ],
)
def test_malformed_jws_is_refused(ec_id: Identity, change: str, message: str) -> None:
    with pytest.raises(MalformedJws, match=message):
        unwrap_call("BootNotification-Signed", MID, _variant(ec_id, change), [ec_id.certificate])


def test_crit_may_list_the_ocpp_header_fields(ec_id: Identity) -> None:
    header = ocpp_header(ec_id, "ES256", crit=["OCPPAction", "OCPPMessageTypedId"])
    assert unwrap_call("BootNotification-Signed", MID, hand_signed(ec_id, header), [ec_id.certificate]).payload == BOOT


def test_unknown_members_and_unprotected_header_are_ignored(ec_id: Identity) -> None:
    # RFC 7515 7.2.1: members not understood are ignored; nothing is taken from "header".
    _, payload = sign_call("BootNotification", MID, BOOT, ec_id.signer())
    jws = jws_of(payload) | {"header": {"kid": "k1"}, "x-vendor": 1}
    verified = unwrap_call("BootNotification-Signed", MID, json.dumps(jws).encode(), [ec_id.certificate])
    assert verified.payload == BOOT and "kid" not in verified.header


def test_verify_takes_the_decoded_object_or_text(ec_id: Identity) -> None:
    jws = sign(BOOT, action="BootNotification", message_id=MID, signer=ec_id.signer())
    assert isinstance(jws, FlattenedJws)
    for form in (jws, msgspec.json.encode(jws), msgspec.json.encode(jws).decode()):
        assert verify(form, action="BootNotification", message_id=MID, certificates=[ec_id.certificate]).payload == BOOT


# -- keys and signers ----------------------------------------------------------------------------


class HsmSigner:
    """A Signer that is not a SigningKey (a key that never leaves its chip, 7.4)."""

    def __init__(self, identity: Identity) -> None:
        assert isinstance(identity.key, ec.EllipticCurvePrivateKey)
        self._key = identity.key
        self.algorithm: Algorithm = "ES256"
        self.thumbprint: str | None = identity.certificate.thumbprint

    def sign(self, signing_input: bytes) -> bytes:
        r, s = utils.decode_dss_signature(self._key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def test_any_signer_can_sign(ec_id: Identity) -> None:
    action, payload = sign_call("MeterValues", MID, b'{"evseId":1,"meterValue":[]}', HsmSigner(ec_id))
    assert unwrap_call(action, MID, payload, [ec_id.certificate]).payload == b'{"evseId":1,"meterValue":[]}'


def test_signing_keys_ocpp_does_not_allow_are_refused(ec_id: Identity, rsa_id: Identity, other_id: Identity) -> None:
    p384 = identity(ec.generate_private_key(ec.SECP384R1()), "P-384")
    with pytest.raises(SigningKeyError, match="P-256"):
        p384.signer()
    weak = identity(rsa.generate_private_key(65537, 1024), "weak")
    with pytest.raises(SigningKeyError, match="2048 bits"):
        weak.signer()
    with pytest.raises(SigningKeyError, match="signs ES256, not RS256"):
        ec_id.signer("RS256")
    with pytest.raises(SigningKeyError, match="signs RS256 or RS384, not ES256"):
        rsa_id.signer("ES256")
    with pytest.raises(SigningKeyError, match="not the certificate of this private key"):
        SigningKey(ec_id.key_pem, other_id.cert_pem)
    with pytest.raises(SigningKeyError, match="cannot load the private key"):
        SigningKey(b"-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----\n", None)

    class Hs256:
        algorithm = "HS256"
        thumbprint = None

        def sign(self, signing_input: bytes) -> bytes:
            return b""

    with pytest.raises(SigningKeyError, match="HS256"):
        sign(BOOT, action="BootNotification", message_id=MID, signer=Hs256())  # type: ignore[arg-type]


def test_keys_and_certificates_load_from_der_too(rsa_id: Identity) -> None:
    der_key = rsa_id.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    der_cert = rsa_id.cert.public_bytes(serialization.Encoding.DER)
    signer = SigningKey(der_key, der_cert, algorithm="RS384")
    assert signer.algorithm == "RS384" and signer.thumbprint == Certificate(der_cert).thumbprint
    assert Certificate.load(der_cert) == Certificate.load(rsa_id.cert_pem.decode())


def test_certificates_load_from_a_pem_bundle(ec_id: Identity, rsa_id: Identity) -> None:
    bundle = ec_id.cert_pem + b"\n" + rsa_id.cert_pem
    assert Certificate.load_all(bundle) == [ec_id.certificate, rsa_id.certificate]
    assert Certificate.load(bundle) == ec_id.certificate
    with pytest.raises(SigningKeyError, match="no PEM certificate"):
        Certificate.load("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def test_trusted_certificates_may_be_a_mapping_by_thumbprint(ec_id: Identity, rsa_id: Identity, other_id: Identity) -> None:
    trusted = {c.thumbprint: c for c in (ec_id.certificate, rsa_id.certificate)}
    _, payload = sign_call("BootNotification", MID, BOOT, rsa_id.signer("RS384"))
    assert unwrap_call("BootNotification-Signed", MID, payload, trusted).certificate == rsa_id.certificate
    _, unnamed = sign_call("BootNotification", MID, BOOT, ec_id.signer(with_certificate=False))
    assert unwrap_call("BootNotification-Signed", MID, unnamed, trusted).certificate == ec_id.certificate
    _, stranger = sign_call("BootNotification", MID, BOOT, other_id.signer())
    with pytest.raises(CertificateMismatch, match="names none"):
        unwrap_call("BootNotification-Signed", MID, stranger, trusted)
    # a mapping whose key lies about the certificate does not smuggle it in
    with pytest.raises(CertificateMismatch, match="names none"):
        unwrap_call("BootNotification-Signed", MID, stranger, {other_id.certificate.thumbprint: ec_id.certificate})


def test_a_non_string_alg_is_malformed(ec_id: Identity) -> None:
    forged = hand_signed(ec_id, ocpp_header(ec_id, "ES256") | {"alg": ["ES256"]}, alg="ES256")
    with pytest.raises(MalformedJws, match="alg must be a string"):
        unwrap_call("BootNotification-Signed", MID, forged, [ec_id.certificate])
